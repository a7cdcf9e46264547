"""The thin path through a real Celery worker on Redis, against PostgreSQL."""

from __future__ import annotations

import datetime
import time

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, Notification

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _line(prefix, today, seats=300):
    return {
        f"{prefix}-selected": "on",
        f"{prefix}-target_start": today.isoformat(),
        # Within the program's period, as every target date must be.
        f"{prefix}-target_end": (today + datetime.timedelta(days=120)).isoformat(),
        f"{prefix}-seats": str(seats),
    }


def test_it_walks_a_claim_from_the_customer_to_a_decision(world, celery_worker_live, client):
    from tests.factories import UserFactory

    today = timezone.localdate()
    exchange, teams, intune = world.workloads
    newcomer = UserFactory(email="nora@northwind.example")

    # 1. A customer with no organisation yet opens the partner's URL and submits.
    client.force_login(newcomer)
    data = {
        "action": "sign",
        "org-name": "Northwind Traders",
        "org-tenant_id": "northwind.example",
        "org-segment": "commercial",
        "org-seats": "800",
        "contact-survey_contact_mode": "one",
        "contact-survey_contact_name": "Nora N",
        "contact-survey_contact_email": "nora@northwind.example",
        "sign-signed_name": "Nora Northwind",
        "sign-attest": "on",
        **_line(f"w{exchange.pk}", today),
        **_line(f"w{intune.pk}", today),  # not in Contoso's catalog: goes to review
    }
    response = client.post(reverse("claim_start", args=[world.partner.slug]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    claim = Claim.objects.get(customer__tenant_id="northwind.example")
    assert claim.status == Claim.Status.AWAITING_PARTNER
    assert _wait_for(
        lambda: mail.outbox and any(world.partner_member.email in m.to for m in mail.outbox)
    ), "the partner was not emailed by the worker"

    # 2. The partner confirms; 3. the worker checks the lines.
    client.force_login(world.partner_member)
    response = client.post(reverse("partner_claim_confirm", args=[claim.reference]))
    assert response.status_code == 302
    assert _wait_for(lambda: Claim.objects.get(pk=claim.pk).status != Claim.Status.EVALUATING), (
        "the worker did not evaluate the claim"
    )
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW
    lines = {line.workload.code: line.status for line in claim.lines.select_related("workload")}
    assert lines == {"exchange": "approved", "intune": "in_review"}
    assert claim.associations.get(workload=exchange).partner == world.partner

    # 4. The claims team approves the exception.
    client.force_login(world.reviewer)
    response = client.get(reverse("review_queue"))
    assert claim.reference in response.content.decode()
    intune_line = claim.lines.get(workload=intune)
    response = client.post(
        reverse("review_claim_decide", args=[claim.reference]),
        {f"line_{intune_line.pk}": "approve", "comment": "Custom scope checked."},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED

    # 5. Every notification was emailed by the worker, to customer and partner.
    assert _wait_for(lambda: not Notification.objects.filter(emailed_at=None).exists()), (
        "some notifications were never emailed"
    )
    subjects_for = {}
    for message in mail.outbox:
        for address in message.to:
            subjects_for.setdefault(address, []).append(message.subject)
    assert any("Approved" in s for s in subjects_for[newcomer.email])
    assert any("Approved" in s for s in subjects_for[world.partner_member.email])
    assert any("In review" in s for s in subjects_for[newcomer.email])
    assert any("Being checked" in s for s in subjects_for[newcomer.email])
