"""The claims team's exception queue and decisions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.models import RejectionReason, ReviewTask
from claims import lifecycle
from claims.models import Claim, ClaimLine
from customers.models import Association


@pytest.fixture
def queued(world, django_capture_on_commit_callbacks):
    """A claim with one standard line (approved at once) and one exception (intune)."""
    claim = world.submitted(workloads=[world.workloads[0], world.workloads[2]])
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.confirm_claim(claim, user=world.partner_member)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW
    return claim


def _exception_line(claim):
    return claim.lines.get(status=ClaimLine.Status.IN_REVIEW)


def test_it_lists_the_queue_with_reasons(client, world, queued):
    client.force_login(world.reviewer)
    body = client.get(reverse("review_queue")).content.decode()
    assert queued.reference in body
    assert "not_in_catalog" in body


def test_it_approves_the_exception(client, world, queued):
    client.force_login(world.reviewer)
    line = _exception_line(queued)
    response = client.post(
        reverse("review_claim_decide", args=[queued.reference]),
        {f"line_{line.pk}": "approve", "comment": ""},
    )
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.status == Claim.Status.APPROVED
    assert Association.objects.filter(source_claim=queued, ended_on=None).count() == 2
    assert not ReviewTask.objects.filter(claim=queued, state="open").exists()


def test_it_rejects_the_exception_with_a_reason(client, world, queued):
    reason = RejectionReason.objects.create(code="outside", label="Outside the SOW")
    client.force_login(world.lead)
    line = _exception_line(queued)
    client.post(
        reverse("review_claim_decide", args=[queued.reference]),
        {
            f"line_{line.pk}": "reject",
            f"reason_{line.pk}": reason.pk,
            f"note_{line.pk}": "Intune is not delivered.",
            "comment": "Intune is outside the SOW.",
        },
    )
    queued.refresh_from_db()
    assert queued.status == Claim.Status.PARTIALLY_APPROVED
    event = queued.events.last()
    assert event.comment == "Intune is outside the SOW."
    assert event.changes["reasons"] == {"intune": "Outside the SOW: Intune is not delivered."}


@pytest.mark.parametrize(
    ("choice", "comment", "message"),
    [
        ("", "", "Approve or reject this service"),
        ("maybe", "", "Select a valid choice"),
        ("reject", "", "Give the reason for rejecting"),
        ("approve", "x" * 4001, "at most 4000 characters"),
    ],
)
def test_it_explains_a_bad_decision_and_keeps_it(client, world, queued, choice, comment, message):
    client.force_login(world.reviewer)
    line = _exception_line(queued)
    response = client.post(
        reverse("review_claim_decide", args=[queued.reference]),
        {f"line_{line.pk}": choice, "comment": comment},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    queued.refresh_from_db()
    assert queued.status == Claim.Status.IN_REVIEW


def test_it_tells_the_second_reviewer_it_was_decided(client, world, queued):
    line = _exception_line(queued)
    form = {f"line_{line.pk}": "approve", "comment": ""}
    url = reverse("review_claim_decide", args=[queued.reference])
    client.force_login(world.reviewer)
    client.post(url, form)
    client.force_login(world.lead)
    # The lead's page was opened before the decision: the same post arrives late.
    response = client.post(url, form)
    assert response.status_code == 409
    body = response.content.decode()
    assert "can no longer be decided" in body
    assert "nothing to decide" in body


def test_it_returns_a_queued_claim_to_the_customer(client, world, queued):
    client.force_login(world.reviewer)
    url = reverse("review_claim_return", args=[queued.reference])
    client.post(url, {"return-comment": "Attach the custom SOW"})
    queued.refresh_from_db()
    assert queued.status == Claim.Status.RETURNED_TO_CUSTOMER
    response = client.post(url, {"return-comment": ""}, follow=True)
    assert "Say what needs correcting" in response.content.decode()


def test_it_keeps_the_queue_queries_constant(client, world, django_capture_on_commit_callbacks):
    def queue_queries():
        client.force_login(world.reviewer)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("review_queue")).status_code == 200
        return len(ctx)

    def add_exceptions(n):
        for _ in range(n):
            claim = world.submitted(workloads=world.workloads[2:])
            with django_capture_on_commit_callbacks(execute=True):
                lifecycle.confirm_claim(claim, user=world.partner_member)
            # Free the workload again so the next claim is not a duplicate of this one.
            Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.IN_REVIEW)

    add_exceptions(2)
    few = queue_queries()
    add_exceptions(8)
    assert 0 < few == queue_queries()
