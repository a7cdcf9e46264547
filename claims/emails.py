"""The emails the portal sends about claims: subject, text and HTML templates side by side."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from claims.models import Claim, ClaimLine, Notification
from claims_portal.roles import CLAIMS_TEAM_GROUPS
from partners.models import PartnerMembership


def claim_url_for(user, claim: Claim, *, is_partner: bool | None = None) -> str:
    """The claim's page as this recipient sees it, on the portal's public address."""
    if is_partner is None:
        is_partner = PartnerMembership.objects.filter(
            user=user, partner_id=claim.partner_id
        ).exists()
    name = "partner_claim_detail" if is_partner else "customer_claim_detail"
    if not is_partner and user.groups.filter(name__in=CLAIMS_TEAM_GROUPS).exists():
        name = "review_claim_detail"  # assignments, reminders and escalations in the team
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[claim.reference])


def claim_update(
    notification: Notification,
    *,
    lines: list[ClaimLine] | None = None,
    is_partner: bool | None = None,
) -> EmailMultiAlternatives:
    """The email for one notification. `lines` and `is_partner`, when the caller already
    knows them (one event, many recipients), save the queries."""
    claim = notification.claim
    context = {
        "notification": notification,
        "claim": claim,
        "event": notification.event,
        "recipient": notification.user,
        "url": claim_url_for(notification.user, claim, is_partner=is_partner),
        "lines": lines if lines is not None else list(claim.lines.select_related("workload")),
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
