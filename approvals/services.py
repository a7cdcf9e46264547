"""The automatic check of confirmed claims, and the claims team's decisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import assignment
from approvals.assignment import BulkResult
from approvals.models import Decision, LineVerdict, RejectionReason, ReviewTask
from approvals.rules import RULE_SET, ClaimFacts, check_line
from claims import lifecycle
from claims.checks import CheckResult, LineCheck
from claims.lifecycle import ClaimError
from claims.models import Claim, ClaimLine, Event

# pg_advisory_xact_lock's first key: the claim-limit lock of one partner (the second key).
_CLAIM_LIMIT_LOCK = 8_001


def _serialise_per_partner(partner_id: int) -> None:
    """Check the claims of one partner one at a time, until this transaction ends.

    Evaluation already runs one claim per customer at a time; where the program limits a
    partner's approved claims, two claims of one partner for different customers checked at
    the same instant would each count the other's approval as not yet there and both pass.
    An advisory lock, not the partner's row, so nothing else that touches the partner
    (its page, claims being inserted for it) waits.
    """
    if connection.vendor != "postgresql":
        return  # SQLite runs one writing transaction at a time anyway
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CLAIM_LIMIT_LOCK, partner_id])


def evaluate_claim(*, claim_id: int) -> Claim | None:
    """Check every line of a confirmed claim; None when there was nothing to do.

    Runs under the claim's lock (customer first), so claims of one customer are checked
    one at a time and a redelivered message finds the claim no longer `evaluating`.
    """
    with transaction.atomic():
        claim = lifecycle.lock_claim(claim_id)
        if claim.status != Claim.Status.EVALUATING:
            return None
        if claim.rules.claim_limit_per_partner is not None:
            _serialise_per_partner(claim.partner_id)
        lines = lifecycle.lines_to_evaluate(claim)
        facts = ClaimFacts.gather(claim)
        passed: dict[int, bool] = {}
        reasons: list[dict[str, Any]] = []
        decisions = []
        for line in lines:
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
                    rule_set=RULE_SET,
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
        claim = lifecycle.record_evaluation(claim, passed=passed, lines=lines, rule_set=RULE_SET)
        if claim.status == Claim.Status.IN_REVIEW:
            assert claim.due_at is not None  # entering review starts the team's deadline
            task = ReviewTask.objects.create(claim=claim, reasons=reasons, due_at=claim.due_at)
            assignment.auto_assign(claim, task)
    return claim


def dry_run(claim: Claim) -> CheckResult:
    """The rules the workers will run, on the claim as it is now, as if it were signed today.

    Reads only. Runs the same facts and rule functions as `evaluate_claim`, so what the
    approver is shown before signing is what the workers will decide, unless something
    changes in between (another claim, an association, the catalog).
    """
    facts = ClaimFacts.gather(claim, on=timezone.localdate())
    checks = []
    for line in lifecycle.lines_to_evaluate(claim):
        if line.status == ClaimLine.Status.APPROVED:
            checks.append(
                LineCheck(line.pk, line.workload.name, passed=True, approved_already=True)
            )
            continue
        if line.seats is None or line.target_start is None or line.target_end is None:
            checks.append(
                LineCheck(line.pk, line.workload.name, passed=False, codes=("incomplete",))
            )
            continue
        failed = [r for r in check_line(facts, line) if not r.passed]
        checks.append(
            LineCheck(
                line.pk,
                line.workload.name,
                passed=not failed,
                codes=tuple(str(r.code) for r in failed),
                details=tuple(r.detail for r in failed),
            )
        )
    return CheckResult(lines=tuple(checks), checked_at=timezone.now())


@dataclass(frozen=True)
class Verdict:
    """The team's decision on one service: approve, or reject with a reason and a note."""

    approved: bool
    reason: RejectionReason | None = None
    note: str = ""

    def explained(self) -> str:
        if self.approved or self.reason is None:
            return self.note.strip()
        return (
            f"{self.reason.label}: {self.note.strip()}" if self.note.strip() else self.reason.label
        )


def decide_review(
    claim: Claim,
    *,
    user: User,
    verdicts: Mapping[int, Verdict] | None = None,
    line_approvals: Mapping[int, bool] | None = None,
    comment: str = "",
) -> Claim:
    """The claims team's decision on the lines in review, each line with its own verdict.

    A rejection gives a reason from the list (RejectionReason), or else the comment is
    its reason. `line_approvals` (line id → approved) is the short form without reasons.
    """
    if verdicts is None:
        verdicts = {pk: Verdict(approved=ok) for pk, ok in (line_approvals or {}).items()}
    for line_id, verdict in verdicts.items():
        if verdict.reason is not None and not verdict.reason.is_active:
            raise ClaimError(
                _("“%s” is no longer a reason to pick.") % verdict.reason.label,
                field=f"reason_{line_id}",
            )
    with transaction.atomic():
        task_id = (
            ReviewTask.objects.filter(claim=claim, state=ReviewTask.State.OPEN)
            .values_list("pk", flat=True)
            .first()
        )
        claim = lifecycle.decide(
            claim,
            user=user,
            line_approvals={pk: v.approved for pk, v in verdicts.items()},
            comment=comment,
            line_reasons={pk: v.explained() for pk, v in verdicts.items() if not v.approved},
        )
        LineVerdict.objects.bulk_create(
            LineVerdict(
                line_id=pk,
                task_id=task_id,
                reviewer=user,
                approved=v.approved,
                reason=None if v.approved else v.reason,
                note=v.note.strip(),
            )
            for pk, v in verdicts.items()
        )
    return claim


def decide_many(
    claims: Iterable[Claim],
    *,
    user: User,
    approve: bool,
    reason: RejectionReason | None = None,
    note: str = "",
) -> BulkResult:
    """Approve (or reject, with one reason) every service in review on several claims.

    Each claim is its own decision, event and transaction: one that someone else decided
    a moment ago is reported and the others go through.
    """
    result = BulkResult()
    for claim in claims:
        pending = ClaimLine.objects.filter(claim=claim, status=ClaimLine.Status.IN_REVIEW)
        verdicts = {
            pk: Verdict(approved=approve, reason=reason, note=note)
            for pk in pending.values_list("pk", flat=True)
        }
        try:
            decide_review(claim, user=user, verdicts=verdicts)
        except ClaimError as exc:
            result.refused.append((claim.reference, str(exc)))
        else:
            result.done.append(claim.reference)
    return result


def close_review_tasks(claim: Claim, event: Event | None = None) -> None:
    """The claim left the queue (decided, returned, withdrawn): its open item is done."""
    ReviewTask.objects.filter(claim=claim, state=ReviewTask.State.OPEN).update(
        state=ReviewTask.State.DONE,
        closed_at=timezone.now(),
        outcome=event.to_status if event is not None else "",
        closed_by=event.actor if event is not None else None,
    )
