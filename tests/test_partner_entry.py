"""/c/ and /c/<partner>/: codes and addresses forgive case and spaces, say clearly when a
partner is unknown or suspended, and a client cannot walk through the codes."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from claims.views import PARTNER_CODE_LIMIT
from claims_portal.ratelimit import Limit


def _start_url(world):
    return reverse("claim_start", args=[world.partner.slug])


@pytest.mark.parametrize(
    "typed", ["CONTOSO1", "contoso1", " Contoso 1 ", "CON-TOSO-1", "c o n t o s o 1"]
)
def test_it_forgives_case_spaces_and_dashes_in_a_code(client, world, typed):
    response = client.post(reverse("partner_code"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == _start_url(world)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "This field is required"),
        ("   ", "This field is required"),
        ("- -", "Enter the code your partner gave you"),
        ("NOPE999", "No partner has the code NOPE999"),
        ("X" * 41, "at most 40 characters"),
        ("<script>", "No partner has the code &lt;SCRIPT&gt;"),
    ],
)
def test_it_explains_a_bad_code_and_keeps_it(client, world, code, message):
    response = client.post(reverse("partner_code"), {"code": code})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    if code.strip() and code != "<script>":
        assert f'value="{code}"' in body


def test_it_says_a_suspended_partner_takes_no_claims(client, world):
    world.partner.is_active = False
    world.partner.save()
    response = client.post(reverse("partner_code"), {"code": "contoso1"})
    assert response.status_code == 400
    assert "Contoso is not taking claims at the moment" in response.content.decode()


def test_it_limits_how_many_codes_one_client_may_try(client, world):
    for n in range(PARTNER_CODE_LIMIT.attempts):
        response = client.post(reverse("partner_code"), {"code": f"WRONG{n}"})
        assert response.status_code == 400
    # Even the right code is refused now, with a clear message and the code kept.
    response = client.post(reverse("partner_code"), {"code": "CONTOSO1"})
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many partner codes were tried" in body
    assert 'value="CONTOSO1"' in body
    # Guessing addresses counts against the same limit.
    client.force_login(world.approver)
    assert client.get(_start_url(world)).status_code == 429


def test_the_limit_is_per_client(client, world):
    for n in range(PARTNER_CODE_LIMIT.attempts):
        client.post(reverse("partner_code"), {"code": f"WRONG{n}"}, REMOTE_ADDR="203.0.113.9")
    assert (
        client.post(
            reverse("partner_code"), {"code": "CONTOSO1"}, REMOTE_ADDR="203.0.113.9"
        ).status_code
        == 429
    )
    other = client.post(reverse("partner_code"), {"code": "CONTOSO1"}, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 302


def test_right_codes_do_not_count(client, world):
    for _ in range(PARTNER_CODE_LIMIT.attempts + 2):
        assert client.post(reverse("partner_code"), {"code": "CONTOSO1"}).status_code == 302


def test_the_limit_is_kept_in_the_configured_cache(settings):
    # Where REDIS_URL is set (CI), counts live in Redis, shared by every server process.
    if settings.REDIS_URL:
        assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    limit = Limit("test-scope", attempts=2, window=60)
    assert limit.hit("client-a") == 1
    assert limit.hit("client-a") == 2
    assert limit.exceeded("client-a")
    assert not limit.exceeded("client-b")
    assert cache.get(limit._key("client-a")) == 2
    limit.reset("client-a")
    assert not limit.exceeded("client-a")


def test_an_unreachable_cache_does_not_take_the_page_down(client, world, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = client.post(reverse("partner_code"), {"code": "contoso1"})
    assert response.status_code == 302


# --- /c/<partner>/ ---------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Contoso", "CONTOSO", "CONTOSO1", "contoso1"])
def test_it_forgives_the_case_of_the_address_and_accepts_the_code(client, world, typed):
    response = client.get(f"/c/{typed}/?from=mail")
    assert response.status_code == 302
    assert response["Location"] == _start_url(world) + "?from=mail"


def test_it_says_clearly_when_no_partner_has_the_address(client, world):
    response = client.get("/c/nobody-here/")
    assert response.status_code == 404
    assert "No partner at this address" in response.content.decode()


def test_it_says_clearly_when_the_partner_is_suspended(client, world):
    world.partner.is_active = False
    world.partner.save()
    response = client.get(_start_url(world))
    assert response.status_code == 404
    assert "Contoso is not taking claims at the moment" in response.content.decode()


def test_it_shows_both_logos_and_the_plain_sentence_before_sign_in(client, world, settings):
    settings.VENDOR_NAME = "Northwind Software"
    response = client.get(_start_url(world))
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        f"{world.program.name} is a partner program of Northwind Software. Contoso delivers" in body
    )
    assert "partner-mark" in body and "program-mark" in body  # no logos uploaded: marks
    assert f"{reverse('account_login')}?next={_start_url(world)}" in body.replace("%2F", "/")


def test_it_shows_uploaded_logos(client, world):
    world.partner.logo = "partners/contoso.png"
    world.partner.save()
    world.program.logo = "programs/deploy.png"
    world.program.save()
    client.force_login(world.approver)
    body = client.get(_start_url(world)).content.decode()
    # A partner's logo is re-encoded and served by the portal, not from MEDIA_URL.
    assert "/files/images/partners/contoso.png" in body
    assert "/media/programs/deploy.png" in body
    assert 'alt="Contoso logo"' in body
