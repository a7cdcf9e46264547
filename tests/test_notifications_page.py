"""/notifications/: the in-app list of the outbox rows the emails are sent from."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims import lifecycle
from claims.events import record_event
from claims.inbox import UNREAD_SHOWN
from claims.models import ClaimAction, ClaimRole, Notification
from tests import factories as f


def _steps(world, n=1):
    claims = []
    for _ in range(n):
        claim = world.submitted()
        lifecycle.return_to_customer(claim, user=world.partner_admin, comment="Fix dates")
        claims.append(claim)
    return claims


def test_it_lists_the_same_rows_the_emails_come_from(client, world):
    [claim] = _steps(world)
    client.force_login(world.partner_member)
    body = client.get(reverse("notifications")).content.decode()
    rows = Notification.objects.filter(user=world.partner_member)
    assert rows.count() == 2  # signed, then returned by a colleague
    for row in rows:
        assert row.subject in body
        assert reverse("notification_open", args=[row.pk]) in body
    assert "Alex Approver" not in body  # subjects only, the claim page has the rest


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("partner_member", "partner_claim_detail"),
        ("approver", "customer_claim_detail"),
        ("contributor", "customer_claim_detail"),
    ],
)
def test_following_one_opens_its_claim_as_that_person_sees_it(client, world, who, page):
    [claim] = _steps(world)
    user = getattr(world, who)
    row = Notification.objects.filter(user=user).first()
    client.force_login(user)
    response = client.get(reverse("notification_open", args=[row.pk]))
    assert response["Location"] == reverse(page, args=[claim.reference])
    row.refresh_from_db()
    assert row.read_at is not None


def test_the_claims_team_reaches_the_review_page(client, world):
    claim = f.ClaimFactory(in_review=True, partner=world.partner, customer=world.customer)
    event = claim.events.last()
    row = Notification.objects.create(user=world.reviewer, claim=claim, event=event, subject="x")
    client.force_login(world.reviewer)
    assert client.get(reverse("notifications")).status_code == 200
    response = client.get(reverse("notification_open", args=[row.pk]))
    assert response["Location"] == reverse("review_claim_detail", args=[claim.reference])


def test_a_notification_of_a_claim_no_longer_reachable_says_so(client, world):
    [claim] = _steps(world)
    row = Notification.objects.filter(user=world.partner_member).first()
    world.partner_member.partner_membership.delete()
    client.force_login(world.partner_member)
    response = client.get(reverse("notification_open", args=[row.pk]), follow=True)
    assert "You no longer have access" in response.content.decode()


def test_nobody_reads_or_marks_someone_elses(client, world):
    _steps(world)
    theirs = Notification.objects.filter(user=world.approver).first()
    client.force_login(world.rival_member)
    assert client.get(reverse("notification_open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notification_read", args=[theirs.pk])).status_code == 404
    client.post(reverse("notifications_read_all"))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_navigation_counts_unread_and_marking_read_clears_it(client, world):
    _steps(world, 2)
    client.force_login(world.partner_member)
    body = client.get(reverse("partner_dashboard")).content.decode()
    assert '>4<span class="visually-hidden"> unread notifications' in body
    first = Notification.objects.filter(user=world.partner_member).first()
    response = client.post(reverse("notification_read", args=[first.pk]), {"next": "/partner/"})
    assert response["Location"] == "/partner/"
    body = client.get(reverse("notifications"), {"unread": "1"}).content.decode()
    assert body.count("notification-unread") == 3
    assert reverse("notification_open", args=[first.pk]) not in body
    assert '>3<span class="visually-hidden">' in body
    response = client.post(reverse("notifications_read_all"), follow=True)
    assert "3 notifications marked read." in response.content.decode()
    assert not Notification.objects.filter(user=world.partner_member, read_at=None).exists()
    assert "unread notifications" not in response.content.decode()


def test_a_next_address_elsewhere_is_not_followed(client, world):
    _steps(world)
    client.force_login(world.partner_member)
    response = client.post(reverse("notifications_read_all"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notifications")


def test_the_unread_count_stops_at_99_plus(client, world):
    claim = world.submitted()
    events = [
        record_event(claim, action=ClaimAction.EDIT, user=world.approver, role=ClaimRole.APPROVER)
        for _ in range(UNREAD_SHOWN + 2)
    ]
    Notification.objects.bulk_create(
        Notification(user=world.partner_member, claim=claim, event=event, subject="x")
        for event in events
    )
    client.force_login(world.partner_member)
    body = client.get(reverse("notifications")).content.decode()
    assert '>99+<span class="visually-hidden"> unread notifications' in body


def test_the_list_reads_a_constant_number_of_rows_and_queries(client, world):
    client.force_login(world.partner_member)
    counts = []
    for n in (1, 6):
        _steps(world, n)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("notifications")).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]


def test_it_exports_the_list_and_refuses_bad_filters(client, world):
    _steps(world)
    client.force_login(world.partner_member)
    response = client.get(reverse("notifications"), {"export": "csv"})
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert rows[0].startswith("Received,Subject,Claim,Read") and len(rows) == 3
    assert client.get(reverse("notifications"), {"sort": "bogus"}).status_code == 200
    assert client.get(reverse("notifications")).status_code == 200


def test_anonymous_people_are_sent_to_sign_in(client):
    response = client.get(reverse("notifications"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
