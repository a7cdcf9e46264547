"""The automatic check of confirmed claims and the claims team's decisions."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from approvals.models import Decision, ReviewTask
from approvals.rules import ClaimFacts, check_line
from claims import lifecycle
from claims.models import Claim, ClaimLine
from customers.models import Association


def grant_association(claim: Claim, line: ClaimLine, user=None) -> Association:
    """Make the claim's partner partner of record for the line's workload.

    The caller holds the customer's row lock. A claims-team approval may move a
    workload from another partner; the old association ends today.
    """
    today = timezone.localdate()
    current = (
        Association.objects.filter(
            customer_id=claim.customer_id, workload_id=line.workload_id, ended_on=None
        )
        .select_for_update()
        .first()
    )
    if current is not None:
        if current.partner_id == claim.partner_id:
            return current
        current.ended_on = today
        current.save(update_fields=["ended_on"])
    return Association.objects.create(
        customer_id=claim.customer_id,
        workload_id=line.workload_id,
        partner_id=claim.partner_id,
        since=today,
        source_claim=claim,
    )


def evaluate_claim(*, claim_id: int) -> Claim | None:
    """Check every line of a confirmed claim; None when there was nothing to do."""
    facts_box: dict[str, ClaimFacts] = {}
    reasons: list[dict] = []

    def evaluate_line(claim: Claim, line: ClaimLine) -> bool:
        facts = facts_box.get("facts")
        if facts is None:
            facts = facts_box["facts"] = ClaimFacts.gather(claim)
        results = check_line(facts, line)
        failed = [r.code for r in results if not r.passed]
        Decision.objects.create(
            line=line,
            passed=not failed,
            reason_codes=failed,
            results=[r.as_dict() for r in results],
        )
        if failed:
            reasons.append(
                {
                    "line": line.pk,
                    "workload": line.workload.name,
                    "codes": failed,
                    "details": [r.detail for r in results if not r.passed],
                }
            )
        else:
            grant_association(claim, line)
        return not failed

    with transaction.atomic():
        claim = lifecycle.complete_evaluation(claim_id, evaluate_line=evaluate_line)
        if claim is not None and claim.status == Claim.Status.IN_REVIEW:
            ReviewTask.objects.create(claim=claim, reasons=reasons, due_at=claim.due_at)
    return claim


def decide_review(
    claim: Claim, *, user, line_approvals: dict[int, bool], comment: str = ""
) -> Claim:
    """The claims team's decision on the lines in review."""
    return lifecycle.decide(
        claim, user=user, line_approvals=line_approvals, comment=comment, grant=grant_association
    )
