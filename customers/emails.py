"""The emails about organisations: subject, text and HTML templates side by side."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from customers.models import Invitation
from customers.tokens import INVITATION_DAYS, invitation_token


def invitation_url(invitation: Invitation) -> str:
    path = reverse("organisation_join", args=[invitation_token(invitation)])
    return settings.SITE_URL.rstrip("/") + path


def invitation_email(invitation: Invitation) -> EmailMultiAlternatives:
    context = {
        "invitation": invitation,
        "customer": invitation.customer,
        "inviter": invitation.invited_by,
        "url": invitation_url(invitation),
        "days": INVITATION_DAYS,
    }
    subject = render_to_string("emails/invitation_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("emails/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    return message
