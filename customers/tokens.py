"""The signed, expiring token in an invitation link."""

from __future__ import annotations

import datetime
from typing import Any

from django.core import signing

from customers.models import Invitation

INVITATION_DAYS = 7
_SALT = "customers.invitation"


def invitation_token(invitation: Invitation) -> str:
    """Which invitation (and its nonce), signed with the time it was issued."""
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=_SALT)


def read_invitation_token(token: str) -> dict[str, Any]:
    """The token's content; raises signing.SignatureExpired or signing.BadSignature."""
    data = signing.loads(token, salt=_SALT, max_age=datetime.timedelta(days=INVITATION_DAYS))
    if not isinstance(data, dict):
        raise signing.BadSignature("Not an invitation token.")
    return data
