"""What the rule engine and the queue do when a claim moves (connected in AppConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from approvals.services import close_review_tasks
from approvals.tasks import evaluate_claim
from claims.models import Claim, Event
from claims.signals import claim_transitioned


@receiver(claim_transitioned, dispatch_uid="approvals.evaluate_after_confirm")
def evaluate_after_confirm(sender: Any, *, claim: Claim, event: Event, **kwargs: Any) -> None:
    if event.to_status == Claim.Status.EVALUATING:
        evaluate_claim.delay(claim.pk)  # sent once the confirm commits


@receiver(claim_transitioned, dispatch_uid="approvals.close_tasks_on_leaving_review")
def close_tasks_on_leaving_review(
    sender: Any, *, claim: Claim, event: Event, **kwargs: Any
) -> None:
    if event.from_status == Claim.Status.IN_REVIEW and event.to_status != Claim.Status.IN_REVIEW:
        close_review_tasks(claim, event)
