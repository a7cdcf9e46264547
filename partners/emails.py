"""The emails partners send from the portal: a claim's invite link, a team invitation."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from partners import tokens
from partners.models import ClaimInvite, PartnerInvitation


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _message(template: str, subject: str, to: str, context: dict) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message


def claim_invite(invite: ClaimInvite) -> EmailMultiAlternatives:
    claim = invite.claim
    context = {
        "invite": invite,
        "claim": claim,
        "lines": list(claim.lines.select_related("workload")),
        "url": _absolute(
            reverse("claim_invite", args=[tokens.make(invite, salt=tokens.CLAIM_INVITE)])
        ),
    }
    subject = render_to_string("emails/claim_invite_subject.txt", context).strip()
    return _message("claim_invite", subject, invite.email, context)


def team_invitation(invitation: PartnerInvitation) -> EmailMultiAlternatives:
    context = {
        "invitation": invitation,
        "partner": invitation.partner,
        "url": _absolute(
            reverse(
                "partner_team_join", args=[tokens.make(invitation, salt=tokens.TEAM_INVITATION)]
            )
        ),
    }
    subject = render_to_string("emails/team_invitation_subject.txt", context).strip()
    return _message("team_invitation", subject, invitation.email, context)
