"""/partner/claims/<reference>/: the claim as signed, outcomes in plain words, allowed actions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from approvals.services import evaluate_claim
from claims import lifecycle
from claims.models import Claim
from tests import factories as f


def _page(client, world, claim) -> str:
    client.force_login(world.partner_member)
    response = client.get(reverse("partner_claim_detail", args=[claim.reference]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_claim_as_the_customer_signed_it(client, world):
    claim = world.submitted()
    body = _page(client, world, claim)
    assert "Signed for the customer" in body
    assert "Alex Approver" in body
    for line in claim.lines.select_related("workload"):
        assert line.workload.name in body
    assert "sam@customer.example" in body
    assert "Not checked yet" in body


def test_a_rival_is_never_named_to_the_partner(client, world):
    # Fabrikam holds Exchange Online at Woodgrove and has an open claim for Teams there.
    f.AssociationFactory(customer=world.customer, workload=world.workloads[0], partner=world.rival)
    rival_claim = world.submitted(partner=world.rival, workloads=world.workloads[1:2])
    claim = world.submitted(workloads=world.workloads[:2])
    lifecycle.confirm_claim(claim, user=world.partner_member)
    evaluate_claim(claim_id=claim.pk)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW

    body = _page(client, world, claim)
    assert "Another partner is partner of record for this service" in body
    assert "Fabrikam" not in body
    assert rival_claim.reference not in body

    client.force_login(world.reviewer)
    review = client.get(reverse("review_claim_detail", args=[claim.reference])).content.decode()
    assert "Fabrikam" in review  # the claims team sees everything


@pytest.mark.parametrize(
    ("traits", "shown", "hidden"),
    [
        (
            {"submitted": True},
            ["partner_claim_confirm", "partner_claim_return", "partner_claim_withdraw"],
            [],
        ),
        (
            {"in_review": True},
            ["partner_claim_withdraw"],
            ["partner_claim_confirm", "partner_claim_return"],
        ),
        (
            {"approved": True},
            [],
            ["partner_claim_confirm", "partner_claim_return", "partner_claim_withdraw"],
        ),
        (
            {"returned": True},
            ["partner_claim_withdraw"],
            ["partner_claim_confirm", "partner_claim_return"],
        ),
    ],
)
def test_only_the_actions_its_state_allows(client, world, traits, shown, hidden):
    claim = f.ClaimFactory(
        partner=world.partner,
        customer=world.customer,
        program=world.program,
        created_by=world.approver,
        **traits,
    )
    body = _page(client, world, claim)
    for name in shown:
        assert reverse(name, args=[claim.reference]) in body
    for name in hidden:
        assert reverse(name, args=[claim.reference]) not in body


def test_the_outcome_of_each_line_reads_as_a_sentence(client, world):
    claim = f.ClaimFactory(
        partner=world.partner, customer=world.customer, program=world.program, approved=True
    )
    body = _page(client, world, claim)
    assert "Approved: you are partner of record for this service." in body


def test_the_timeline_shows_who_did_what(client, world):
    claim = world.submitted()
    lifecycle.return_to_customer(claim, user=world.partner_admin, comment="Check the seats")
    body = _page(client, world, claim)
    assert "Returned to the customer" in body
    assert "Check the seats" in body
    assert "boss@contoso.example" in body
