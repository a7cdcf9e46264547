"""Whose turn it is on a claim and by when, in the words of the audience looking."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from claims.clock import Clock, Party, clocks
from claims.models import Claim

register = template.Library()

S = Claim.Status


@dataclass(frozen=True)
class ClockRow:
    who: str
    what: str
    clock: Clock

    @property
    def due_at(self) -> datetime.datetime | None:
        return self.clock.due_at

    @property
    def running(self) -> bool:
        return self.clock.running

    @property
    def overdue(self) -> bool:
        return self.clock.overdue

    @property
    def in_words(self) -> str:
        return self.clock.in_words


def _who(party: Party, claim: Claim, audience: str) -> str:
    if party == Party.CUSTOMER:
        return _("Your organisation") if audience == "customer" else claim.customer.name
    if party == Party.PARTNER:
        return _("Your team") if audience == "partner" else claim.partner.name
    if party == Party.CLAIMS_TEAM:
        return _("Claims team") if audience == "claims_team" else _("The vendor's claims team")
    return _("The portal")


def _what(party: Party, claim: Claim, running: bool) -> str:
    if not running:
        if party == Party.CLAIMS_TEAM:
            return _("decides once the claim is back in review")
        return _("confirms once the claim is back")
    if party == Party.PARTNER:
        return _("confirms or returns the claim")
    if party == Party.CLAIMS_TEAM:
        return _("decides the services in review")
    if party == Party.SYSTEM:
        return _("checks the claim against the catalog (moments)")
    if claim.status == S.RETURNED_TO_CUSTOMER:
        return _("corrects and resubmits the claim")
    if claim.status == S.AWAITING_CUSTOMER_APPROVAL:
        return _("the approver signs and submits (no deadline yet)")
    return _("finishes and signs the claim (no deadline yet)")


@register.simple_tag
def claim_clocks(claim: Claim, audience: str = "customer") -> list[ClockRow]:
    """One row per party with a clock: the one whose turn it is first, then paused ones."""
    return [
        ClockRow(_who(c.party, claim, audience), _what(c.party, claim, c.running), c)
        for c in clocks(claim)
    ]


@register.filter
def deadline(moment: datetime.datetime | None) -> str:
    """A due moment: a deadline at midnight reads as the end of the day before."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    if local.time() == datetime.time.min:
        day = local.date() - datetime.timedelta(days=1)
        return _("end of %(day)s") % {"day": _format_day(day)}
    return _("%(day)s, %(time)s") % {
        "day": _format_day(local.date()),
        "time": local.strftime("%H:%M"),
    }


def _format_day(day: datetime.date) -> str:
    return date_format(day, "D j M Y")
