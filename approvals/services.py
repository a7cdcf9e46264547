"""The automatic check of confirmed claims, and the claims team's decisions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from approvals.models import Decision, ReviewTask
from approvals.rules import ClaimFacts, check_line
from claims import lifecycle
from claims.models import Claim


def evaluate_claim(*, claim_id: int) -> Claim | None:
    """Check every line of a confirmed claim; None when there was nothing to do.

    Runs under the claim's lock (customer first), so claims of one customer are checked
    one at a time and a redelivered message finds the claim no longer `evaluating`.
    """
    with transaction.atomic():
        claim = lifecycle.lock_claim(claim_id)
        if claim.status != Claim.Status.EVALUATING:
            return None
        facts = ClaimFacts.gather(claim)
        passed: dict[int, bool] = {}
        reasons: list[dict[str, Any]] = []
        decisions = []
        for line in lifecycle.lines_to_evaluate(claim):
            if line.status == line.Status.APPROVED:
                continue  # approved in an earlier round, before a return
            results = check_line(facts, line)
            failed = [r for r in results if not r.passed]
            passed[line.pk] = not failed
            decisions.append(
                Decision(
                    line=line,
                    passed=not failed,
                    reason_codes=[str(r.code) for r in failed],
                    results=[r.as_dict() for r in results],
                )
            )
            if failed:
                reasons.append(
                    {
                        "line": line.pk,
                        "workload": line.workload.name,
                        "codes": [str(r.code) for r in failed],
                        "details": [r.detail for r in failed],
                    }
                )
        Decision.objects.bulk_create(decisions)
        claim = lifecycle.record_evaluation(claim, passed=passed)
        if claim.status == Claim.Status.IN_REVIEW:
            assert claim.due_at is not None  # entering review starts the team's deadline
            ReviewTask.objects.create(claim=claim, reasons=reasons, due_at=claim.due_at)
    return claim


def decide_review(
    claim: Claim, *, user: User, line_approvals: dict[int, bool], comment: str = ""
) -> Claim:
    """The claims team's decision on the lines in review."""
    return lifecycle.decide(claim, user=user, line_approvals=line_approvals, comment=comment)


def close_review_tasks(claim: Claim) -> None:
    """The claim left the queue (decided, returned, withdrawn): its open item is done."""
    ReviewTask.objects.filter(claim=claim, state=ReviewTask.State.OPEN).update(
        state=ReviewTask.State.DONE, closed_at=timezone.now()
    )
