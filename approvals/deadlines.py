"""Reminders before a deadline and escalations after it, sent from beat, each exactly once.

Beat may run often, late, or twice at the same instant (two beat processes). Each notice is
claimed with a conditional UPDATE of the claim row (`reminded_at IS NULL` → now): the
second process blocks on the row until the first commits, then finds nothing to claim.
The UPDATE also holds the claim's row lock while the notice is recorded in the claim's
history and its notifications are written, in the same transaction. A person moving the
claim at the same moment gives it a new clock (and clears both marks), so a notice is
never sent for a deadline that no longer stands.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from approvals.models import ReviewTask
from claims import lifecycle
from claims.clock import DEADLINE_STATES, TURN, Party
from claims.models import Claim, ClaimAction
from claims_portal.roles import CLAIMS_LEAD_GROUP, CLAIMS_TEAM_GROUPS
from customers.models import CustomerMembership
from partners.models import PartnerMembership

BATCH = 1000


def due_reminders(now: datetime.datetime) -> list[int]:
    return list(
        Claim.objects.filter(
            status__in=DEADLINE_STATES, remind_at__lte=now, reminded_at__isnull=True
        )
        .order_by("remind_at")
        .values_list("pk", flat=True)[:BATCH]
    )


def due_escalations(now: datetime.datetime) -> list[int]:
    return list(
        Claim.objects.filter(status__in=DEADLINE_STATES, due_at__lte=now, escalated_at__isnull=True)
        .order_by("due_at")
        .values_list("pk", flat=True)[:BATCH]
    )


def _active_ids(qs) -> set[int]:  # type: ignore[no-untyped-def]
    return set(qs.filter(user__is_active=True).values_list("user_id", flat=True))


def _claims_team(group_names: tuple[str, ...]) -> set[int]:
    return set(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=group_names)
        .values_list("pk", flat=True)
    )


def who_must_act(claim: Claim) -> set[int]:
    """The people whose turn it is: reminded before the deadline."""
    party = TURN.get(claim.status)
    if party == Party.PARTNER:
        return _active_ids(PartnerMembership.objects.filter(partner_id=claim.partner_id))
    if party == Party.CUSTOMER:
        return _active_ids(CustomerMembership.objects.filter(customer_id=claim.customer_id))
    if party == Party.CLAIMS_TEAM:
        assignee = (
            ReviewTask.objects.filter(
                claim=claim, state=ReviewTask.State.OPEN, assignee__is_active=True
            )
            .values_list("assignee_id", flat=True)
            .first()
        )
        return {assignee} if assignee else _claims_team(CLAIMS_TEAM_GROUPS)
    return set()


def escalation_recipients(claim: Claim) -> set[int]:
    """The claims leads; for a claim the partner has not confirmed, its admins too."""
    ids = _claims_team((CLAIMS_LEAD_GROUP,))
    if claim.status == Claim.Status.AWAITING_PARTNER:
        ids |= _active_ids(
            PartnerMembership.objects.filter(
                partner_id=claim.partner_id, role=PartnerMembership.Role.ADMIN
            )
        )
    return ids


def send_reminder(claim_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Remind the party whose turn it is, once per running clock; False if not (or not now)."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Claim.objects.filter(
            pk=claim_id,
            status__in=DEADLINE_STATES,
            remind_at__lte=now,
            reminded_at__isnull=True,
        ).update(reminded_at=now)
        if not claimed:
            return False
        claim = Claim.objects.select_related("program", "partner").get(pk=claim_id)
        lifecycle.note_deadline(
            claim,
            action=ClaimAction.REMIND,
            recipients=who_must_act(claim),
            changes=_notice(claim),
        )
    return True


def escalate(claim_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Tell the leads (and a slow partner's admins) a deadline has passed, once per clock."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Claim.objects.filter(
            pk=claim_id,
            status__in=DEADLINE_STATES,
            due_at__lte=now,
            escalated_at__isnull=True,
        ).update(escalated_at=now)
        if not claimed:
            return False
        claim = Claim.objects.select_related("program", "partner").get(pk=claim_id)
        lifecycle.note_deadline(
            claim,
            action=ClaimAction.ESCALATE,
            recipients=escalation_recipients(claim),
            changes={
                **_notice(claim),
                "to": ["claims_leads"]
                + (["partner_admins"] if claim.status == Claim.Status.AWAITING_PARTNER else []),
            },
        )
    return True


def _notice(claim: Claim) -> dict[str, str]:
    assert claim.due_at is not None
    return {"party": str(TURN[claim.status]), "due": claim.due_at.isoformat()}


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """Send every reminder and escalation that is due (a batch of each per run)."""
    now = now or timezone.now()
    reminded = sum(send_reminder(pk, now=now) for pk in due_reminders(now))
    escalated = sum(escalate(pk, now=now) for pk in due_escalations(now))
    return {"reminded": reminded, "escalated": escalated}
