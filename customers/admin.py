from __future__ import annotations

from django.contrib import admin

from customers.models import Association, ChangeRequest, Customer, CustomerMembership


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
    list_display = ["customer", "workload", "partner", "since", "ended_on", "active_usage_pct"]
    list_filter = ["workload", "ended_on"]
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
