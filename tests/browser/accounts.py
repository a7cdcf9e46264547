"""Signing in for browser tests: a session cookie for speed, the form when the flow needs it."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from tests.factories import PASSWORD


def session_cookie(user, url: str) -> dict:
    """A Playwright cookie holding a fresh signed-in Django session for the user."""
    client = Client()
    # The same session a sign-in creates, without the form (or allauth's rate limits).
    client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[0])
    morsel = client.cookies[settings.SESSION_COOKIE_NAME]
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": morsel.value,
        "url": url,
        "httpOnly": True,
        "sameSite": "Lax",
    }


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form, as a person would."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit], form#login_form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"signing in as {email} failed: still on {page.url}"
