from __future__ import annotations

from django.contrib import admin

from approvals.models import ChangePolicy, ChangeRequest, Decision, ReviewTask


@admin.register(ChangePolicy)
class ChangePolicyAdmin(admin.ModelAdmin):
    list_display = [
        "program",
        "usage_threshold_pct",
        "large_customer_seats",
        "large_customer_threshold_pct",
        "no_growth_days",
    ]


@admin.register(ReviewTask)
class ReviewTaskAdmin(admin.ModelAdmin):
    list_display = ["claim", "state", "assignee", "due_at", "created_at"]
    list_filter = ["state"]
    raw_id_fields = ["claim"]
    autocomplete_fields = ["assignee"]
    list_select_related = ["claim", "assignee"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["line", "passed", "reason_codes", "created_at"]
    list_filter = ["passed"]
    raw_id_fields = ["line"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    list_display = ["customer", "workload", "from_partner", "to_partner", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["claim", "created_by"]
    autocomplete_fields = ["customer", "from_partner", "to_partner", "workload"]
