from __future__ import annotations

from django.http import HttpRequest

from claims_portal.roles import NOBODY


def roles(request: HttpRequest) -> dict:
    return {"nav": getattr(request, "roles", NOBODY)}
