"""Reads of the claims team's queue, scoped to the person asking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from approvals.filters import ReviewTaskFilterSet
from approvals.models import ReviewTask
from claims_portal.roles import Roles


def open_review_tasks(roles: Roles) -> QuerySet[ReviewTask]:
    if not roles.is_claims_team:
        return ReviewTask.objects.none()
    return ReviewTask.objects.filter(state=ReviewTask.State.OPEN).select_related(
        "claim__partner", "claim__customer", "claim__program", "assignee"
    )


def review_task_list(roles: Roles, *, filters: Mapping[str, Any]) -> ReviewTaskFilterSet:
    return ReviewTaskFilterSet(filters, queryset=open_review_tasks(roles), request_user=roles.user)
