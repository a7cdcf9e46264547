from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from claims_portal.roles import roles_for


class PortalRolesMiddleware:
    """Sets `request.roles`, read once per request and only when a page asks."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.roles = SimpleLazyObject(lambda: roles_for(request.user))  # type: ignore[attr-defined]
        return self.get_response(request)
