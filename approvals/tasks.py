from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from approvals import deadlines, services
from claims.models import Claim


# The database out of reach (restart, failover, network): retry after 1, 2, 4 ... 60 s, for
# about five minutes in all, without jitter so the early retries are not spent at once.
# Each countdown stays under the broker's visibility timeout (see settings).
@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=10,
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=False,
)
def evaluate_claim(claim_id: int) -> str:
    """Run the rule check for a confirmed claim; a repeat delivery finds it done."""
    claim = services.evaluate_claim(claim_id=claim_id)
    return claim.status if claim is not None else "nothing to do"


@shared_task(acks_late=True)
def sweep_evaluations() -> dict[str, int]:
    """Re-enqueue claims a lost message left stuck in evaluation."""
    cutoff = timezone.now() - settings.SWEEP_AFTER
    stuck = list(
        Claim.objects.filter(status=Claim.Status.EVALUATING, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for claim_id in stuck:
        evaluate_claim.delay(claim_id)
    return {"claims": len(stuck)}


@shared_task(acks_late=True)
def sweep_deadlines() -> dict[str, int]:
    """Send the reminders and escalations that are due; each goes out once, whoever runs it."""
    return deadlines.sweep()
