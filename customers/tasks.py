from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from customers.emails import invitation_email
from customers.models import Invitation

log = logging.getLogger(__name__)


@shared_task(acks_late=True, bind=True, max_retries=5, default_retry_delay=60)
def send_invitation(self, invitation_id: int) -> bool:
    """Email an invitation once; a second delivery of the message finds it sent."""
    claimed = Invitation.objects.filter(
        pk=invitation_id, sent_at=None, accepted_at=None, revoked_at=None
    ).update(sent_at=timezone.now())
    if not claimed:
        return False
    invitation = Invitation.objects.select_related("customer", "invited_by").get(pk=invitation_id)
    try:
        invitation_email(invitation).send()
    except Exception as exc:
        # Unclaimed again, so the retry (or the approver's "send again") can send it.
        Invitation.objects.filter(pk=invitation_id).update(sent_at=None)
        log.warning("Invitation %s was not emailed: %s", invitation_id, exc)
        if self.request.is_eager:
            return False
        raise self.retry(exc=exc) from exc
    return True
