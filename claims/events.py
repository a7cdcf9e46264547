"""The chain of custody: every change to a claim as an append-only, hash-chained Event."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from claims.models import Claim, ClaimAction, ClaimRole, Event
from claims_portal.audit import actor_label
from claims_portal.hashchain import GENESIS_HASH, canonical, digest


def _digest(event: Event, reference: str) -> str:
    return digest(
        {
            "claim": reference,
            "seq": event.seq,
            "action": event.action,
            "actor": event.actor_id,
            "actor_label": event.actor_label,
            "actor_role": event.actor_role,
            "from": event.from_status,
            "to": event.to_status,
            "changes": event.changes,
            "comment": event.comment,
            "at": event.created_at.isoformat(),
            "prev": event.prev_hash,
        }
    )


def record_event(
    claim: Claim,
    *,
    action: ClaimAction,
    user: User | None,
    role: ClaimRole,
    from_status: str = "",
    to_status: str = "",
    changes: dict[str, Any] | None = None,
    comment: str = "",
) -> Event:
    """Append an event to the claim's chain. The caller holds the claim's row lock."""
    last = Event.objects.filter(claim=claim).order_by("-seq").values("seq", "hash").first()
    event = Event(
        claim=claim,
        seq=(last["seq"] + 1) if last else 1,
        action=action,
        actor=user,
        actor_label=actor_label(user),
        actor_role=role,
        from_status=from_status,
        to_status=to_status,
        changes=canonical(changes or {}),
        comment=comment,
        # Microseconds are dropped so the timestamp survives every database unchanged.
        created_at=timezone.now().replace(microsecond=0),
        prev_hash=last["hash"] if last else GENESIS_HASH,
    )
    event.hash = _digest(event, claim.reference)
    event.save()
    return event


def verify_chain(claim: Claim) -> list[str]:
    """Every problem found in the claim's chain; an empty list means it is intact."""
    problems: list[str] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    event = None
    for event in Event.objects.filter(claim=claim).order_by("seq"):
        if event.seq != expected_seq:
            problems.append(f"event {expected_seq} is missing (next found is {event.seq})")
            expected_seq = event.seq
        if event.prev_hash != expected_prev:
            problems.append(f"event {event.seq} does not follow the event before it")
        if _digest(event, claim.reference) != event.hash:
            problems.append(f"event {event.seq} was altered after it was written")
        expected_prev = event.hash
        expected_seq += 1
    if event is None:
        problems.append("the claim has no events")
    elif event.to_status != claim.status:
        # Every event records the state it left the claim in, so a cut-off tail shows.
        problems.append(
            f"the last event leaves the claim “{event.to_status}” but it is “{claim.status}”;"
            " later events are missing"
        )
    return problems
