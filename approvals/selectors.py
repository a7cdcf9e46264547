"""Reads of the claims team's queue, scoped to the person asking."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from approvals.filters import QUEUE_VIEWS, ReviewTaskFilterSet, in_view
from approvals.models import Decision, LineVerdict, ReviewTask
from claims.models import OPEN_STATES, Claim, ClaimLine
from claims_portal.roles import Roles
from customers.models import Association

# Counts of the queue's views stop here ("more than 1,000"): counting a thousand index
# entries is quick, counting 200,000 is not, and nobody needs the exact figure on a tab.
COUNT_CAP = 1000


def review_tasks(roles: Roles) -> QuerySet[ReviewTask]:
    """Every queue item, open or done, for the claims team; nothing for anyone else."""
    if not roles.is_claims_team:
        return ReviewTask.objects.none()
    # Only what the queue page and its CSV show: at 200,000 rows an export spends its time
    # building model instances, and most of a claim's columns are not needed here.
    return ReviewTask.objects.select_related(
        "claim__partner", "claim__customer", "claim__program", "assignee", "closed_by"
    ).only(*QUEUE_FIELDS)


QUEUE_FIELDS = (
    "claim__reference",
    "claim__status",
    "claim__customer__name",
    "claim__partner__name",
    "claim__program__name",
    "reasons",
    "assignee__email",
    "state",
    "due_at",
    "created_at",
    "closed_at",
    "outcome",
    "closed_by__email",
)


def open_review_tasks(roles: Roles) -> QuerySet[ReviewTask]:
    return review_tasks(roles).filter(state=ReviewTask.State.OPEN)


def review_task_list(roles: Roles, *, filters: Mapping[str, Any]) -> ReviewTaskFilterSet:
    return ReviewTaskFilterSet(filters, queryset=review_tasks(roles), request_user=roles.user)


@dataclass(frozen=True)
class ViewCount:
    view: str
    label: str
    count: int
    capped: bool


def queue_counts(roles: Roles, *, now: datetime.datetime | None = None) -> list[ViewCount]:
    """How many items each view of the queue holds, up to COUNT_CAP, in one query."""
    if not roles.is_claims_team:
        return []
    now = now or timezone.now()
    parts: list[str] = []
    params: list[Any] = []
    for view in QUEUE_VIEWS:
        rows = in_view(ReviewTask.objects.all(), view, user=roles.user, now=now)
        sql, view_params = rows.order_by().values("pk")[: COUNT_CAP + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS view_{view})")  # noqa: S608 - our SQL
        params.extend(view_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        counted = cursor.fetchone()
    return [
        ViewCount(view, str(label), min(n, COUNT_CAP), n > COUNT_CAP)
        for (view, label), n in zip(QUEUE_VIEWS.items(), counted, strict=True)
    ]


def open_task_for(claim: Claim) -> ReviewTask | None:
    return (
        ReviewTask.objects.select_related("assignee")
        .filter(claim=claim, state=ReviewTask.State.OPEN)
        .first()
    )


def claims_by_reference(roles: Roles, references: list[str]) -> list[Claim]:
    """The claims named, in the order given, that the claims team may see."""
    if not roles.is_claims_team or not references:
        return []
    found = Claim.objects.in_bulk(references, field_name="reference")
    return [found[ref] for ref in references if ref in found]


@dataclass(frozen=True)
class Conflict:
    """What else stands on one workload of the claim's customer."""

    line: ClaimLine
    associations: list[Association]
    other_claims: list[ClaimLine]


def conflicts(claim: Claim, lines: list[ClaimLine]) -> list[Conflict]:
    """Per line, the current associations and the other open claims on its workload."""
    workloads = [line.workload_id for line in lines]
    held: dict[int, list[Association]] = {}
    for association in (
        Association.objects.filter(
            customer_id=claim.customer_id, workload_id__in=workloads, ended_on=None
        )
        .exclude(source_claim_id=claim.pk)  # granted by this very claim: no conflict
        .select_related("partner", "source_claim")
        .order_by("since")
    ):
        held.setdefault(association.workload_id, []).append(association)
    others: dict[int, list[ClaimLine]] = {}
    for other in (
        ClaimLine.objects.filter(
            claim__customer_id=claim.customer_id,
            workload_id__in=workloads,
            claim__status__in=OPEN_STATES,
        )
        .exclude(claim_id=claim.pk)
        .exclude(status__in=[ClaimLine.Status.REJECTED, ClaimLine.Status.REMOVED])
        .select_related("claim__partner")
        .order_by("claim__created_at")
    ):
        others.setdefault(other.workload_id, []).append(other)
    return [
        Conflict(line, held.get(line.workload_id, []), others.get(line.workload_id, []))
        for line in lines
        if held.get(line.workload_id) or others.get(line.workload_id)
    ]


@dataclass(frozen=True)
class LineRow:
    line: ClaimLine
    decision: Decision | None
    verdict: LineVerdict | None


def line_rows(lines: list[ClaimLine]) -> list[LineRow]:
    """Each line with its latest rule check and the team's latest verdict (two queries)."""
    decisions: dict[int, Decision] = {}
    for decision in Decision.objects.filter(line__in=lines).order_by("created_at", "pk"):
        decisions[decision.line_id] = decision
    verdicts: dict[int, LineVerdict] = {}
    for verdict in (
        LineVerdict.objects.filter(line__in=lines)
        .select_related("reason", "reviewer")
        .order_by("created_at", "pk")
    ):
        verdicts[verdict.line_id] = verdict
    return [LineRow(line, decisions.get(line.pk), verdicts.get(line.pk)) for line in lines]


def claims_team_watchers(claim: Claim) -> set[int]:
    """The claims-team members working on the claim: the assignee of its open queue item."""
    return set(
        ReviewTask.objects.filter(claim=claim, state=ReviewTask.State.OPEN)
        .exclude(assignee=None)
        .values_list("assignee_id", flat=True)
    )
