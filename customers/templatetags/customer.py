"""How the customer's pages put things: roles, membership changes, usage figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from claims_portal.models import AuditEntry
from customers.models import CustomerMembership

register = template.Library()

_ROLE_STYLE = {
    CustomerMembership.Role.APPROVER: ("text-bg-primary", "bi-pen"),
    CustomerMembership.Role.CONTRIBUTOR: ("text-bg-light border", "bi-pencil"),
}


@register.simple_tag
def member_role_badge(role: str) -> SafeString:
    classes, icon = _ROLE_STYLE.get(role, ("text-bg-light border", "bi-person"))
    label = CustomerMembership.Role(role).label if role in CustomerMembership.Role.values else role
    return format_html(
        '<span class="badge rounded-pill {}"><i class="bi {}" aria-hidden="true"></i> {}</span>',
        classes,
        icon,
        label,
    )


def _role(value: Any) -> str:
    if value in CustomerMembership.Role.values:
        return str(CustomerMembership.Role(value).label).lower()
    return str(value)


@register.simple_tag
def membership_change(entry: AuditEntry) -> str:
    """One line of the organisation's history, in words."""
    data = entry.data or {}
    email = data.get("email", "")
    role = _role(data.get("role", ""))
    texts = {
        "customers.customer.registered": _("Organisation registered"),
        "customers.membership.invited": _("%(email)s invited as %(role)s"),
        "customers.invitation.resent": _("Invitation to %(email)s sent again"),
        "customers.invitation.revoked": _("Invitation to %(email)s withdrawn"),
        "customers.membership.joined": _("%(email)s joined as %(role)s"),
        "customers.membership.removed": _("%(email)s removed"),
        "customers.membership.role_changed": _("%(email)s is now %(to)s (was %(from)s)"),
    }
    text = texts.get(entry.action)
    if text is None:
        return entry.action
    return text % {
        "email": email,
        "role": role,
        "to": _role(data.get("to", "")),
        "from": _role(data.get("from", "")),
    }


@register.simple_tag
def percent(value: Decimal | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:+.1f}" if signed else f"{value:.1f}"
    return f"{text} %"
