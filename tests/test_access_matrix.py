"""Every page that takes a claim, asked by every kind of person."""

from __future__ import annotations

import pytest
from django.urls import reverse

from claims import lifecycle

OK, LOGIN, FORBIDDEN, NOT_FOUND = 200, 302, 403, 404

# page -> expected status per asker
MATRIX = {
    "customer_claim_detail": {
        "anonymous": LOGIN,
        "approver": OK,
        "contributor": OK,
        "other_customer": NOT_FOUND,
        "partner": FORBIDDEN,
        "rival_partner": FORBIDDEN,
        "claims_team": FORBIDDEN,
    },
    "claim_edit": {
        "anonymous": LOGIN,
        "approver": OK,
        "contributor": OK,
        "other_customer": NOT_FOUND,
        "partner": FORBIDDEN,
        "rival_partner": FORBIDDEN,
        "claims_team": FORBIDDEN,
    },
    "partner_claim_detail": {
        "anonymous": LOGIN,
        "approver": FORBIDDEN,
        "contributor": FORBIDDEN,
        "other_customer": FORBIDDEN,
        "partner": OK,
        "rival_partner": NOT_FOUND,
        "claims_team": FORBIDDEN,
    },
    # Outside the claims team a review URL is a 404: it does not say whether a claim exists.
    "review_claim_detail": {
        "anonymous": LOGIN,
        "approver": NOT_FOUND,
        "contributor": NOT_FOUND,
        "other_customer": NOT_FOUND,
        "partner": NOT_FOUND,
        "rival_partner": NOT_FOUND,
        "claims_team": OK,
    },
}

LISTS = {
    "customer_claims": {
        "anonymous": LOGIN,
        "approver": OK,
        "partner": FORBIDDEN,
        "claims_team": FORBIDDEN,
    },
    "partner_dashboard": {
        "anonymous": LOGIN,
        "approver": FORBIDDEN,
        "partner": OK,
        "claims_team": FORBIDDEN,
    },
    "review_queue": {
        "anonymous": LOGIN,
        "approver": FORBIDDEN,
        "partner": FORBIDDEN,
        "claims_team": OK,
    },
}


def _user(world, who):
    return {
        "anonymous": None,
        "approver": world.approver,
        "contributor": world.contributor,
        "other_customer": world.other_customer_user,
        "partner": world.partner_member,
        "rival_partner": world.rival_member,
        "claims_team": world.reviewer,
    }[who]


@pytest.mark.parametrize(
    ("page", "who", "expected"),
    [(page, who, code) for page, row in MATRIX.items() for who, code in row.items()],
)
def test_it_checks_who_asks_for_a_claim(client, world, page, who, expected):
    claim = world.draft()
    if page != "claim_edit":
        claim = lifecycle.sign_and_submit(
            claim, user=world.approver, signed_name="A", attested=True
        )
    user = _user(world, who)
    if user is not None:
        client.force_login(user)
    response = client.get(reverse(page, args=[claim.reference]))
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("page", "who", "expected"),
    [(page, who, code) for page, row in LISTS.items() for who, code in row.items()],
)
def test_it_checks_who_asks_for_a_list(client, world, page, who, expected):
    user = _user(world, who)
    if user is not None:
        client.force_login(user)
    assert client.get(reverse(page)).status_code == expected


def test_it_gives_the_same_404_for_a_missing_and_a_foreign_claim(client, world):
    foreign = world.submitted(customer=world.other_customer, user=world.other_customer_user)
    client.force_login(world.approver)
    missing = client.get(reverse("customer_claim_detail", args=["CLM-2026-999999"]))
    hidden = client.get(reverse("customer_claim_detail", args=[foreign.reference]))
    assert missing.status_code == hidden.status_code == 404


def test_it_keeps_drafts_from_the_partner(client, world):
    draft = world.draft()
    client.force_login(world.partner_member)
    assert client.get(reverse("partner_claim_detail", args=[draft.reference])).status_code == 404
