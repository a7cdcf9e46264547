"""Signed tokens for the links partners send: one salt per kind of link.

A token names a row and its random nonce; the signature (SECRET_KEY) makes an altered
token fail, and the nonce binds it to that one row. Whether the row still works (expiry,
revocation, use) is for the caller to read.
"""

from __future__ import annotations

from django.core import signing
from django.db.models import Model

CLAIM_INVITE = "partners.claim-invite"
TEAM_INVITATION = "partners.team-invitation"


def make(row: Model, *, salt: str) -> str:
    # No timestamp in the token: the row's expiry is what counts, and the same row always
    # gives the same link (the partner's page and the email show one link).
    return signing.Signer(salt=salt).sign_object(
        {"i": row.pk, "n": row.nonce}  # type: ignore[attr-defined]
    )


def read(token: str, *, salt: str) -> tuple[int, str] | None:
    """(row id, nonce) of a token we signed; None when it was altered or is not ours."""
    try:
        payload = signing.Signer(salt=salt).unsign_object(token)
        return int(payload["i"]), str(payload["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
