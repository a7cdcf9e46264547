"""Who works on a queue item: taking it, a lead assigning it, and the automatic rules.

Every change of hands is recorded in the claim's history (`lifecycle.note_assignment`),
under the claim's lock, after re-reading the item: two people taking the same item at once
get one winner and, for the other, a message naming who has it.

Who may do what: anyone in the claims team takes an unassigned item, or gives back their
own; only leads give an item to someone else or take it from someone else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.models import AssignmentRule, ReviewTask
from claims import lifecycle
from claims.lifecycle import ClaimError
from claims.models import Claim
from claims_portal.roles import CLAIMS_TEAM_GROUPS, roles_for


def claims_team_members() -> list[User]:
    """Everyone who can be given queue items, by email."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=CLAIMS_TEAM_GROUPS)
        .distinct()
        .order_by("email")
    )


def _open_task(claim: Claim) -> ReviewTask:
    task = (
        ReviewTask.objects.select_for_update(of=("self",))
        .select_related("assignee")
        .filter(claim=claim, state=ReviewTask.State.OPEN)
        .first()
    )
    if task is None:
        raise ClaimError(
            _("Claim %(ref)s is no longer in the queue (it is now “%(status)s”).")
            % {"ref": claim.reference, "status": claim.get_status_display()}
        )
    return task


def _hand_over(
    claim: Claim, task: ReviewTask, *, to: User | None, by: User | None, rule: str = ""
) -> ReviewTask:
    previous = task.assignee
    task.assignee = to
    task.assigned_at = timezone.now() if to is not None else None
    task.save(update_fields=["assignee", "assigned_at"])
    lifecycle.note_assignment(claim, user=by, assignee=to, previous=previous, rule=rule)
    return task


def _who(user: User) -> str:
    return user.email or user.get_username()


def assign(claim: Claim, *, to: User | None, by: User) -> ReviewTask:
    """Give the claim's queue item to `to` (None: back to unassigned), as `by` may."""
    roles = roles_for(by)
    if not roles.is_claims_team:
        raise ClaimError(_("Only the claims team works on the queue."))
    if to is not None and not roles_for(to).is_claims_team:
        raise ClaimError(_("%s is not in the claims team.") % _who(to), field="assignee")
    with transaction.atomic():
        claim = lifecycle.lock_claim(claim)
        task = _open_task(claim)
        current = task.assignee
        if current == to:
            return task  # already so: nothing to record
        if not roles.is_claims_lead:
            if to is not None and to != by:
                raise ClaimError(_("Only a claims lead assigns items to someone else."))
            if current is not None and current != by:
                raise ClaimError(
                    _("%(who)s has claim %(ref)s now; ask a lead to reassign it.")
                    % {"who": _who(current), "ref": claim.reference}
                )
        return _hand_over(claim, task, to=to, by=by)


def take(claim: Claim, *, user: User) -> ReviewTask:
    """Take an item from the queue to work on it."""
    return assign(claim, to=user, by=user)


@dataclass
class BulkResult:
    """What a bulk action did to each claim: done, or why not."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def assign_many(claims: Iterable[Claim], *, to: User | None, by: User) -> BulkResult:
    """Assign several items, each in its own transaction and history entry."""
    result = BulkResult()
    for claim in claims:
        try:
            assign(claim, to=to, by=by)
        except ClaimError as exc:
            result.refused.append((claim.reference, str(exc)))
        else:
            result.done.append(claim.reference)
    return result


# --- Automatic assignment ---------------------------------------------------------------


def _rules_for(claim: Claim) -> list[AssignmentRule]:
    return list(
        AssignmentRule.objects.filter(is_active=True)
        .filter(Q(program__isnull=True) | Q(program_id=claim.program_id))
        .filter(Q(partner__isnull=True) | Q(partner_id=claim.partner_id))
        .order_by("position", "pk")
    )


def _next_reviewer(rule: AssignmentRule) -> User | None:
    """The rule's next reviewer in turn who is not away; moves the rule's place on."""
    # The rule row is locked so two items entering the queue at once take two turns.
    rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    candidates = list(
        rule.reviewers.filter(is_active=True, groups__name__in=CLAIMS_TEAM_GROUPS)
        .exclude(review_availability__is_away=True)
        .distinct()
        .order_by("pk")
    )
    if not candidates:
        return None
    after = rule.last_assignee_id or 0
    chosen = next((user for user in candidates if user.pk > after), candidates[0])
    rule.last_assignee = chosen
    rule.save(update_fields=["last_assignee"])
    return chosen


def auto_assign(claim: Claim, task: ReviewTask) -> User | None:
    """Apply the first matching rule with someone available; the caller holds the lock."""
    for rule in _rules_for(claim):
        reviewer = _next_reviewer(rule)
        if reviewer is not None:
            _hand_over(claim, task, to=reviewer, by=None, rule=rule.name)
            return reviewer
    return None
