"""A claim's outcome in the partner's own terms.

The rule engine's details are written for the claims team and may name another partner or
its claim; a partner reads a plain sentence per reason instead (SPEC: a partner never
learns another partner's name or claim reference).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.rules import ReasonCode, reason_label
from claims.models import ClaimLine
from partners.models import PartnerMembership

register = template.Library()

_REASON_WORDS = {
    ReasonCode.NOT_IN_CATALOG: _(
        "Not covered by your pre-approved SOW catalog for this program (the service, its "
        "dates or its seats), so the claims team checks it."
    ),
    ReasonCode.CUSTOM_SOW: _(
        "The claim carries a custom SOW, so the claims team reads the document before deciding."
    ),
    ReasonCode.EXISTING_CLAIM: _(
        "Another partner is partner of record for this service at this customer, or has an "
        "open claim for it; the claims team decides."
    ),
    ReasonCode.DUPLICATE: _(
        "You already hold this service for this customer, or claim it in another open claim."
    ),
    ReasonCode.CLAIM_LIMIT: _("You have reached the program's claim limit for the period."),
    ReasonCode.PUBLIC_SECTOR: _(
        "The customer is public sector: your authorisation, a survey contact or the "
        "customer's verified domains are missing."
    ),
    ReasonCode.BELOW_MINIMUM: _("The customer has fewer seats than the program's minimum."),
    ReasonCode.PARTNER_INACTIVE: _("Your partner account is suspended."),
    ReasonCode.OPEN_DISPUTE: _("A dispute is open on this service for this customer."),
}

# The engine's detail adds facts worth knowing, except where it names someone else.
_DETAIL_HIDDEN = {ReasonCode.EXISTING_CLAIM}

_OUTCOME = {
    ClaimLine.Status.PENDING: _("Not checked yet: it is checked once the claim is confirmed."),
    ClaimLine.Status.APPROVED: _("Approved: you are partner of record for this service."),
    ClaimLine.Status.IN_REVIEW: _("With the claims team, for the reasons below."),
    ClaimLine.Status.REJECTED: _(
        "Rejected by the claims team; their reason is in the history below."
    ),
    ClaimLine.Status.REMOVED: _("Removed from the claim by the customer."),
}


@register.filter
def line_outcome(line: ClaimLine) -> str:
    return str(_OUTCOME.get(line.status, ""))


@register.filter
def partner_reasons(line: ClaimLine) -> list[dict[str, Any]]:
    """The failed rules of the line's latest check, each as label, sentence and detail."""
    decisions = list(line.decisions.all())  # prefetched, newest first
    if not decisions or decisions[0].passed:
        return []
    reasons = []
    for result in decisions[0].results:
        if result.get("passed"):
            continue
        code = result.get("rule", "")
        try:
            known = ReasonCode(code)
        except ValueError:
            reasons.append({"label": code, "words": "", "detail": ""})
            continue
        reasons.append(
            {
                "label": reason_label(code),
                "words": str(_REASON_WORDS.get(known, "")),
                "detail": "" if known in _DETAIL_HIDDEN else result.get("detail", ""),
            }
        )
    return reasons


@register.filter
def is_overdue(moment: Any) -> bool:
    return moment is not None and moment < timezone.now()


_TEAM_CHANGES = {
    "partners.member.invited": _("%(email)s invited as %(role)s"),
    "partners.member.invitation_revoked": _("Invitation to %(email)s withdrawn"),
    "partners.member.joined": _("%(email)s joined as %(role)s"),
    "partners.member.role_changed": _("%(email)s is now %(to)s"),
    "partners.member.removed": _("%(email)s removed and signed out"),
    "partners.profile.changed": _("Profile changed"),
}
_ROLE_WORDS = dict(PartnerMembership.Role.choices)


@register.filter
def team_change(entry: Any) -> str:
    """An entry of the partner's audited history, in words."""
    text = _TEAM_CHANGES.get(entry.action)
    if text is None:
        return entry.action
    data = {key: value for key, value in entry.data.items() if isinstance(value, str)}
    for key in ("role", "to"):
        if key in data:
            data[key] = str(_ROLE_WORDS.get(data[key], data[key]))
    data.setdefault("email", "")
    data.setdefault("role", "")
    data.setdefault("to", "")
    return str(text) % data
