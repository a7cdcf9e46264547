"""The partner's workspace in the browser: confirm, bulk-confirm, return, prepare a custom-SOW
claim that the customer takes up through its link and signs; an admin invites a member."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from claims.models import Claim, ClaimAction, Event
from partners.models import ClaimInvite, PartnerInvitation
from tests import factories as f
from tests import uploads as u

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _waiting(world, n):
    return [
        f.ClaimFactory(
            submitted=True,
            partner=world.partner,
            customer=f.CustomerFactory(name=f"Customer {name}"),
            program=world.program,
            workloads=[world.workloads[0]],
        )
        for name in "ABCD"[:n]
    ]


def test_a_partner_works_its_claims_and_prepares_one_the_customer_signs(
    new_page, check_page, world, tmp_path
):
    world.program.claim_limit_per_partner = 500
    world.program.save()
    one, two, three, four = _waiting(world, 4)
    partner = new_page(world.partner_member)

    # The dashboard: counts, the claim limit, four claims to confirm.
    partner.goto("/partner/")
    expect(partner.get_by_text("4 claims are waiting for your confirmation.")).to_be_visible()
    expect(partner.get_by_text("of 500 approved claims used")).to_be_visible()
    check_page(partner, "dashboard")

    # Confirms one from its page.
    partner.get_by_role("link", name=one.reference).click()
    expect(partner.get_by_text("Signed for the customer")).to_be_visible()
    partner.get_by_role("button", name="Confirm claim").click()
    expect(partner.locator(".alert-success")).to_contain_text(f"Claim {one.reference} is confirmed")
    check_page(partner, "confirmed-one")

    # Bulk-confirms two from the list.
    partner.goto("/partner/?needs_action=1")
    for claim in (two, three):
        partner.get_by_label(f"Tick {claim.reference}").check()
    partner.get_by_role("button", name="Confirm ticked claims").click()
    done = partner.locator(".alert-success")
    expect(done).to_contain_text("Confirmed 2 claims: ")
    expect(done).to_contain_text(two.reference)
    expect(done).to_contain_text(three.reference)
    check_page(partner, "bulk-confirmed")
    for claim in (one, two, three):
        assert Event.objects.filter(claim=claim, action=ClaimAction.CONFIRM).count() == 1

    # Returns the last one with a comment.
    partner.get_by_role("link", name=four.reference).click()
    returning = partner.locator(
        "form", has=partner.get_by_role("button", name="Return for corrections")
    )
    returning.get_by_label("Comment").fill("The seats do not match the tenant; please check.")
    returning.get_by_role("button", name="Return for corrections").click()
    expect(partner.locator(".alert-success")).to_contain_text("was returned to the customer")
    four.refresh_from_db()
    assert four.status == Claim.Status.RETURNED_TO_CUSTOMER

    # Prepares a custom-SOW claim for a customer new to the portal.
    partner.goto("/partner/")
    partner.get_by_role("link", name="Prepare a custom-SOW claim").click()
    partner.get_by_label("Customer tenant id").fill("northwind.example")
    partner.get_by_label("Organisation name").fill("Northwind Traders")
    partner.get_by_label("Organisation's email domain").fill("northwind.example")
    partner.get_by_label("Exchange Online").check()
    today = timezone.localdate()
    line = partner.locator(".claim-line", has_text="Exchange Online")
    line.get_by_label("Target start").fill(today.isoformat())
    line.get_by_label("Target completion").fill((today + datetime.timedelta(days=120)).isoformat())
    line.get_by_label("Seats").fill("750")
    contact = partner.locator(".one-contact")
    contact.get_by_label("Contact name").fill("Sam Survey")
    contact.get_by_label("Contact email").fill("sam@northwind.example")
    sow = tmp_path / "northwind-sow.pdf"
    sow.write_bytes(u.PDF)
    partner.get_by_label("Custom SOW (PDF, up to 10 MB)").set_input_files(str(sow))
    check_page(partner, "prepare")
    partner.get_by_role("button", name="Prepare the claim and get its link").click()
    expect(partner.locator(".alert-success")).to_contain_text("is prepared")
    link = partner.locator("#invite-url").input_value()
    assert re.search(r"/i/[^/]+/$", link)
    check_page(partner, "prepared-with-link")
    prepared = Claim.objects.get(partner_prepared=True)
    assert prepared.status == Claim.Status.AWAITING_CUSTOMER_APPROVAL

    # The customer opens the link: first as a stranger, then signed in, and signs.
    stranger = new_page()
    stranger.goto(link)
    expect(stranger.get_by_text("Contoso prepared a claim for Northwind Traders")).to_be_visible()
    check_page(stranger, "invite-signed-out")
    ada = f.UserFactory(email="ada@northwind.example")
    customer = new_page(ada)
    customer.goto(link)
    customer.get_by_role("button", name="Open the claim to review and sign").click()
    expect(customer.locator(".alert-success")).to_contain_text(
        f"Claim {prepared.reference} from Contoso is open for you"
    )
    expect(customer.get_by_role("link", name="Download the SOW (PDF)")).to_be_visible()
    check_page(customer, "customer-reviews")
    customer.get_by_label("Your full name").fill("Ada Approver")
    customer.get_by_label("I confirm that I am authorised to sign for my organisation.").check()
    customer.get_by_role("button", name="Sign and submit").click()
    expect(customer.locator(".alert-success")).to_contain_text("signed")
    check_page(customer, "customer-signed")
    prepared.refresh_from_db()
    assert prepared.status == Claim.Status.AWAITING_PARTNER
    assert ClaimInvite.objects.get(claim=prepared).used_by == ada

    # The partner sees it come back, and its notifications.
    partner.goto("/notifications/")
    expect(partner.get_by_text(f"{prepared.reference}: Awaiting partner")).to_be_visible()
    check_page(partner, "notifications")


def test_an_admin_invites_a_member_and_a_member_cannot(new_page, check_page, world):
    admin = new_page(world.partner_admin)
    admin.goto("/partner/team/")
    invite = admin.locator("form", has=admin.get_by_role("button", name="Send the invitation"))
    invite.get_by_label("Email").fill("newcomer@contoso.example")
    invite.get_by_label("Role").select_option(label="Partner member")
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.locator(".alert-success")).to_contain_text(
        "An invitation is on its way to newcomer@contoso.example"
    )
    expect(admin.get_by_text("Open invitations")).to_be_visible()
    check_page(admin, "team-admin")
    assert PartnerInvitation.objects.get().email == "newcomer@contoso.example"

    member = new_page(world.partner_member)
    member.goto("/partner/team/")
    expect(member.get_by_text("Only your partner's admins can invite")).to_be_visible()
    expect(member.get_by_role("button", name="Send the invitation")).to_have_count(0)
    check_page(member, "team-member")

    admin.goto("/partner/profile/")
    check_page(admin, "profile")
