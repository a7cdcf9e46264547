"""Which sessions belong to whom, so taking someone's access away signs them out everywhere.

Django's database sessions cannot be searched by user (their data is signed and encoded),
so every sign-in records its session key here (`UserSession`), and `end_sessions(user)`
deletes those sessions: the person's next request finds no session and must sign in again.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.models import Session
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest

from claims_portal.models import UserSession


@receiver(user_logged_in, dispatch_uid="portal.record_session")
def record_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    UserSession.objects.update_or_create(session_key=session.session_key, defaults={"user": user})


@receiver(user_logged_out, dispatch_uid="portal.forget_session")
def forget_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


def end_sessions(user: Any) -> int:
    """Sign `user` out of every session they signed in with; how many were ended."""
    with transaction.atomic():
        keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
        Session.objects.filter(session_key__in=keys).delete()
        UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)
