"""Who is emailed at each step, and the outbox that survives lost messages."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from approvals.tasks import sweep_evaluations
from claims import lifecycle
from claims.models import Claim, Notification
from claims.tasks import MAX_EMAIL_ATTEMPTS, send_notification, sweep_notifications

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def _recipients(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def _mail_to(mailoutbox, user):
    return next(m for m in mailoutbox if m.to == [user.email])


def _later():
    """A moment just past the sweep's patience."""
    return timezone.now() + settings.SWEEP_AFTER + datetime.timedelta(minutes=1)


def test_it_emails_partner_and_customer_on_signing(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    claim = world.draft()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=True)
    # Not the approver who signed, nor the rival partner or another customer.
    assert _recipients(mailoutbox) == sorted(
        [world.contributor.email, world.partner_member.email, world.partner_admin.email]
    )
    assert all(len(message.to) == 1 for message in mailoutbox)
    assert all(message.subject == f"{claim.reference}: Awaiting partner" for message in mailoutbox)
    notifications = Notification.objects.filter(claim=claim)
    assert notifications.count() == 3
    assert not notifications.filter(emailed_at=None).exists()


@pytest.mark.parametrize(
    ("recipient", "url_name"),
    [("partner_member", "partner_claim_detail"), ("contributor", "customer_claim_detail")],
)
def test_the_email_has_text_and_html_with_a_link_to_the_claim(
    world, mailoutbox, django_capture_on_commit_callbacks, recipient, url_name
):
    claim = world.draft()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=True)
    message = _mail_to(mailoutbox, getattr(world, recipient))
    url = settings.SITE_URL.rstrip("/") + reverse(url_name, args=[claim.reference])
    assert message.content_subtype == "plain"
    assert claim.reference in message.body and url in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert f'href="{url}"' in html
    assert claim.reference in html and "Signed and submitted" in html


def test_it_emails_only_approvers_when_routing(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    claim = world.draft(user=world.contributor)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.route_to_approver(claim, user=world.contributor)
    assert _recipients(mailoutbox) == [world.approver.email]
    assert f"/claims/{claim.reference}/" in mailoutbox[0].body


def test_it_sends_the_partners_comment_on_return(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    claim = world.submitted()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.return_to_customer(claim, user=world.partner_member, comment="Seats look off")
    assert _recipients(mailoutbox) == sorted(
        [world.approver.email, world.contributor.email, world.partner_admin.email]
    )
    for customer_user in (world.approver, world.contributor):
        message = _mail_to(mailoutbox, customer_user)
        assert "Returned to customer" in message.subject
        assert "Seats look off" in message.body
        assert "Seats look off" in message.alternatives[0][0]


def test_it_tells_every_party_the_outcome_of_the_automatic_check(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    claim = world.submitted()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.confirm_claim(claim, user=world.partner_member)
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.APPROVED
    approved = [m for m in mailoutbox if m.subject == f"{claim.reference}: Approved"]
    # Nobody acted in person, so the partner member who confirmed hears of it too.
    assert _recipients(approved) == sorted(
        [
            world.approver.email,
            world.contributor.email,
            world.partner_member.email,
            world.partner_admin.email,
        ]
    )


def test_it_sends_each_notification_once(world, mailoutbox):
    claim = world.submitted()
    notification = Notification.objects.filter(claim=claim).first()
    assert send_notification.apply((notification.pk,)).get() is True
    assert send_notification.apply((notification.pk,)).get() is False
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None and notification.attempts == 1


def test_it_leaves_a_notification_another_worker_is_sending(world, mailoutbox):
    world.submitted()
    notification = Notification.objects.first()
    Notification.objects.filter(pk=notification.pk).update(claimed_at=timezone.now())
    assert send_notification.apply((notification.pk,)).get() is False
    assert mailoutbox == []


# --- The sweep ----------------------------------------------------------------------------


def _never_sent(world, settings, capture):
    world.submitted()  # its on-commit sends never ran: as if the messages were lost


def _failed(world, settings, capture):
    # A real SMTP connection to a closed port: the send fails as an unreachable relay would.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    with capture(execute=True):
        world.submitted()
    settings.EMAIL_BACKEND = LOCMEM
    assert set(Notification.objects.values_list("attempts", "claimed_at", "emailed_at")) == {
        (1, None, None)
    }


def _claimed_by_a_lost_worker(world, settings, capture):
    world.submitted()
    Notification.objects.update(claimed_at=timezone.now(), attempts=1)


@pytest.mark.parametrize(
    ("arrange", "attempts"),
    [(_never_sent, 1), (_failed, 2), (_claimed_by_a_lost_worker, 2)],
    ids=["never-sent", "failed", "claimed-by-a-lost-worker"],
)
def test_the_sweep_sends_what_was_left_behind(
    world, settings, mailoutbox, django_capture_on_commit_callbacks, arrange, attempts
):
    arrange(world, settings, django_capture_on_commit_callbacks)
    assert mailoutbox == []
    assert Notification.objects.filter(emailed_at=None).count() == 3
    # The sweep hands what it finds to the broker once its own transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_notifications.apply().get() == {"notifications": 0}  # too fresh to touch
        assert sweep_evaluations.apply().get() == {"claims": 0}
    with time_machine.travel(_later()), django_capture_on_commit_callbacks(execute=True):
        assert sweep_notifications.apply().get() == {"notifications": 3}
        assert sweep_evaluations.apply().get() == {"claims": 0}
    assert len(mailoutbox) == 3
    assert not Notification.objects.filter(emailed_at=None).exists()
    assert set(Notification.objects.values_list("attempts", flat=True)) == {attempts}


def test_the_sweep_leaves_sent_abandoned_and_busy_notifications_alone(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    world.submitted()
    sent, abandoned, busy = Notification.objects.order_by("pk")
    later = _later()
    Notification.objects.filter(pk=sent.pk).update(emailed_at=timezone.now())
    Notification.objects.filter(pk=abandoned.pk).update(attempts=MAX_EMAIL_ATTEMPTS)
    # A worker took this one a minute before the sweep runs.
    Notification.objects.filter(pk=busy.pk).update(claimed_at=later - datetime.timedelta(minutes=1))
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert sweep_notifications.apply().get() == {"notifications": 0}
        assert sweep_evaluations.apply().get() == {"claims": 0}
    assert mailoutbox == []


def test_the_sweep_recovers_a_claim_stuck_in_evaluation(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    claim = world.submitted()
    lifecycle.confirm_claim(claim, user=world.partner_member)  # the evaluate message is lost
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.EVALUATING
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_evaluations.apply().get()["claims"] == 0  # a worker may still be on it
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.EVALUATING
    with time_machine.travel(_later()), django_capture_on_commit_callbacks(execute=True):
        result = sweep_evaluations.apply().get()
    assert result["claims"] == 1
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.APPROVED
