"""The thin path in headless Chromium: sign up, claim, confirm, review, with screenshots."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.core import mail

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


class Shots:
    def __init__(self):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def __call__(self, page, name):
        self.n += 1
        page.screenshot(path=str(SHOTS / f"{self.n:02d}-{name}.png"), full_page=True)


def _sign_in(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit], form#login_form button[type=submit]").first.click()
    page.wait_for_load_state()


def test_it_walks_the_claim_path_in_a_browser(
    stray_connections_closed, live_server, browser, world
):
    base = live_server.url
    shot = Shots()
    exchange, _teams, intune = world.workloads

    # The landing page and the partner code.
    customer = browser.new_page(viewport={"width": 1280, "height": 900})
    customer.goto(base + "/")
    shot(customer, "home")
    customer.fill("input[name=code]", "contoso1")
    customer.locator("form[action='/c/'] button[type=submit]").click()
    customer.wait_for_load_state()
    # Not signed in yet: the portal asks to sign in, with a way to sign up.
    assert "/accounts/login/" in customer.url
    shot(customer, "sign-in-required")
    customer.goto(f"{base}/accounts/signup/?next=/c/contoso/")
    customer.fill("input[name=email]", "nora@northwind.example")
    customer.fill("input[name=password1]", "a-Long-passphrase-42")
    customer.fill("input[name=password2]", "a-Long-passphrase-42")
    shot(customer, "sign-up")
    customer.locator("main form button[type=submit]").first.click()
    customer.wait_for_load_state()
    shot(customer, "verify-email-sent")
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    customer.goto(link)
    shot(customer, "confirm-email")
    customer.locator("main form button[type=submit]").first.click()
    customer.wait_for_load_state()

    # The claim form: organisation, two services, contact, signature.
    customer.goto(f"{base}/c/contoso/")
    shot(customer, "claim-form-empty")
    customer.fill("input[name='org-name']", "Northwind Traders")
    customer.fill("input[name='org-tenant_id']", "northwind.example")
    customer.fill("input[name='org-seats']", "800")
    for workload in (exchange, intune):
        customer.check(f"input[name='w{workload.pk}-selected']")
        customer.fill(f"input[name='w{workload.pk}-target_start']", "2026-12-01")
        customer.fill(f"input[name='w{workload.pk}-target_end']", "2027-03-31")
        customer.fill(f"input[name='w{workload.pk}-seats']", "400")
    customer.fill("input[name='contact-survey_contact_name']", "Nora N")
    customer.fill("input[name='contact-survey_contact_email']", "nora@northwind.example")
    # A mistake first: no signature name. The page says so and keeps every field.
    customer.check("input[name='sign-attest']")
    customer.click("button[value=sign]")
    customer.wait_for_load_state()
    assert customer.locator(".invalid-feedback, .is-invalid").count() > 0
    assert customer.input_value("input[name='org-name']") == "Northwind Traders"
    shot(customer, "claim-form-error")
    customer.fill("input[name='sign-signed_name']", "Nora Northwind")
    customer.check("input[name='sign-attest']")
    customer.click("button[value=sign]")
    customer.wait_for_load_state()
    assert "Awaiting partner" in customer.content()
    reference = re.search(r"CLM-\d{4}-\d{6}", customer.content()).group(0)
    shot(customer, "claim-submitted")

    # The partner confirms.
    partner = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(partner, base, world.partner_member.email)
    partner.goto(f"{base}/partner/")
    shot(partner, "partner-dashboard")
    partner.click(f"text={reference}")
    partner.wait_for_load_state()
    shot(partner, "partner-claim")
    partner.click("button:has-text('Confirm claim')")
    partner.wait_for_load_state()
    assert "In review" in partner.content()
    shot(partner, "partner-claim-confirmed")

    # The claims team approves the exception.
    team = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(team, base, world.reviewer.email)
    team.goto(f"{base}/review/")
    shot(team, "review-queue")
    team.click(f"text={reference}")
    team.wait_for_load_state()
    shot(team, "review-claim")
    team.click("label:has-text('Approve')")
    team.fill("textarea[name=comment]", "Intune scope checked against the custom SOW.")
    team.click("button:has-text('Record decision')")
    team.wait_for_load_state()
    assert "Decision on claim" in team.content()
    shot(team, "review-decided")

    # The customer sees the outcome and its history.
    customer.goto(f"{base}/claims/{reference}/")
    assert "Approved" in customer.content()
    shot(customer, "customer-claim-approved")
    customer.goto(f"{base}/claims/")
    shot(customer, "customer-claims")
