"""View decorators that check the role before a page does anything."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from claims_portal.roles import roles_for


def _role_required(check):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(roles_for(request.user)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


customer_required = _role_required(lambda roles: roles.is_customer)
partner_required = _role_required(lambda roles: roles.is_partner)
claims_team_required = _role_required(lambda roles: roles.is_claims_team)
