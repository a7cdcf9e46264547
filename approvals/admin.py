from __future__ import annotations

from django.contrib import admin

from approvals.models import Decision, ReviewTask


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
