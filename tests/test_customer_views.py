"""Customer pages: partner code, starting and editing a claim, bad input, signing."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim
from customers.models import Customer, CustomerMembership
from tests.factories import UserFactory


def _line(workload, start=None, end=None, seats="300", **extra):
    today = timezone.localdate()
    start = start if start is not None else today.isoformat()
    end = end if end is not None else (today + datetime.timedelta(days=60)).isoformat()
    prefix = f"w{workload.pk}"
    data = {
        f"{prefix}-selected": "on",
        f"{prefix}-target_start": start,
        f"{prefix}-target_end": end,
        f"{prefix}-seats": seats,
    }
    data.update({f"{prefix}-{k}": v for k, v in extra.items()})
    return data


def _claim_data(world, action="save", **overrides):
    data = {
        "action": action,
        "contact-survey_contact_mode": "one",
        "contact-survey_contact_name": "Sam Survey",
        "contact-survey_contact_email": "sam@woodgrove.example",
        **_line(world.workloads[0]),
    }
    if action == "sign":
        data.update({"sign-signed_name": "Alex Approver", "sign-attest": "on"})
    data.update(overrides)
    return data


def _start_url(world):
    return reverse("claim_start", args=[world.partner.slug])


# --- starting a claim ---------------------------------------------------------


def test_it_asks_an_anonymous_visitor_to_sign_in_first(client, world):
    response = client.get(_start_url(world))
    assert response.status_code == 200
    assert "Sign in to continue" in response.content.decode()
    # A form posted after the session ended goes to sign-in and comes back to the form.
    response = client.post(_start_url(world), _claim_data(world))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert "next=" in response["Location"]
    assert Claim.objects.count() == 0


def test_it_shows_the_program_workloads(client, world):
    client.force_login(world.approver)
    response = client.get(_start_url(world))
    assert response.status_code == 200
    body = response.content.decode()
    for workload in world.workloads:
        assert workload.name in body
    assert world.program.name in body


def test_it_404s_for_an_unknown_or_suspended_partner(client, world):
    client.force_login(world.approver)
    assert client.get(reverse("claim_start", args=["nobody"])).status_code == 404
    world.partner.is_active = False
    world.partner.save()
    assert client.get(_start_url(world)).status_code == 404


def test_it_says_when_the_partner_has_no_open_program(client, world):
    world.program.end_date = timezone.localdate() - datetime.timedelta(days=1)
    world.program.start_date = world.program.end_date - datetime.timedelta(days=30)
    world.program.save()
    client.force_login(world.approver)
    response = client.get(_start_url(world))
    assert response.status_code == 404
    assert "takes no claims right now" in response.content.decode()


def test_it_refuses_partner_and_claims_team_accounts(client, world):
    for user in (world.partner_member, world.reviewer):
        client.force_login(user)
        assert client.get(_start_url(world)).status_code == 403


def test_it_saves_a_draft(client, world):
    client.force_login(world.approver)
    response = client.post(_start_url(world), _claim_data(world))
    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customer_claim_detail", args=[claim.reference])
    assert claim.status == Claim.Status.DRAFT
    assert claim.customer == world.customer
    assert [line.workload for line in claim.lines.all()] == [world.workloads[0]]


def test_it_signs_and_submits_in_one_step(client, world):
    client.force_login(world.approver)
    client.post(_start_url(world), _claim_data(world, action="sign"))
    claim = Claim.objects.get()
    assert claim.status == Claim.Status.AWAITING_PARTNER
    assert claim.signed_name == "Alex Approver"
    assert claim.signed_by == world.approver


def test_it_lets_a_newcomer_name_the_organisation(client, world):
    newcomer = UserFactory()
    client.force_login(newcomer)
    data = _claim_data(
        world,
        action="sign",
        **{
            "org-name": "Northwind",
            "org-tenant_id": "Northwind.Example",
            "org-segment": "commercial",
            "org-seats": "250",
        },
    )
    response = client.post(_start_url(world), data)
    assert response.status_code == 302
    membership = CustomerMembership.objects.get(user=newcomer)
    assert membership.role == CustomerMembership.Role.APPROVER
    assert membership.customer.tenant_id == "northwind.example"
    assert Claim.objects.get().status == Claim.Status.AWAITING_PARTNER


def test_it_refuses_to_let_a_newcomer_join_an_existing_tenant(client, world):
    newcomer = UserFactory()
    client.force_login(newcomer)
    data = _claim_data(
        world,
        **{
            "org-name": "Impostor",
            "org-tenant_id": world.customer.tenant_id.upper(),
            "org-segment": "commercial",
            "org-seats": "10",
        },
    )
    response = client.post(_start_url(world), data)
    assert response.status_code == 400
    assert "already registered" in response.content.decode()
    assert not CustomerMembership.objects.filter(user=newcomer).exists()
    assert Customer.objects.filter(name="Impostor").count() == 0


# Saving a draft checks what is typed; "check before signing" (review) needs everything.
BAD_INPUT = [
    ("no service", "save", {"w{w0}-selected": ""}, "Pick at least one service"),
    ("missing start", "review", {"w{w0}-target_start": ""}, "Give a target start date"),
    ("missing seats", "review", {"w{w0}-seats": ""}, "Give the number of seats"),
    (
        "end before start",
        "save",
        {"w{w0}-target_end": "{today}", "w{w0}-target_start": "{tomorrow}"},
        "must be after the start",
    ),
    ("not a date", "save", {"w{w0}-target_start": "next tuesday"}, "Enter a valid date"),
    ("seats not a number", "save", {"w{w0}-seats": "many"}, "Enter a whole number"),
    ("zero seats", "save", {"w{w0}-seats": "0"}, "Give at least 1 seat."),
    ("absurd seats", "save", {"w{w0}-seats": "99999999999"}, "Give at most 10,000,000 seats."),
    (
        "contact missing",
        "review",
        {"contact-survey_contact_email": ""},
        "survey contact&#x27;s email",
    ),
    (
        "contact not an email",
        "save",
        {"contact-survey_contact_email": "sam at home"},
        "Enter a valid email address",
    ),
    (
        "contact name too long",
        "save",
        {"contact-survey_contact_name": "x" * 121},
        "at most 120 characters",
    ),
    (
        "bad mode",
        "save",
        {"contact-survey_contact_mode": "carrier-pigeon"},
        "Select a valid choice",
    ),
    (
        "per-service contact missing",
        "review",
        {"contact-survey_contact_mode": "per_service"},
        "Name the survey contact for this service",
    ),
]


@pytest.mark.parametrize(
    ("case", "action", "changes", "message"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT]
)
def test_it_explains_bad_input_and_loses_nothing(client, world, case, action, changes, message):
    client.force_login(world.approver)
    w0 = world.workloads[0].pk
    today = timezone.localdate()
    days = {
        "today": today.isoformat(),
        "tomorrow": (today + datetime.timedelta(days=1)).isoformat(),
    }
    data = _claim_data(world, action=action)
    data.update({k.format(w0=w0): v.format(**days) for k, v in changes.items()})
    response = client.post(_start_url(world), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert Claim.objects.count() == 0
    # What the customer typed is still on the page.
    assert 'value="Sam Survey"' in body or changes.get("contact-survey_contact_name")


def test_it_requires_the_attestation_to_sign(client, world):
    client.force_login(world.approver)
    data = _claim_data(world, action="sign")
    del data["sign-attest"]
    response = client.post(_start_url(world), data)
    assert response.status_code == 400
    assert "Confirm that you may sign for your organisation" in response.content.decode()
    assert Claim.objects.count() == 0


def test_it_lets_a_contributor_route_but_not_sign(client, world):
    client.force_login(world.contributor)
    response = client.post(_start_url(world), _claim_data(world, action="sign"))
    assert response.status_code == 403
    assert Claim.objects.count() == 0
    response = client.post(_start_url(world), _claim_data(world, action="route"))
    assert response.status_code == 302
    assert Claim.objects.get().status == Claim.Status.AWAITING_CUSTOMER_APPROVAL


# --- after the start ----------------------------------------------------------


def test_it_lets_the_approver_sign_a_routed_claim(client, world):
    claim = world.draft(user=world.contributor)
    client.force_login(world.approver)
    url = reverse("customer_claim_sign", args=[claim.reference])
    response = client.post(url, {"sign-signed_name": "Alex A", "sign-attest": "on"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_PARTNER


def test_it_explains_a_signature_without_attestation(client, world):
    claim = world.draft()
    client.force_login(world.approver)
    url = reverse("customer_claim_sign", args=[claim.reference])
    response = client.post(url, {"sign-signed_name": "Alex A"}, follow=True)
    assert "Confirm that you may sign" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DRAFT


def test_it_tells_the_second_signer_the_claim_moved_on(client, world):
    claim = world.submitted()
    client.force_login(world.approver)
    url = reverse("customer_claim_sign", args=[claim.reference])
    response = client.post(url, {"sign-signed_name": "Alex A", "sign-attest": "on"}, follow=True)
    assert "can no longer be signed" in response.content.decode()


def test_it_edits_a_returned_claim_and_resubmits_it(client, world):
    from claims import lifecycle

    claim = world.submitted()
    lifecycle.return_to_customer(claim, user=world.partner_member, comment="Seats are wrong")
    client.force_login(world.approver)
    edit = reverse("claim_edit", args=[claim.reference])
    page = client.get(edit).content.decode()
    assert "Returned for corrections" in page and "Seats are wrong" in page
    data = _claim_data(world, action="sign", **_line(world.workloads[0], seats="450"))
    response = client.post(edit, data)
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_PARTNER
    assert claim.lines.get().seats == 450
    assert list(claim.events.values_list("action", flat=True)) == [
        "created",
        "sign",
        "return",
        "edit",
        "resubmit",
    ]


def test_it_will_not_edit_a_submitted_claim(client, world):
    claim = world.submitted()
    client.force_login(world.approver)
    response = client.get(reverse("claim_edit", args=[claim.reference]), follow=True)
    assert "can no longer be changed" in response.content.decode()


def test_it_withdraws_a_claim(client, world):
    claim = world.submitted()
    client.force_login(world.contributor)
    url = reverse("customer_claim_withdraw", args=[claim.reference])
    client.post(url, {"withdraw-comment": "Changed our minds"})
    claim.refresh_from_db()
    assert claim.status == Claim.Status.WITHDRAWN
    assert claim.events.last().comment == "Changed our minds"


def test_it_refuses_an_unknown_action(client, world):
    # One view per action: an action the customer has no page for does not exist (404).
    claim = world.submitted()
    client.force_login(world.approver)
    assert client.post(f"/claims/{claim.reference}/approve/").status_code == 404
    assert client.get(reverse("customer_claim_withdraw", args=[claim.reference])).status_code == 405
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_PARTNER


def test_it_lists_only_my_organisations_claims(client, world):
    mine = world.submitted()
    theirs = world.submitted(customer=world.other_customer, user=world.other_customer_user)
    client.force_login(world.contributor)
    body = client.get(reverse("customer_claims")).content.decode()
    assert mine.reference in body
    assert theirs.reference not in body


def test_it_filters_the_list_by_status(client, world):
    draft = world.draft()
    submitted = world.submitted(workloads=world.workloads[2:])
    client.force_login(world.approver)
    body = client.get(reverse("customer_claims"), {"status": "draft"}).content.decode()
    assert draft.reference in body and submitted.reference not in body
    response = client.get(reverse("customer_claims"), {"status": "bogus", "page": "zzz"})
    assert response.status_code == 200
