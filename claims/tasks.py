from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from claims.emails import claim_update
from claims.models import Notification

log = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 8


@shared_task(acks_late=True, bind=True, max_retries=5, default_retry_delay=60)
def send_notification(self, notification_id: int) -> bool:
    """Email one notification; safe to run twice (the first to claim it sends)."""
    now = timezone.now()
    stale = now - settings.SWEEP_AFTER
    # The conditional update is the claim: a second delivery of the same message,
    # or the sweep racing the worker, finds nothing left to do.
    claimed = (
        Notification.objects.filter(pk=notification_id, emailed_at=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=stale))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("user", "claim", "event").get(
        pk=notification_id
    )
    try:
        claim_update(notification).send()
    except Exception as exc:
        Notification.objects.filter(pk=notification_id).update(claimed_at=None)
        log.warning("Email for notification %s failed: %s", notification_id, exc)
        if self.request.is_eager:
            # In-process mode has no worker to retry; the sweep picks it up later.
            return False
        raise self.retry(exc=exc) from exc
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())
    return True


@shared_task(acks_late=True)
def sweep_notifications() -> dict[str, int]:
    """Re-enqueue email a lost message left behind."""
    cutoff = timezone.now() - settings.SWEEP_AFTER
    unsent = list(
        Notification.objects.filter(
            emailed_at=None, created_at__lt=cutoff, attempts__lt=MAX_EMAIL_ATTEMPTS
        )
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=cutoff))
        .values_list("pk", flat=True)[:500]
    )
    for notification_id in unsent:
        send_notification.delay(notification_id)
    return {"notifications": len(unsent)}
