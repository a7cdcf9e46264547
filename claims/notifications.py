"""Who hears about each step of a claim, and the email a worker sends them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from claims.models import Claim, Event, Notification

User = get_user_model()

# Actions that tell the other parties nothing new.
_SILENT = {"created", "edit"}


def _recipients(claim: Claim, event: Event) -> list:
    customer_roles = ["approver"] if event.action == "route" else ["approver", "contributor"]
    users = User.objects.filter(
        is_active=True,
        customer_membership__customer_id=claim.customer_id,
        customer_membership__role__in=customer_roles,
    )
    if event.action != "route":
        users = users | User.objects.filter(
            is_active=True, partner_membership__partner_id=claim.partner_id
        )
    if event.actor_id is not None:
        users = users.exclude(pk=event.actor_id)
    return list(users.distinct())


def _subject(claim: Claim, event: Event) -> str:
    return _("%(ref)s: %(what)s") % {
        "ref": claim.reference,
        "what": event.get_to_status_display() or event.get_action_display(),
    }


def notify_parties(claim: Claim, event: Event) -> None:
    """Write the notifications for an event; the emails go out after the commit."""
    if event.action in _SILENT:
        return
    subject = _subject(claim, event)
    created = Notification.objects.bulk_create(
        Notification(user=user, claim=claim, event=event, subject=subject)
        for user in _recipients(claim, event)
    )
    ids = [n.pk for n in created if n.pk is not None]
    if not ids:
        # SQLite's bulk_create does not return keys on every version; read them back.
        ids = list(Notification.objects.filter(event=event).values_list("pk", flat=True))
    if ids:
        from claims.tasks import send_notification

        transaction.on_commit(lambda: [send_notification.delay(pk) for pk in ids])


def claim_url_for(user, claim: Claim) -> str:
    if (
        hasattr(user, "partner_membership")
        and user.partner_membership.partner_id == claim.partner_id
    ):
        path = reverse("partner_claim_detail", args=[claim.reference])
    else:
        path = reverse("customer_claim_detail", args=[claim.reference])
    return settings.SITE_URL.rstrip("/") + path


def build_email(notification: Notification) -> EmailMultiAlternatives:
    claim = notification.claim
    context = {
        "notification": notification,
        "claim": claim,
        "event": notification.event,
        "recipient": notification.user,
        "url": claim_url_for(notification.user, claim),
        "lines": list(claim.lines.select_related("workload")),
    }
    text = render_to_string("emails/claim_update.txt", context)
    html = render_to_string("emails/claim_update.html", context)
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.user.email],
    )
    message.attach_alternative(html, "text/html")
    return message
