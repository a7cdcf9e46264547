from __future__ import annotations

from celery import shared_task

from claims_portal import outbox


@shared_task(acks_late=True)
def relay_outbox() -> dict[str, int]:
    """Hand to the broker the messages a failed or lost hand-off left in the outbox."""
    return outbox.relay()
