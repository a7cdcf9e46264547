"""Work to do after a commit: recorded in the same transaction, handed to the broker after.

A task queued inside a transaction (every `.delay()` of a `TransactionAwareTask`) becomes an
`OutboxMessage` row of that transaction. Once it commits, the row is handed to the broker
and deleted. When the broker is down, or the process dies between the commit and the
hand-off, the row stays, and the relay sweep (`relay`, run every few seconds by beat) hands
it over later. So nothing the database committed is lost, and nothing rolled back is sent.

A message can reach the broker twice (handed over, then the process dies before deleting
its row): every task takes ids and re-checks the state it acts on, so a second run changes
nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from claims_portal.celery import app
from claims_portal.models import OutboxMessage

log = logging.getLogger(__name__)

# After a failed hand-off this process leaves new rows to the sweep for a few seconds instead
# of trying the broker again, so a request that queues several tasks while the broker is down
# pays for one failed attempt, not one per task.
_PAUSE_AFTER_FAILURE = 5.0
_broker_down_until = 0.0
_lock = threading.Lock()


def enqueue(
    task: Task,
    args: Sequence[Any] | None,
    kwargs: dict[str, Any] | None,
    options: dict[str, Any],
) -> None:
    """Record `task` in the current transaction; hand it to the broker once that commits."""
    now = timezone.now()
    message = OutboxMessage.objects.create(
        task=task.name,
        args=list(args or ()),
        kwargs=dict(kwargs or {}),
        options=options,
        created_at=now,
        # The committing process hands it over itself; the sweep waits this long first.
        next_attempt_at=now + settings.OUTBOX_GRACE,
    )
    transaction.on_commit(lambda: _hand_off(message))


def _publish(message: OutboxMessage) -> None:
    task = app.tasks[message.task]
    # Task.apply_async, not the task's own: that one would write a new outbox row.
    # No publish retries: the outbox is the retry, and a request must not wait on the broker.
    Task.apply_async(task, message.args, message.kwargs, retry=False, **message.options)


def _broker_paused() -> bool:
    return time.monotonic() < _broker_down_until


def _note_failure(exc: Exception) -> None:
    global _broker_down_until
    with _lock:
        _broker_down_until = time.monotonic() + _PAUSE_AFTER_FAILURE
    log.warning("Broker unreachable, the outbox keeps the message for the sweep: %s", exc)


def _backoff(attempts: int) -> timedelta:
    return min(settings.OUTBOX_RETRY_MAX, settings.OUTBOX_RETRY_MIN * 2 ** max(attempts - 1, 0))


def _hand_off(message: OutboxMessage) -> None:
    if _broker_paused():
        return  # the row waits for the sweep
    try:
        _publish(message)
    except Exception as exc:
        _note_failure(exc)
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=F("attempts") + 1,
            last_error=str(exc)[:1000],
            next_attempt_at=timezone.now() + _backoff(1),
        )
        return
    OutboxMessage.objects.filter(pk=message.pk).delete()


def relay(*, limit: int = 500) -> dict[str, int]:
    """Hand over the messages whose first hand-off failed or died with its process."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            OutboxMessage.objects.filter(next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)[:limit]
        )
        # A lease: a second relay skips these, and if this one dies they come back after it.
        OutboxMessage.objects.filter(pk__in=[m.pk for m in due]).update(
            next_attempt_at=now + settings.OUTBOX_LEASE
        )
    # The broker is called outside the transaction, so no row lock waits on the network.
    sent: list[int] = []
    failed: OutboxMessage | None = None
    error = ""
    for message in due:
        try:
            _publish(message)
        except Exception as exc:
            _note_failure(exc)
            failed, error = message, str(exc)[:1000]
            break
        sent.append(message.pk)
    OutboxMessage.objects.filter(pk__in=sent).delete()
    left = [m for m in due if m.pk not in set(sent)]
    if failed is not None:
        # The broker is down: everything not yet sent waits for the next attempt together.
        for message in left:
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=F("attempts") + 1,
                last_error=error,
                next_attempt_at=timezone.now() + _backoff(message.attempts + 1),
            )
        log.warning(
            "Outbox relay: %d handed over, %d wait for the broker (%s)", len(sent), len(left), error
        )
    return {"sent": len(sent), "waiting": len(left)}
