from __future__ import annotations

from django.http import HttpRequest

from claims_portal.roles import roles_for


def roles(request: HttpRequest) -> dict:
    return {"nav": roles_for(getattr(request, "user", None))}
