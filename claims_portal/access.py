"""View decorators that check the role before a page does anything."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from claims_portal.roles import Roles


def role_required(check: Callable[[Roles], bool]):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


customer_required = role_required(lambda roles: roles.is_customer)
partner_required = role_required(lambda roles: roles.is_partner)
claims_team_required = role_required(lambda roles: roles.is_claims_team)
