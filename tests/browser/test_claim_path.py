"""The thin path in headless Chromium: sign up, claim, confirm, review, with screenshots.

Every page on the way is checked at 1280 and 390 px: axe-core's WCAG A/AA rules and no
sideways scrolling (see conftest.py).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from tests.browser.accounts import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_walks_the_claim_path_in_a_browser(new_page, check_page, world):
    exchange, _teams, intune = world.workloads

    # The landing page and the partner code.
    customer = new_page()
    customer.goto("/")
    check_page(customer, "home")
    customer.fill("input[name=code]", "contoso1")
    customer.locator("form[action='/c/'] button[type=submit]").click()
    customer.wait_for_load_state()
    # Not signed in yet: the partner's page (both logos, whose program it is) asks to sign
    # in, with a way to sign up.
    assert customer.url.endswith("/c/contoso/")
    assert "Sign in to continue" in customer.content()
    check_page(customer, "sign-in-required")
    customer.goto("/accounts/signup/?next=/c/contoso/")
    customer.fill("input[name=email]", "nora@northwind.example")
    customer.fill("input[name=password1]", "a-Long-passphrase-42")
    customer.fill("input[name=password2]", "a-Long-passphrase-42")
    check_page(customer, "sign-up")
    customer.locator("main form button[type=submit]").first.click()
    customer.wait_for_load_state()
    check_page(customer, "verify-email-sent")
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    customer.goto(link)
    check_page(customer, "confirm-email")
    customer.locator("main form button[type=submit]").first.click()
    customer.wait_for_load_state()

    # The claim form: organisation, two services, contact, signature.
    customer.goto("/c/contoso/")
    check_page(customer, "claim-form-empty")
    customer.fill("input[name='org-name']", "Northwind Traders")
    customer.fill("input[name='org-tenant_id']", "northwind.example")
    customer.fill("input[name='org-seats']", "800")
    start = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    end = (timezone.localdate() + datetime.timedelta(days=120)).isoformat()
    for workload in (exchange, intune):
        customer.check(f"input[name='w{workload.pk}-selected']")
        customer.fill(f"input[name='w{workload.pk}-target_start']", start)
        customer.fill(f"input[name='w{workload.pk}-target_end']", end)
        customer.fill(f"input[name='w{workload.pk}-seats']", "400")
    customer.fill("input[name='contact-survey_contact_name']", "Nora N")
    # A mistake first: no survey contact email. The page says so and keeps every field.
    customer.click("button[value=review]")
    customer.wait_for_load_state()
    assert customer.locator(".invalid-feedback, .is-invalid").count() > 0
    assert customer.input_value("input[name='org-name']") == "Northwind Traders"
    check_page(customer, "claim-form-error")
    customer.fill("input[name='contact-survey_contact_email']", "nora@northwind.example")
    customer.click("button[value=review]")
    customer.wait_for_load_state()
    # The claim's page: the check before signing, then the signature.
    assert "The check before signing" in customer.content()
    check_page(customer, "claim-check-before-signing")
    customer.fill("input[name='sign-signed_name']", "Nora Northwind")
    customer.check("input[name='sign-attest']")
    customer.click("#sign button[type=submit]")
    customer.wait_for_load_state()
    assert "Awaiting partner" in customer.content()
    reference = re.search(r"CLM-\d{4}-\d{6}", customer.content()).group(0)
    check_page(customer, "claim-submitted")

    # The partner confirms.
    partner = new_page()
    sign_in(partner, world.partner_member.email)
    partner.goto("/partner/")
    check_page(partner, "partner-dashboard")
    partner.click(f"text={reference}")
    partner.wait_for_load_state()
    check_page(partner, "partner-claim")
    partner.click("button:has-text('Confirm claim')")
    partner.wait_for_load_state()
    assert "In review" in partner.content()
    check_page(partner, "partner-claim-confirmed")

    # The claims team approves the exception.
    team = new_page()
    sign_in(team, world.reviewer.email)
    team.goto("/review/")
    check_page(team, "review-queue")
    team.click(f"text={reference}")
    team.wait_for_load_state()
    check_page(team, "review-claim")
    team.click("label:has-text('Approve')")
    team.fill("textarea[name=comment]", "Intune scope checked against the custom SOW.")
    team.click("button:has-text('Record decision')")
    team.wait_for_load_state()
    assert "Decision on claim" in team.content()
    check_page(team, "review-decided")

    # The customer sees the outcome and its history.
    customer.goto(f"/claims/{reference}/")
    assert "Approved" in customer.content()
    check_page(customer, "customer-claim-approved")
    customer.goto("/claims/")
    check_page(customer, "customer-claims")
