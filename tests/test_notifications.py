"""Who is emailed at each step, and the outbox that survives lost messages."""

from __future__ import annotations

import datetime

import time_machine
from django.conf import settings
from django.utils import timezone

from claims import lifecycle
from claims.models import Claim, Notification
from claims.tasks import send_notification, sweep


def _recipients(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def test_it_emails_partner_and_customer_on_signing(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    claim = world.draft()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=True)
    assert _recipients(mailoutbox) == sorted(
        [world.contributor.email, world.partner_member.email, world.partner_admin.email]
    )
    message = mailoutbox[0]
    assert claim.reference in message.subject
    assert "Awaiting partner" in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert claim.reference in html and claim.reference in message.body
    partner_mail = next(m for m in mailoutbox if world.partner_member.email in m.to)
    assert f"/partner/claims/{claim.reference}/" in partner_mail.body


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
    customer_mail = next(m for m in mailoutbox if world.approver.email in m.to)
    assert "Seats look off" in customer_mail.body
    assert world.partner_member.email not in _recipients(mailoutbox)


def test_it_sends_each_notification_once(world, mailoutbox):
    claim = world.submitted()
    notification = Notification.objects.filter(claim=claim).first()
    assert send_notification.delay(notification.pk).get() is True
    assert send_notification.delay(notification.pk).get() is False
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None and notification.attempts == 1


def test_the_sweep_sends_what_a_lost_message_left_behind(world, mailoutbox):
    world.submitted()  # its on-commit sends never ran: as if the messages were lost
    unsent = Notification.objects.filter(emailed_at=None).count()
    assert unsent == 3
    assert sweep.delay().get() == {"claims": 0, "notifications": 0}  # too fresh to touch
    later = timezone.now() + settings.SWEEP_AFTER + datetime.timedelta(minutes=1)
    with time_machine.travel(later):
        assert sweep.delay().get() == {"claims": 0, "notifications": 3}
    assert len(mailoutbox) == 3
    assert not Notification.objects.filter(emailed_at=None).exists()


def test_the_sweep_recovers_a_claim_stuck_in_evaluation(world, mailoutbox):
    claim = world.submitted()
    lifecycle.confirm_claim(claim, user=world.partner_member)  # the evaluate message is lost
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.EVALUATING
    later = timezone.now() + settings.SWEEP_AFTER + datetime.timedelta(minutes=1)
    with time_machine.travel(later):
        result = sweep.delay().get()
    assert result["claims"] == 1
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.APPROVED
