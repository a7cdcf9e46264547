"""The clock of a claim: whose turn it is and by when, in business days that pause.

Three parties own a deadline, each on the program's calendar, with the SLA days of the
program's rules the claim was created under (`claim.rules`):
  - the partner confirms (or returns) a submitted claim within `partner_confirm_days`;
  - the claims team decides a claim in review within `review_days`;
  - the customer corrects a returned claim within `correction_days`.

Only the clock of the party whose turn it is runs (`Claim.due_at`). When the claim goes to
another party who will hand it back (a partner returns it to the customer; the claims team
returns it to the customer or to the partner), the clock of the party it left stops, and
the business time it had left is kept on the claim; when the claim comes back to that
party, its clock resumes with exactly that time left, however long the others took. A
clock whose step is done (the partner confirmed, the customer resubmitted, the team
decided) is finished, and the party starts afresh should its turn come again.

Each stretch of a running clock gets one reminder, `reminder_days` business days before it
is due, and one escalation once it has passed (approvals.deadlines sends them from beat).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from claims.models import Claim
from claims_portal.business_days import DAY, ZERO, Calendar

S = Claim.Status


class Party(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    PARTNER = "partner", _("Partner")
    CLAIMS_TEAM = "claims_team", _("Claims team")
    SYSTEM = "system", _("Claims portal (automatic)")


# Whose turn each status is, and which of those turns has a deadline (program field).
TURN: dict[str, Party] = {
    S.DRAFT: Party.CUSTOMER,
    S.AWAITING_CUSTOMER_APPROVAL: Party.CUSTOMER,
    S.AWAITING_PARTNER: Party.PARTNER,
    S.RETURNED_TO_CUSTOMER: Party.CUSTOMER,
    S.EVALUATING: Party.SYSTEM,
    S.IN_REVIEW: Party.CLAIMS_TEAM,
}
DEADLINE_DAYS: dict[str, str] = {
    S.AWAITING_PARTNER: "partner_confirm_days",
    S.IN_REVIEW: "review_days",
    S.RETURNED_TO_CUSTOMER: "correction_days",
}
DEADLINE_STATES = frozenset(DEADLINE_DAYS)
# Where a stopped clock keeps its time left, per party that can be waited on.
PAUSED_FIELD: dict[Party, str] = {
    Party.PARTNER: "partner_time_left",
    Party.CLAIMS_TEAM: "review_time_left",
}
# Moves that stop the clock of the party left behind instead of finishing it: the claim
# waits on someone else and will come back.
PAUSING_MOVES = frozenset(
    {
        (S.AWAITING_PARTNER, S.RETURNED_TO_CUSTOMER),
        (S.IN_REVIEW, S.RETURNED_TO_CUSTOMER),
        (S.IN_REVIEW, S.AWAITING_PARTNER),
    }
)
CLOCK_FIELDS = [
    "due_at",
    "remind_at",
    "reminded_at",
    "escalated_at",
    "partner_time_left",
    "review_time_left",
]


def wind(
    claim: Claim, *, from_status: str, to_status: str, now: datetime.datetime | None = None
) -> list[str]:
    """Set the claim's clock for a move; returns the fields to save (CLOCK_FIELDS).

    Called by the life cycle as the claim changes status, under the claim's lock.
    """
    now = now or timezone.now()
    calendar = claim.calendar()
    leaving = TURN.get(from_status)
    if (from_status, to_status) in PAUSING_MOVES and claim.due_at is not None:
        assert leaving is not None
        setattr(claim, PAUSED_FIELD[leaving], calendar.between(now, claim.due_at))
    elif leaving in PAUSED_FIELD and from_status != to_status:
        setattr(claim, PAUSED_FIELD[leaving], None)  # the step is done

    if to_status in {S.APPROVED, S.PARTIALLY_APPROVED, S.REJECTED, S.WITHDRAWN}:
        claim.partner_time_left = None
        claim.review_time_left = None

    claim.due_at = claim.remind_at = claim.reminded_at = claim.escalated_at = None
    field = DEADLINE_DAYS.get(to_status)
    if field is not None:
        party = TURN[to_status]
        paused = getattr(claim, PAUSED_FIELD[party]) if party in PAUSED_FIELD else None
        if paused is not None:
            setattr(claim, PAUSED_FIELD[party], None)
            claim.due_at = (
                calendar.add(now, paused) if paused >= ZERO else calendar.subtract(now, -paused)
            )
        else:
            # The SLA days the claim was created under, not the program's current ones.
            claim.due_at = calendar.add_days(now, getattr(claim.rules, field))
        claim.remind_at = _remind_at(claim, calendar, now)
    return list(CLOCK_FIELDS)


def _remind_at(
    claim: Claim, calendar: Calendar, now: datetime.datetime
) -> datetime.datetime | None:
    lead = claim.rules.reminder_days
    if not lead or claim.due_at is None or claim.due_at <= now:
        return None  # no reminder wanted, or overdue already: the escalation says it
    return max(now, calendar.subtract(claim.due_at, lead * DAY))


# --- Reading the clock ------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """One party's clock on a claim, as a page shows it."""

    party: Party
    running: bool
    due_at: datetime.datetime | None
    # Business time until due (negative: overdue); for a paused clock, what it had left.
    left: datetime.timedelta | None

    @property
    def overdue(self) -> bool:
        return self.left is not None and self.left < ZERO

    @property
    def in_words(self) -> str:
        if self.left is None:
            return str(_("no deadline"))
        words = span_in_words(abs(self.left))
        if not self.running:
            return str(_("paused with %(span)s left")) % {"span": words}
        if self.overdue:
            return str(_("%(span)s overdue")) % {"span": words}
        return str(_("%(span)s left")) % {"span": words}


def span_in_words(span: datetime.timedelta) -> str:
    """Business time in words: "3 business days", "5 hours", "less than an hour"."""
    days = span // DAY
    if days >= 1:
        return ngettext("%(n)d business day", "%(n)d business days", days) % {"n": days}
    hours = int(span.total_seconds() // 3600)
    if hours >= 1:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return str(_("less than an hour"))


def clocks(claim: Claim, *, now: datetime.datetime | None = None) -> list[Clock]:
    """The running clock of the party whose turn it is, then any paused ones."""
    now = now or timezone.now()
    result: list[Clock] = []
    turn = TURN.get(claim.status)
    paused = {
        party: getattr(claim, field)
        for party, field in PAUSED_FIELD.items()
        if getattr(claim, field) is not None
    }
    calendar = claim.calendar() if (claim.due_at or paused) else None
    if turn is not None:
        left = calendar.between(now, claim.due_at) if calendar and claim.due_at else None
        result.append(Clock(turn, True, claim.due_at, left))
    for party, left in paused.items():
        if party != turn:
            result.append(Clock(party, False, None, left))
    return result
