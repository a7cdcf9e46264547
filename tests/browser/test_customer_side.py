"""The customer's side in Chromium: colleagues join, claims are filled, routed, checked,
signed, returned and corrected. Every page is checked at 1280 and 390 px (axe-core's WCAG
A/AA rules, no sideways scrolling) and screenshotted for a person to look at."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from claims import lifecycle
from claims.models import Claim
from customers.models import CustomerMembership
from tests import factories as f
from tests.browser.accounts import sign_in
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


def _dates(days_from_now: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days_from_now)).isoformat()


def _fill_line(page, workload, seats: str) -> None:
    page.check(f"input[name='w{workload.pk}-selected']")
    page.fill(f"input[name='w{workload.pk}-target_start']", _dates(10))
    page.fill(f"input[name='w{workload.pk}-target_end']", _dates(100))
    page.fill(f"input[name='w{workload.pk}-seats']", seats)


def test_a_contributor_routes_and_the_approver_checks_and_signs(new_page, check_page, world):
    exchange, teams, intune = world.workloads
    f.AssociationFactory(customer=world.customer, workload=teams, partner=world.rival)
    contributor = new_page(world.contributor)
    contributor.goto("/c/contoso/")
    check_page(contributor, "claim-form-contributor")
    _fill_line(contributor, exchange, "400")
    _fill_line(contributor, intune, "0")  # a mistake: no seats
    # One contact per service: only those fields show.
    contributor.check("input[name='contact-survey_contact_mode'][value='per_service']")
    assert contributor.is_hidden("input[name='contact-survey_contact_email']")
    for workload, who in ((exchange, "ann"), (intune, "bo")):
        contributor.fill(f"input[name='w{workload.pk}-survey_contact_name']", who.title())
        contributor.fill(
            f"input[name='w{workload.pk}-survey_contact_email']", f"{who}@woodgrove.example"
        )
    contributor.fill("textarea[name='message']", "Seats are from the March licence count.")
    contributor.click("button[value=route]")
    contributor.wait_for_load_state()
    assert "Give at least 1 seat." in contributor.content()
    assert contributor.input_value(f"input[name='w{exchange.pk}-seats']") == "400"
    assert contributor.input_value("textarea[name='message']").startswith("Seats are from")
    check_page(contributor, "claim-form-contributor-error")
    contributor.fill(f"input[name='w{intune.pk}-seats']", "250")
    contributor.click("button[value=route]")
    contributor.wait_for_load_state()
    assert "was sent to your approver" in contributor.content()
    check_page(contributor, "claim-routed")
    reference = re.search(r"CLM-\d{4}-\d{6}", contributor.url).group(0)
    claim = Claim.objects.get(reference=reference)
    assert claim.status == Claim.Status.AWAITING_CUSTOMER_APPROVAL

    # The approver: the message, what changed (nothing), the check, today's partners, sign.
    approver = new_page(world.approver)
    approver.goto(f"/claims/{reference}/")
    body = approver.content()
    assert "Seats are from the March licence count." in body
    assert "Nothing: the claim is as it was sent" in body
    assert "Will be approved at once" in body  # Exchange
    assert "Will go to the vendor" in body  # Intune: not in Contoso's catalog
    assert "Fabrikam" in body  # holds Teams today
    check_page(approver, "claim-approver-check")
    approver.fill("input[name='sign-signed_name']", "Alex Approver")
    approver.check("input[name='sign-attest']")
    approver.click("#sign button[type=submit]")
    approver.wait_for_load_state()
    assert "was signed and sent to the partner" in approver.content()
    check_page(approver, "claim-signed")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_PARTNER
    assert {line["workload"]: line["passed"] for line in claim.signing_check["lines"]} == {
        "Exchange Online": True,
        "Microsoft Intune": False,
    }

    # The partner returns it; the approver corrects and resubmits.
    lifecycle.return_to_customer(
        claim, user=world.partner_member, comment="Intune: 300 seats, not 250."
    )
    approver.goto(f"/claims/{reference}/")
    assert "Intune: 300 seats, not 250." in approver.content()
    check_page(approver, "claim-returned")
    approver.click("main a:has-text('Correct the claim')")
    approver.wait_for_load_state()
    check_page(approver, "claim-form-returned")
    approver.fill(f"input[name='w{intune.pk}-seats']", "300")
    approver.click("button[value=review]")
    approver.wait_for_load_state()
    assert "seats 250 → 300" in approver.content()
    approver.fill("input[name='sign-signed_name']", "Alex Approver")
    approver.check("input[name='sign-attest']")
    approver.click("#sign button[type=submit]")
    approver.wait_for_load_state()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_PARTNER
    assert claim.lines.get(workload=intune).seats == 300
    approver.click("summary:has-text('What changed') >> nth=-1")
    check_page(approver, "claim-resubmitted-history")

    # The comment thread, and the list with its filters.
    approver.fill("textarea[name='comment-body']", "Thanks, corrected.")
    approver.click("button:has-text('Add comment')")
    approver.wait_for_load_state()
    assert "Thanks, corrected." in approver.content()
    approver.goto(f"/claims/?partner={world.partner.pk}")
    assert reference in approver.content()
    check_page(approver, "claims-list-filtered")


def test_a_form_left_when_the_session_ended_is_offered_back(new_page, check_page, world):
    exchange = world.workloads[0]
    page = new_page(world.approver)
    page.goto("/c/contoso/")
    _fill_line(page, exchange, "321")
    page.fill("input[name='contact-survey_contact_name']", "Sam Survey")
    # The session ends while the form is open; the save goes to the sign-in page.
    page.context.clear_cookies(name="sessionid")
    page.click("button[value=save]")
    page.wait_for_load_state()
    assert "/accounts/login/" in page.url
    assert Claim.objects.count() == 0
    sign_in(page, world.approver.email)
    page.goto("/c/contoso/")
    banner = page.locator("#form-restore")
    banner.wait_for(state="visible")
    check_page(page, "claim-form-offered-back")
    page.click("button[data-restore=yes]")
    assert page.input_value(f"input[name='w{exchange.pk}-seats']") == "321"
    assert page.input_value("input[name='contact-survey_contact_name']") == "Sam Survey"
    page.click("button[value=save]")
    page.wait_for_load_state()
    assert Claim.objects.get().lines.get().seats == 321
    # Saved: the browser forgets its copy, and the form no longer offers it.
    page.goto("/c/contoso/")
    assert page.locator("#form-restore").is_hidden()


def test_a_double_click_makes_one_claim(new_page, world):
    page = new_page(world.approver)
    page.goto("/c/contoso/")
    _fill_line(page, world.workloads[0], "100")
    posts = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    with page.expect_navigation(url=re.compile(r"/claims/CLM-")):
        page.dblclick("button[value=save]")
    page.wait_for_load_state()
    assert "was saved as a draft" in page.content()
    # The browser sent the form once (the server would also have made one claim of two).
    assert len(posts) == 1
    assert Claim.objects.count() == 1
