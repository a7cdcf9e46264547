"""The customer's side in Chromium: colleagues join, claims are filled, routed, checked,
signed, returned and corrected. Every page is checked at 1280 and 390 px (axe-core's WCAG
A/AA rules, no sideways scrolling) and screenshotted for a person to look at."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from customers.models import CustomerMembership
from tests import factories as f
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _join_link() -> str:
    return re.search(r"https?://\S+(/organisation/join/\S+/)", mail.outbox[-1].body).group(1)


def test_an_invited_colleague_joins(new_page, check_page, world):
    f.AssociationFactory(customer=world.customer, workload=world.workloads[0], partner=world.rival)
    approver = new_page(world.approver)
    approver.goto("/organisation/")
    check_page(approver, "organisation-approver")
    # A mistake first: an address outside the organisation's domains.
    approver.fill("input[name='invite-email']", "dana@gmail.example")
    approver.click("button:has-text('Send invitation')")
    approver.wait_for_load_state()
    assert "not at one of Woodgrove" in approver.content()
    assert approver.input_value("input[name='invite-email']") == "dana@gmail.example"
    check_page(approver, "organisation-invite-error")
    approver.fill("input[name='invite-email']", "dana@woodgrove.example")
    approver.select_option("select[name='invite-role']", "contributor")
    approver.click("button:has-text('Send invitation')")
    approver.wait_for_load_state()
    assert "An invitation is on its way to dana@woodgrove.example" in approver.content()
    check_page(approver, "organisation-invited")

    # The colleague opens the link, signs in as the invited address, and joins.
    f.UserFactory(email="dana@woodgrove.example")
    colleague = new_page()
    colleague.goto(_join_link())
    assert "Join Woodgrove" in colleague.content()
    check_page(colleague, "join-signed-out")
    colleague.click("main a:has-text('Sign in')")
    colleague.fill("input[name=login]", "dana@woodgrove.example")
    colleague.fill("input[name=password]", PASSWORD)
    colleague.locator("main form button[type=submit]").first.click()
    colleague.wait_for_load_state()
    assert "/organisation/join/" in colleague.url
    check_page(colleague, "join-signed-in")
    colleague.click("button:has-text('Join Woodgrove')")
    colleague.wait_for_load_state()
    assert "Welcome to Woodgrove" in colleague.content()
    assert (
        CustomerMembership.objects.get(user__email="dana@woodgrove.example").role == "contributor"
    )
    colleague.goto("/organisation/")
    assert "Only your organisation's approvers" in colleague.content()
    check_page(colleague, "organisation-contributor")
    colleague.goto("/associations/")
    assert "Fabrikam" in colleague.content()
    check_page(colleague, "associations")
