from __future__ import annotations

from django.db.models import QuerySet

from approvals.models import ReviewTask
from claims_portal.roles import roles_for


def open_review_tasks(user, *, mine: bool = False) -> QuerySet[ReviewTask]:
    if not roles_for(user).is_claims_team:
        return ReviewTask.objects.none()
    tasks = ReviewTask.objects.filter(state=ReviewTask.State.OPEN).select_related(
        "claim__partner", "claim__customer", "claim__program", "assignee"
    )
    if mine:
        tasks = tasks.filter(assignee=user)
    return tasks.order_by("due_at", "pk")
