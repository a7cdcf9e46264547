"""How the navigation shows the unread count."""

from __future__ import annotations

from django import template

from claims.inbox import UNREAD_SHOWN

register = template.Library()


@register.filter
def unread_label(count: int) -> str:
    return f"{UNREAD_SHOWN}+" if count > UNREAD_SHOWN else str(count)
