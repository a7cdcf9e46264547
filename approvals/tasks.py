from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    max_retries=5,
    retry_backoff=True,
)
def evaluate_claim(claim_id: int) -> str:
    """Run the rule check for a confirmed claim; a repeat delivery finds it done."""
    from approvals.services import evaluate_claim as evaluate

    claim = evaluate(claim_id=claim_id)
    return claim.status if claim is not None else "nothing to do"
