from __future__ import annotations

from celery import shared_task

from claims_portal.partner_system.models import SyncRun
from claims_portal.partner_system.services import run_sync


# One run at a time is the lease's job, not Celery's: a second delivery of this message, or
# a second beat, finds the lease taken and records a skipped run.
@shared_task(acks_late=True, ignore_result=True)
def sync_partner_system(trigger: str = SyncRun.Trigger.BEAT) -> int:
    """The scheduled sync (beat, every PARTNER_SYSTEM_SYNC_MINUTES); returns the run's id."""
    return run_sync(trigger=trigger).pk
