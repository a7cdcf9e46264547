"""The partner dashboard: confirm, return, stale actions, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims import lifecycle
from claims.models import Claim


def test_it_shows_claims_waiting_for_confirmation(client, world):
    claim = world.submitted()
    draft = world.draft(workloads=world.workloads[2:])
    client.force_login(world.partner_member)
    body = client.get(reverse("partner_dashboard")).content.decode()
    assert claim.reference in body
    assert draft.reference not in body  # the customer has not submitted it yet
    assert "1 claim is waiting for your confirmation" in body
    assert "/c/contoso/" in body


def test_it_confirms_and_the_check_runs_after_commit(
    client, world, django_capture_on_commit_callbacks
):
    claim = world.submitted()
    client.force_login(world.partner_member)
    url = reverse("partner_claim_confirm", args=[claim.reference])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED  # both lines are in Contoso's catalog


def test_it_returns_a_claim_with_a_comment(client, world):
    claim = world.submitted()
    client.force_login(world.partner_admin)
    url = reverse("partner_claim_return", args=[claim.reference])
    client.post(url, {"return-comment": "Target dates are too early"})
    claim.refresh_from_db()
    assert claim.status == Claim.Status.RETURNED_TO_CUSTOMER
    assert claim.events.last().comment == "Target dates are too early"


@pytest.mark.parametrize("comment", ["", "   ", "x" * 4001])
def test_it_refuses_a_return_without_a_proper_comment(client, world, comment):
    claim = world.submitted()
    client.force_login(world.partner_member)
    url = reverse("partner_claim_return", args=[claim.reference])
    response = client.post(url, {"return-comment": comment}, follow=True)
    assert "Say what needs correcting" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_PARTNER


def test_it_tells_the_second_confirmer_it_is_done(
    client, world, django_capture_on_commit_callbacks
):
    claim = world.submitted()
    lifecycle.return_to_customer(claim, user=world.partner_admin, comment="Fix")
    client.force_login(world.partner_member)
    url = reverse("partner_claim_confirm", args=[claim.reference])
    response = client.post(url, follow=True)
    body = response.content.decode()
    assert "can no longer be confirmed" in body
    assert "Returned to customer" in body


def test_it_404s_for_another_partners_claim(client, world):
    claim = world.submitted(partner=world.rival)
    client.force_login(world.partner_member)
    assert client.get(reverse("partner_claim_detail", args=[claim.reference])).status_code == 404
    url = reverse("partner_claim_confirm", args=[claim.reference])
    assert client.post(url).status_code == 404
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_PARTNER


def test_it_shows_the_reasons_for_review(client, world, django_capture_on_commit_callbacks):
    claim = world.submitted(workloads=world.workloads[2:])  # intune: not in Contoso's catalog
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.confirm_claim(claim, user=world.partner_member)
    client.force_login(world.partner_member)
    body = client.get(reverse("partner_claim_detail", args=[claim.reference])).content.decode()
    # In the partner's words: the reason's label and a plain sentence, not the engine's code.
    assert "Not in the pre-approved SOW catalog" in body
    assert "Not covered by your pre-approved SOW catalog" in body
    assert "In review" in body


def _dashboard_queries(client, world, count):
    for i in range(count):
        world.submitted(workloads=world.workloads[i % 3 : i % 3 + 1])
    client.force_login(world.partner_member)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("partner_dashboard")).status_code == 200
    return len(ctx)


def test_it_keeps_the_dashboard_queries_constant(client, world):
    few = _dashboard_queries(client, world, 2)
    many = _dashboard_queries(client, world, 12)
    assert few == many
    assert 0 < many <= 14


def test_it_keeps_the_detail_queries_constant(client, world):
    small = world.submitted(workloads=world.workloads[:1])
    large = world.submitted(workloads=world.workloads)
    for claim in (small, large):
        lifecycle.return_to_customer(claim, user=world.partner_admin, comment="Fix")
        lifecycle.resubmit(claim, user=world.approver, signed_name="A", attested=True)
    client.force_login(world.partner_member)
    counts = []
    for claim in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("partner_claim_detail", args=[claim.reference]))
        counts.append(len(ctx))
    assert 0 < counts[0] == counts[1]
