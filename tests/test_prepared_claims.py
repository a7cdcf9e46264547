"""A partner prepares a custom-SOW claim; the customer's approver reviews, corrects, signs."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from approvals.models import ReviewTask
from claims import lifecycle
from claims.events import verify_chain
from claims.lifecycle import ClaimError
from claims.models import Claim, ClaimAction, Notification
from claims_portal.audit import history
from customers.models import Customer, CustomerMembership
from partners import invites
from partners.models import ClaimInvite
from tests import uploads as u
from tests.prepared import NEW_TENANT, form_data, invitee, prepared

S = Claim.Status


def _stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*") if p.is_file()]


def test_it_prepares_a_claim_that_waits_for_the_customer(client, world, settings):
    client.force_login(world.partner_member)
    response = client.post(reverse("partner_prepare"), form_data(world))
    claim = Claim.objects.get(partner_prepared=True)
    assert response.status_code == 302
    assert response["Location"] == reverse("partner_claim_detail", args=[claim.reference])
    assert claim.status == S.AWAITING_CUSTOMER_APPROVAL
    assert claim.created_by == world.partner_member
    event = claim.events.get()
    assert event.action == ClaimAction.PREPARE
    assert event.to_status == S.AWAITING_CUSTOMER_APPROVAL
    assert event.changes["custom_sow"] is True
    assert verify_chain(claim) == []
    customer = claim.customer
    assert (customer.tenant_id, customer.name) == ("northwind.example", "Northwind Traders")
    assert customer.verified_domains == "northwind.example"
    assert not customer.memberships.exists()
    assert [e.action for e in history(customer)] == ["customers.customer.named_by_partner"]
    [stored] = _stored_files(settings)
    assert stored.read_bytes() == u.PDF
    assert claim.custom_sow.name.endswith(".pdf") and "sow.pdf" not in claim.custom_sow.name

    page = client.get(response["Location"]).content.decode()
    assert "Link for the customer" in page
    assert invites.token_for(claim.invites.get()) in page
    dashboard = client.get(reverse("partner_dashboard")).content.decode()
    assert claim.reference in dashboard


def test_it_emails_the_link_when_asked(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.partner_member)
    data = form_data(world, **{"sow-customer_email": "ada@northwind.example"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("partner_prepare"), data)
    invite = ClaimInvite.objects.get()
    assert invite.sent_at is not None
    [message] = mail.outbox
    assert message.to == ["ada@northwind.example"]
    assert "Contoso prepared claim" in message.subject
    assert reverse("claim_invite", args=[invites.token_for(invite)]) in message.body
    assert "northwind.example" in message.body


def test_it_uses_an_organisation_the_portal_knows_as_it_is(client, world):
    client.force_login(world.partner_member)
    data = form_data(
        world,
        **{
            "org-tenant_id": world.customer.tenant_id.upper(),
            "org-name": "Something else",
            "org-domain": "elsewhere.example",
        },
    )
    client.post(reverse("partner_prepare"), data)
    claim = Claim.objects.get(partner_prepared=True)
    assert claim.customer == world.customer
    world.customer.refresh_from_db()
    assert world.customer.name == "Woodgrove"
    # Its approver hears of it; nobody else has anything to do yet.
    assert set(Notification.objects.values_list("user", flat=True)) == {world.approver.pk}


BAD = {
    "html": ({"sow-custom_sow": u.pdf(content=u.HTML)}, "web page"),
    "exe": ({"sow-custom_sow": u.pdf(name="sow.pdf", content=u.EXE)}, "a program"),
    "missing": ({"sow-custom_sow": None}, "Upload the custom SOW"),
    "domain": ({"org-domain": "https://north wind"}, "is not a domain name such as"),
    "taken domain": ({"org-domain": "woodgrove.example"}, "already uses woodgrove.example"),
    "no services": ({"no_lines": True}, "Pick at least one service"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_it_refuses_bad_input_and_saves_nothing(client, world, settings, case):
    overrides, says = BAD[case]
    client.force_login(world.partner_member)
    if overrides.pop("no_lines", False):
        data = {k: v for k, v in form_data(world).items() if not k.startswith("w")}
    else:
        data = form_data(world, **overrides)
    customers = Customer.objects.count()
    response = client.post(reverse("partner_prepare"), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert says in body
    assert "Northwind Traders" in body  # what was typed is still there
    assert not Claim.objects.exists()
    assert Customer.objects.count() == customers
    assert _stored_files(settings) == []


def test_it_refuses_a_50_mb_upload_without_keeping_it(client, world, settings):
    settings.UPLOAD_MAX_BYTES = 12 * 1024 * 1024
    client.force_login(world.partner_member)
    response = client.post(
        reverse("partner_prepare"), form_data(world, **{"sow-custom_sow": u.big_pdf(50)})
    )
    assert response.status_code == 400
    assert "The file is 50.0 MB; the limit is 10.0 MB" in response.content.decode()
    assert not Claim.objects.exists()
    assert _stored_files(settings) == []


def test_a_failed_claim_leaves_no_file_behind(world, settings, monkeypatch):
    def fail(*args, **kwargs):
        raise ClaimError("The claim could not be created.")

    monkeypatch.setattr(lifecycle, "prepare_claim", fail)
    with pytest.raises(ClaimError):
        prepared(world)
    assert _stored_files(settings) == []
    assert not Customer.objects.filter(tenant_id=NEW_TENANT.tenant_id).exists()


def test_only_the_partner_prepares(world):
    with pytest.raises(ClaimError):
        prepared(world, user=world.approver)
    with pytest.raises(ClaimError):
        lifecycle.prepare_claim(
            customer=world.customer,
            partner=world.partner,
            program=world.program,
            user=world.rival_member,
            data=world.claim_input(),
            custom_sow="sow/x.pdf",
        )
    assert not Claim.objects.exists()


@pytest.mark.parametrize("who", ["approver", "reviewer", "rival_member"])
def test_the_prepare_page_is_the_partners(client, world, who):
    client.force_login(getattr(world, who))
    expected = 200 if who == "rival_member" else 403
    assert client.get(reverse("partner_prepare")).status_code == expected


def test_the_customer_takes_it_up_corrects_signs_and_the_claims_team_reviews_it(
    client, world, django_capture_on_commit_callbacks
):
    claim, invite = prepared(world)
    ada = invitee()
    client.force_login(ada)
    url = reverse("claim_invite", args=[invites.token_for(invite)])
    assert "Open the claim to review and sign" in client.get(url).content.decode()
    response = client.post(url)
    assert response["Location"] == reverse("customer_claim_detail", args=[claim.reference])
    membership = CustomerMembership.objects.get(user=ada)
    assert (membership.customer, membership.role) == (claim.customer, "approver")
    page = client.get(response["Location"]).content.decode()
    assert reverse("customer_claim_sow", args=[claim.reference]) in page

    # Corrects the seats, then signs.
    lifecycle.update_claim(claim, user=ada, data=world.claim_input(world.workloads[:1], seats=250))
    lifecycle.sign_and_submit(claim, user=ada, signed_name="Ada Approver", attested=True)
    claim.refresh_from_db()
    assert claim.status == S.AWAITING_PARTNER
    assert claim.lines.get().seats == 250
    assert claim.custom_sow  # the document stays with the claim

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.confirm_claim(claim, user=world.partner_member)
    claim.refresh_from_db()
    assert claim.status == S.IN_REVIEW  # a custom SOW always goes to the claims team
    task = ReviewTask.objects.get(claim=claim)
    assert "custom_sow" in task.reasons[0]["codes"]
    assert verify_chain(claim) == []

    client.force_login(world.reviewer)
    review = client.get(reverse("review_claim_detail", args=[claim.reference])).content.decode()
    assert reverse("review_claim_sow", args=[claim.reference]) in review
    sow = client.get(reverse("review_claim_sow", args=[claim.reference]))
    assert b"".join(sow.streaming_content) == u.PDF


SOW_MATRIX = [
    ("partner_claim_sow", "partner_member", 200),
    ("partner_claim_sow", "partner_admin", 200),
    ("partner_claim_sow", "rival_member", 404),
    ("partner_claim_sow", "approver", 403),
    ("customer_claim_sow", "approver", 200),
    ("customer_claim_sow", "contributor", 200),
    ("customer_claim_sow", "other_customer_user", 404),
    ("customer_claim_sow", "partner_member", 403),
    ("review_claim_sow", "reviewer", 200),
    ("review_claim_sow", "partner_member", 404),  # the claims team's view: 404 to others
    ("review_claim_sow", None, 302),
]


@pytest.mark.parametrize(("name", "who", "expected"), SOW_MATRIX)
def test_the_sow_goes_only_to_the_claims_parties(client, world, name, who, expected):
    claim, _ = prepared(
        world,
        organisation=NEW_TENANT.__class__(world.customer.tenant_id, "", "woodgrove.example"),
    )
    if who:
        client.force_login(getattr(world, who))
    response = client.get(reverse(name, args=[claim.reference]))
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment")
        assert claim.reference in response["Content-Disposition"]
        assert b"".join(response.streaming_content) == u.PDF


def test_a_claim_without_a_sow_has_no_document(client, world):
    claim = world.submitted()
    client.force_login(world.partner_member)
    assert client.get(reverse("partner_claim_sow", args=[claim.reference])).status_code == 404


def test_the_same_form_sent_twice_prepares_one_claim(client, world, settings):
    client.force_login(world.partner_member)
    token = "3f2a9c1e-8d4b-4c5e-9a7f-1b2c3d4e5f60"
    first = client.post(reverse("partner_prepare"), form_data(world, form_token=token))
    second = client.post(
        reverse("partner_prepare"), form_data(world, form_token=token), follow=True
    )
    claim = Claim.objects.get(partner_prepared=True)
    assert first["Location"] == reverse("partner_claim_detail", args=[claim.reference])
    assert second.redirect_chain[-1][0] == first["Location"]
    assert f"Claim {claim.reference} was prepared already." in second.content.decode()
    assert len(_stored_files(settings)) == 1
