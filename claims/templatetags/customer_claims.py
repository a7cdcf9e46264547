"""Decisions and the check before signing, in the customer's own words.

The partner and the claims team read reason codes with their labels; a customer reads
what happens to each service and why, in a sentence. Codes are the rule engine's
(approvals.rules.ReasonCode), kept here as plain strings: claims never imports approvals.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims.checks import LineCheck
from claims.models import Claim, ClaimLine

register = template.Library()

# Why a service goes to the vendor's claims team, for the customer. %(partner)s: the claim's.
_REASONS = {
    "not_in_catalog": gettext_lazy(
        "It is not among the standard services %(partner)s is pre-approved to deliver in this "
        "program, so the claims team looks at it."
    ),
    "custom_sow": gettext_lazy(
        "The claim comes with a custom statement of work, which the claims team reviews."
    ),
    "existing_claim": gettext_lazy(
        "Another partner is your partner of record for it, or has an open claim for it. The "
        "claims team decides, and the other partner is heard."
    ),
    "duplicate": gettext_lazy("%(partner)s already holds or claims this service for you."),
    "claim_limit": gettext_lazy(
        "%(partner)s has reached the number of claims the program allows it."
    ),
    "public_sector": gettext_lazy(
        "Public-sector claims need a partner authorised for the public sector, a survey "
        "contact, your verified domains and the program's public-sector details."
    ),
    "below_minimum": gettext_lazy(
        "Your organisation has fewer seats than the program's minimum for this service."
    ),
    "partner_inactive": gettext_lazy("%(partner)s is suspended from the program at the moment."),
    "open_dispute": gettext_lazy("A request to change the partner of this service is open."),
    "incomplete": gettext_lazy("Give its target dates and seats first."),
}


def _reason(code: str, claim: Claim) -> str:
    text = _REASONS.get(code)
    if text is None:
        return _("A rule of the program needs a person to look at it (%(code)s).") % {"code": code}
    return str(text) % {"partner": claim.partner.name}


@register.simple_tag
def customer_reasons(codes: Any, claim: Claim) -> list[str]:
    """Each reason code as a sentence, without repeats."""
    seen: list[str] = []
    for code in codes or ():
        text = _reason(str(code), claim)
        if text not in seen:
            seen.append(text)
    return seen


@register.simple_tag
def check_verdict(line: LineCheck) -> str:
    """What signing will do to one service, from the check before signing."""
    if line.approved_already:
        return _("Approved already; it stays approved.")
    if line.passed:
        return _("Will be approved at once when the partner confirms.")
    if "incomplete" in line.codes:
        return _("Not checked yet.")
    return _("Will go to the vendor's claims team, because:")


@register.simple_tag
def line_outcome(line: ClaimLine, claim: Claim) -> str:
    """Where one service of the claim stands, in a sentence."""
    status = line.status
    if status == ClaimLine.Status.APPROVED:
        return _("Approved: %(partner)s is your partner of record for it.") % {
            "partner": claim.partner.name
        }
    if status == ClaimLine.Status.IN_REVIEW:
        return _("With the vendor's claims team, because:")
    if status == ClaimLine.Status.REJECTED:
        return _("Not approved. The claims team's reason is in the history below.")
    if status == ClaimLine.Status.REMOVED:
        return _("Removed from the claim by your organisation.")
    if status == ClaimLine.Status.WITHDRAWN:
        return _("Withdrawn with the claim before it was decided.")
    if claim.status == Claim.Status.EVALUATING:
        return _("Being checked against the partner's pre-approved catalog.")
    return _("Not decided yet.")


@register.simple_tag
def line_reason_codes(line: ClaimLine) -> list[str]:
    """The reason codes of the line's latest check (its decisions are prefetched)."""
    if line.status != ClaimLine.Status.IN_REVIEW:
        return []
    decisions = list(line.decisions.all())  # type: ignore[attr-defined]
    if not decisions:
        return []
    latest = max(decisions, key=lambda d: (d.created_at, d.pk))
    return list(latest.reason_codes or [])
