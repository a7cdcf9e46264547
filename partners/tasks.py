"""Emails partners ask the portal to send, claimed with a conditional update so each goes once."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from partners import emails
from partners.models import ClaimInvite, PartnerInvitation

log = logging.getLogger(__name__)


def _send_once(self, model: type[Model], pk: int, build, **live) -> bool:
    # The conditional update is the claim: a repeated message, or the sweep racing the
    # worker, finds sent_at set and sends nothing.
    claimed = model.objects.filter(
        pk=pk, sent_at=None, send_requested_at__isnull=False, **live
    ).update(sent_at=timezone.now())
    if not claimed:
        return False
    row = model.objects.get(pk=pk)
    try:
        build(row).send()
    except Exception as exc:
        model.objects.filter(pk=pk).update(sent_at=None)
        log.warning("Email for %s %s failed: %s", model.__name__, pk, exc)
        if self.request.is_eager:
            return False  # no worker to retry in-process; the sweep sends it later
        raise self.retry(exc=exc) from exc
    return True


@shared_task(acks_late=True, bind=True, max_retries=5, default_retry_delay=60)
def send_claim_invite(self, invite_id: int) -> bool:
    """Email a claim's invite link to the address the partner gave."""
    return _send_once(
        self, ClaimInvite, invite_id, emails.claim_invite, revoked_at=None, used_at=None
    )


@shared_task(acks_late=True, bind=True, max_retries=5, default_retry_delay=60)
def send_team_invitation(self, invitation_id: int) -> bool:
    """Email an invitation to join a partner's team."""
    return _send_once(
        self,
        PartnerInvitation,
        invitation_id,
        emails.team_invitation,
        revoked_at=None,
        accepted_at=None,
    )


@shared_task(acks_late=True)
def sweep_invitations() -> dict[str, int]:
    """Re-enqueue invitation emails a lost message left unsent."""
    cutoff = timezone.now() - settings.SWEEP_AFTER
    now = timezone.now()
    invites = list(
        ClaimInvite.objects.filter(
            sent_at=None,
            send_requested_at__lt=cutoff,
            revoked_at=None,
            used_at=None,
            expires_at__gt=now,
        ).values_list("pk", flat=True)[:500]
    )
    for pk in invites:
        send_claim_invite.delay(pk)
    team = list(
        PartnerInvitation.objects.filter(
            sent_at=None,
            send_requested_at__lt=cutoff,
            revoked_at=None,
            accepted_at=None,
            expires_at__gt=now,
        ).values_list("pk", flat=True)[:500]
    )
    for pk in team:
        send_team_invitation.delay(pk)
    return {"claim_invites": len(invites), "team_invitations": len(team)}
