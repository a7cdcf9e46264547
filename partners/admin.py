from __future__ import annotations

from django.contrib import admin

from partners.models import (
    ChangePolicy,
    Partner,
    PartnerMembership,
    Program,
    SowCatalog,
    SowCatalogItem,
    Workload,
)


class ChangePolicyInline(admin.StackedInline):
    model = ChangePolicy
    can_delete = False
    extra = 1
    max_num = 1


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "start_date", "end_date", "min_seats", "claim_limit_per_partner"]
    list_filter = ["start_date"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["workloads"]
    inlines = [ChangePolicyInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "start_date", "end_date", "logo", "workloads"]}),
        (
            "Rules",
            {
                "fields": [
                    "min_seats",
                    "claim_limit_per_partner",
                    "public_sector_requires_authorisation",
                ]
            },
        ),
        (
            "Deadlines (business days)",
            {"fields": ["partner_confirm_days", "review_days", "correction_days"]},
        ),
    ]


@admin.register(Workload)
class WorkloadAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


class PartnerMembershipInline(admin.TabularInline):
    model = PartnerMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "partner_id", "is_active", "public_sector_authorised"]
    list_filter = ["is_active", "public_sector_authorised"]
    search_fields = ["name", "code", "partner_id", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PartnerMembershipInline]


class SowCatalogItemInline(admin.TabularInline):
    model = SowCatalogItem
    extra = 1
    autocomplete_fields = ["workload"]


@admin.register(SowCatalog)
class SowCatalogAdmin(admin.ModelAdmin):
    list_display = ["partner", "program", "approved_on", "item_count"]
    list_filter = ["program"]
    search_fields = ["partner__name", "program__name"]
    autocomplete_fields = ["partner", "program"]
    inlines = [SowCatalogItemInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_items=Count("items"))

    @admin.display(description="Items", ordering="_items")
    def item_count(self, obj) -> int:
        return obj._items
