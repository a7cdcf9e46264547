from __future__ import annotations

from django.http import HttpRequest

from claims.inbox import unread_count
from claims_portal.roles import NOBODY


def roles(request: HttpRequest) -> dict:
    return {"nav": getattr(request, "roles", NOBODY)}


def notifications(request: HttpRequest) -> dict:
    # A callable: the template counts only where it shows the number.
    user = getattr(request, "user", None)
    return {"unread_notifications": (lambda: unread_count(user)) if user is not None else 0}
