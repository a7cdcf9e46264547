from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from claims.emails import claim_update
from claims.models import Notification
from partners.models import PartnerMembership

log = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 8

_DB_ERRORS = (OperationalError, InterfaceError)


def _claimable(now):
    # Not emailed, and nobody is on it (or whoever was has been gone longer than the sweep waits).
    stale = now - settings.SWEEP_AFTER
    return Notification.objects.filter(emailed_at=None).filter(
        Q(claimed_at=None) | Q(claimed_at__lt=stale)
    )


def _claim(ids_query) -> list[int]:
    """Take the notifications to email; a second delivery or the sweep finds them taken."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(ids_query.select_for_update(skip_locked=True).values_list("pk", flat=True))
        Notification.objects.filter(pk__in=ids).update(claimed_at=now, attempts=F("attempts") + 1)
    return ids


def _email(ids: list[int]) -> tuple[list[int], Exception | None]:
    """Email the claimed notifications over one mail connection; (sent ids, first error)."""
    notifications = list(
        Notification.objects.filter(pk__in=ids)
        .select_related("user", "claim__customer", "claim__partner", "event")
        .order_by("pk")
    )
    lines: dict[int, list] = {}
    partner_users: set[int] = set()
    for claim in {n.claim_id: n.claim for n in notifications}.values():
        lines[claim.pk] = list(claim.lines.select_related("workload"))
        partner_users |= set(
            PartnerMembership.objects.filter(
                partner_id=claim.partner_id, user_id__in=[n.user_id for n in notifications]
            ).values_list("user_id", flat=True)
        )
    sent: list[int] = []
    error: Exception | None = None
    # SMTP, the slow part, runs outside any transaction.
    try:
        with get_connection() as connection:
            for notification in notifications:
                message = claim_update(
                    notification,
                    lines=lines[notification.claim_id],
                    is_partner=notification.user_id in partner_users,
                )
                message.connection = connection
                try:
                    message.send()
                except Exception as exc:
                    error = error or exc
                    continue
                sent.append(notification.pk)
    except Exception as exc:  # the relay would not even open
        error = error or exc
    Notification.objects.filter(pk__in=sent).update(emailed_at=timezone.now())
    unsent = [pk for pk in ids if pk not in set(sent)]
    if unsent:
        # Free them for the retry (or the sweep) at once.
        Notification.objects.filter(pk__in=unsent).update(claimed_at=None)
        log.warning("Email for notifications %s failed: %s", unsent, error)
    return sent, error


@shared_task(
    acks_late=True,
    bind=True,
    autoretry_for=_DB_ERRORS,
    max_retries=10,
    default_retry_delay=60,
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=False,
)
def send_notifications(self, event_id: int) -> int:
    """Email everyone an event notifies, over one connection; safe to run twice."""
    ids = _claim(_claimable(timezone.now()).filter(event_id=event_id))
    if not ids:
        return 0
    sent, error = _email(ids)
    if error is not None and not self.request.is_eager:
        # In-process mode has no worker to retry; the sweep picks it up later.
        raise self.retry(exc=error)
    return len(sent)


@shared_task(
    acks_late=True,
    bind=True,
    autoretry_for=_DB_ERRORS,
    max_retries=10,
    default_retry_delay=60,
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=False,
)
def send_notification(self, notification_id: int) -> bool:
    """Email one notification; safe to run twice (the first to claim it sends)."""
    ids = _claim(_claimable(timezone.now()).filter(pk=notification_id))
    if not ids:
        return False
    sent, error = _email(ids)
    if error is not None and not self.request.is_eager:
        raise self.retry(exc=error)
    return bool(sent)


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
