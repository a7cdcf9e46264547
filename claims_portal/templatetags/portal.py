"""How the portal shows its vocabulary: statuses, reasons, timeline markers, dates.

Templates display; what a status looks like or what a reason code says is decided here.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from approvals.rules import reason_label as _reason_label
from claims.models import Claim, ClaimLine

register = template.Library()

S = Claim.Status
L = ClaimLine.Status

# status -> (Bootstrap badge classes, Bootstrap icon)
_CLAIM_STATUS_STYLE = {
    S.DRAFT: ("text-bg-secondary", "bi-pencil"),
    S.AWAITING_CUSTOMER_APPROVAL: ("text-bg-info", "bi-pen"),
    S.AWAITING_PARTNER: ("text-bg-primary", "bi-hourglass-split"),
    S.RETURNED_TO_CUSTOMER: ("text-bg-warning", "bi-arrow-return-left"),
    S.EVALUATING: ("text-bg-info", "bi-gear"),
    S.IN_REVIEW: ("text-bg-warning", "bi-search"),
    S.APPROVED: ("text-bg-success", "bi-check-circle"),
    S.PARTIALLY_APPROVED: ("bg-success-subtle text-success-emphasis border", "bi-check2-circle"),
    S.REJECTED: ("text-bg-danger", "bi-x-circle"),
    S.WITHDRAWN: ("text-bg-light border", "bi-slash-circle"),
}

_LINE_STATUS_STYLE = {
    L.PENDING: ("text-bg-secondary", "bi-circle"),
    L.APPROVED: ("text-bg-success", "bi-check-circle"),
    L.IN_REVIEW: ("text-bg-warning", "bi-search"),
    L.REJECTED: ("text-bg-danger", "bi-x-circle"),
    L.REMOVED: ("text-bg-light border", "bi-dash-circle"),
}

# The marker of a timeline entry, by the status the event left the claim in.
_TIMELINE_ICON = {
    S.APPROVED: "bi-check-lg",
    S.PARTIALLY_APPROVED: "bi-check-lg",
    S.REJECTED: "bi-x-lg",
    S.WITHDRAWN: "bi-x-lg",
    S.RETURNED_TO_CUSTOMER: "bi-arrow-return-left",
    S.IN_REVIEW: "bi-search",
    S.EVALUATING: "bi-gear",
    S.AWAITING_PARTNER: "bi-send",
    S.AWAITING_CUSTOMER_APPROVAL: "bi-send",
}

# What happens next, in the customer's words.
_CUSTOMER_NEXT_STEP = {
    S.DRAFT: gettext_lazy(
        "This claim is a draft. Finish it, then sign it or send it to your approver."
    ),
    S.AWAITING_CUSTOMER_APPROVAL: gettext_lazy("Waiting for your organisation's approver to sign."),
    S.AWAITING_PARTNER: gettext_lazy("Waiting for %(partner)s to confirm."),
    S.RETURNED_TO_CUSTOMER: gettext_lazy(
        "Returned for corrections: see the comment in the history, edit the claim and resubmit it."
    ),
    S.EVALUATING: gettext_lazy(
        "Being checked against the partner's pre-approved catalog. This takes moments."
    ),
    S.IN_REVIEW: gettext_lazy(
        "Some services need a look from the vendor's claims team. Standard services are "
        "approved already."
    ),
    S.APPROVED: gettext_lazy("Approved. The partner is now partner of record for these services."),
    S.PARTIALLY_APPROVED: gettext_lazy("Partly approved: see each service's status."),
    S.REJECTED: gettext_lazy("Rejected: see the reason in the history."),
    S.WITHDRAWN: gettext_lazy("Withdrawn."),
}


def _badge(classes: str, icon: str, label: Any, extra: str = "") -> SafeString:
    return format_html(
        '<span class="badge rounded-pill status-badge {} {}">'
        '<i class="bi {}" aria-hidden="true"></i> {}</span>',
        extra,
        classes,
        icon,
        label,
    )


@register.simple_tag
def status_badge(status: str) -> SafeString:
    """A claim status as a coloured badge, icon included so colour is never the only cue."""
    classes, icon = _CLAIM_STATUS_STYLE.get(status, ("text-bg-secondary", "bi-circle"))
    label = S(status).label if status in S.values else status
    return _badge(classes, icon, label, extra=f"status-{status}")


@register.simple_tag
def line_status_badge(status: str) -> SafeString:
    classes, icon = _LINE_STATUS_STYLE.get(status, ("text-bg-secondary", "bi-circle"))
    label = L(status).label if status in L.values else status
    return _badge(classes, icon, label)


@register.filter
def timeline_icon(event: Any) -> str:
    if event.to_status in _TIMELINE_ICON and event.to_status != event.from_status:
        return _TIMELINE_ICON[event.to_status]
    return "bi-chat-left-text" if event.comment else "bi-pencil"


@register.filter
def reason_label(code: str) -> str:
    return _reason_label(code)


@register.filter
def customer_next_step(claim: Claim) -> str:
    text = _CUSTOMER_NEXT_STEP.get(claim.status)
    return str(text) % {"partner": claim.partner.name} if text else ""


@register.filter
def due_in(moment: datetime.datetime | None) -> str:
    """A deadline in words: "due in 3 days", "due today", "2 days overdue"."""
    if moment is None:
        return ""
    days = (timezone.localdate(moment) - timezone.localdate()).days
    if days > 0:
        return ngettext("due in %(n)d day", "due in %(n)d days", days) % {"n": days}
    if days == 0:
        return _("due today")
    return ngettext("%(n)d day overdue", "%(n)d days overdue", -days) % {"n": -days}


@register.filter
def duration(value: datetime.timedelta | None) -> str:
    """A span of time in the largest unit that reads naturally."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    days = hours // 24
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


@register.simple_tag
def program_sentence(program: Any, partner: Any) -> str:
    """Whose program this is and who delivers it, in one plain sentence for the customer."""
    return _(
        "%(program)s is a partner program of %(vendor)s. %(partner)s delivers its services to "
        "your organisation and, once you name it here, is credited as your partner of record."
    ) % {"program": program.name, "vendor": settings.VENDOR_NAME, "partner": partner.name}
