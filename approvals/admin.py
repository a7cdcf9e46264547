from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model

from approvals.models import (
    AssignmentRule,
    Decision,
    LineVerdict,
    RejectionReason,
    ReviewerAvailability,
    ReviewTask,
)
from claims_portal.roles import CLAIMS_TEAM_GROUPS


@admin.register(ReviewTask)
class ReviewTaskAdmin(admin.ModelAdmin):
    """Read-only: items change hands through the queue, so the history records it."""

    list_display = ["claim", "state", "assignee", "due_at", "created_at", "outcome"]
    list_filter = ["state"]
    raw_id_fields = ["claim"]
    list_select_related = ["claim", "assignee"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["line", "passed", "reason_codes", "created_at"]
    list_filter = ["passed"]
    raw_id_fields = ["line"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LineVerdict)
class LineVerdictAdmin(admin.ModelAdmin):
    list_display = ["line", "approved", "reason", "reviewer", "created_at"]
    list_filter = ["approved", "reason"]
    raw_id_fields = ["line", "task"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


def _claims_team():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=CLAIMS_TEAM_GROUPS)
        .distinct()
        .order_by("email")
    )


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    """Leads (the claims_lead group's permissions) and administrators edit these."""

    list_display = ["name", "position", "is_active", "program", "partner", "last_assignee"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "program"]
    autocomplete_fields = ["partner"]
    filter_horizontal = ["reviewers"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "reviewers":
            kwargs["queryset"] = _claims_team()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(ReviewerAvailability)
class ReviewerAvailabilityAdmin(admin.ModelAdmin):
    list_display = ["user", "is_away", "note"]
    list_editable = ["is_away", "note"]
    list_filter = ["is_away"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = _claims_team()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "position", "is_active"]
    list_editable = ["position", "is_active"]
    prepopulated_fields = {"code": ["label"]}
