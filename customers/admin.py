from __future__ import annotations

from django.contrib import admin

from customers.models import (
    Association,
    ChangeRequest,
    Customer,
    CustomerMembership,
    UsageSnapshot,
)


class CustomerMembershipInline(admin.TabularInline):
    model = CustomerMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant_id", "segment", "seats"]
    list_filter = ["segment"]
    search_fields = ["name", "tenant_id"]
    inlines = [CustomerMembershipInline]


@admin.register(Association)
class AssociationAdmin(admin.ModelAdmin):
    list_display = [
        "customer",
        "workload",
        "partner",
        "since",
        "ended_on",
        "origin",
        "active_usage_pct",
    ]
    list_filter = ["workload", "ended_on", "origin"]
    search_fields = ["customer__name", "partner__name"]
    autocomplete_fields = ["customer", "partner", "workload"]
    raw_id_fields = ["source_claim"]
    list_select_related = ["customer", "workload", "partner"]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    list_display = ["customer", "workload", "from_partner", "to_partner", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["claim", "created_by"]
    autocomplete_fields = ["customer", "from_partner", "to_partner", "workload"]


@admin.register(UsageSnapshot)
class UsageSnapshotAdmin(admin.ModelAdmin):
    """Imported from the vendor's partner system; read here, corrected there."""

    list_display = ["customer", "workload", "date", "active_users", "licensed_seats"]
    list_display += ["active_usage_pct", "imported_at"]
    list_filter = ["workload"]
    search_fields = ["customer__name", "customer__tenant_id"]
    date_hierarchy = "date"
    list_select_related = ["customer", "workload"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
