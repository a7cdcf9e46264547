"""The outcome invariant over the whole database, for `manage.py check_claim_outcomes`.

What the life cycle promises about outcomes (PostgreSQL enforces the first two on every
write; this finds anything that got in another way, or before the triggers existed):

- every association a claim granted points to an approved line of that claim, for the same
  customer, partner and workload;
- no claim that ended withdrawn or rejected leaves an active association it granted;
- a claim's status agrees with its lines: approved means every service approved; partially
  approved, some approved and none still open; rejected and withdrawn, none approved;
- a claim is in the exception queue (one open item) exactly while it is in review.

Each check is one query, so the whole database is checked in a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from approvals.models import ReviewTask
from claims.models import Claim, ClaimLine
from customers.models import Association

S = Claim.Status
L = ClaimLine.Status
# Lines still waiting for an outcome.
_OPEN_LINES = [L.PENDING, L.IN_REVIEW]


@dataclass(frozen=True)
class Problem:
    check: str
    reference: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reference}: {self.detail} [{self.check}]"


def _lines(status: str | Sequence[str]) -> Exists:
    statuses = [status] if isinstance(status, str) else list(status)
    return Exists(ClaimLine.objects.filter(claim=OuterRef("pk"), status__in=statuses))


def _associations_without_approved_line() -> Iterator[Problem]:
    approved_line = ClaimLine.objects.filter(
        claim_id=OuterRef("source_claim_id"),
        workload_id=OuterRef("workload_id"),
        status=L.APPROVED,
        claim__customer_id=OuterRef("customer_id"),
        claim__partner_id=OuterRef("partner_id"),
    )
    rows = (
        Association.objects.filter(source_claim__isnull=False)
        .exclude(Exists(approved_line))
        .values_list("pk", "source_claim__reference", "workload__code", "ended_on")
        .order_by("pk")
    )
    for pk, reference, workload, ended_on in rows.iterator():
        state = "ended" if ended_on else "active"
        yield Problem(
            "association-without-approved-line",
            reference,
            f"association {pk} ({workload}, {state}) points to no approved line of this claim",
        )


def _ended_claims_holding_associations() -> Iterator[Problem]:
    rows = (
        Association.objects.filter(
            ended_on=None, source_claim__status__in=[S.WITHDRAWN, S.REJECTED]
        )
        .values_list("pk", "source_claim__reference", "source_claim__status", "workload__code")
        .order_by("pk")
    )
    for pk, reference, status, workload in rows.iterator():
        yield Problem(
            "ended-claim-holds-association",
            reference,
            f"is {status} but its association {pk} ({workload}) is still active",
        )


def _status_against_lines() -> Iterator[Problem]:
    live = Claim.objects.exclude(status__in=[S.DRAFT])
    checks: list[tuple[str, QuerySet[Claim], str]] = [
        (
            "approved-with-undecided-lines",
            live.filter(status=S.APPROVED).filter(
                Exists(
                    ClaimLine.objects.filter(claim=OuterRef("pk")).exclude(
                        status__in=[L.APPROVED, L.REMOVED]
                    )
                )
            ),
            "is approved but not every service is",
        ),
        (
            "partial-without-approved-line",
            live.filter(status=S.PARTIALLY_APPROVED).exclude(_lines(L.APPROVED)),
            "is partially approved but no service is approved",
        ),
        (
            "decided-with-open-lines",
            live.filter(
                status__in=[S.APPROVED, S.PARTIALLY_APPROVED, S.REJECTED, S.WITHDRAWN]
            ).filter(_lines(_OPEN_LINES)),
            "is decided but a service still waits for an outcome",
        ),
        (
            "rejected-or-withdrawn-with-approved-line",
            live.filter(status__in=[S.REJECTED, S.WITHDRAWN]).filter(_lines(L.APPROVED)),
            "is rejected or withdrawn but a service of it is approved",
        ),
        (
            "in-review-without-line-in-review",
            live.filter(status=S.IN_REVIEW).exclude(_lines(L.IN_REVIEW)),
            "is in review but no service is",
        ),
    ]
    for check, claims, detail in checks:
        for reference, status in claims.values_list("reference", "status").order_by("pk"):
            yield Problem(check, reference, f"{detail} (status {status})")


def _queue_against_status() -> Iterator[Problem]:
    open_tasks = (
        ReviewTask.objects.filter(state=ReviewTask.State.OPEN)
        .values("claim_id")
        .annotate(n=Count("pk"))
    )
    counts = {row["claim_id"]: row["n"] for row in open_tasks}
    in_review = set(Claim.objects.filter(status=S.IN_REVIEW).values_list("pk", flat=True))
    wrong = {pk for pk in in_review if counts.get(pk, 0) != 1} | (set(counts) - in_review)
    rows = Claim.objects.filter(pk__in=wrong).values_list("pk", "reference", "status")
    for pk, reference, status in rows.order_by("pk"):
        yield Problem(
            "queue-against-status",
            reference,
            f"is {status} with {counts.get(pk, 0)} open queue items (one exactly while in review)",
        )


def find_problems() -> Iterator[Problem]:
    """Every breach of the outcome invariant in the database; none when it holds."""
    yield from _associations_without_approved_line()
    yield from _ended_claims_holding_associations()
    yield from _status_against_lines()
    yield from _queue_against_status()


def count_checked() -> dict[str, int]:
    return {
        "claims": Claim.objects.count(),
        "associations": Association.objects.filter(~Q(source_claim=None)).count(),
    }
