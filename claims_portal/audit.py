"""One way to record an audited action on any object (pretix's `log_action`).

Claims keep their own chain of custody (`claims.events`); everything else that needs a
history (team membership, partner changes, catalogs, programs) records it here with a
namespaced action code, e.g. `log_action(membership, "customers.membership.removed",
user=request.user, data={"email": ...})`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from claims_portal.hashchain import GENESIS_HASH, canonical, digest
from claims_portal.models import AuditEntry

SYSTEM_LABEL = "Claims portal (automatic)"


def actor_label(user: User | None) -> str:
    if user is None:
        return SYSTEM_LABEL
    return user.email or user.get_username()


def _payload(entry: AuditEntry) -> dict[str, Any]:
    return {
        "type": entry.content_type_id,
        "object": entry.object_id,
        "seq": entry.seq,
        "action": entry.action,
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "data": entry.data,
        "at": entry.created_at.isoformat(),
        "prev": entry.prev_hash,
    }


def _serialise(content_type: ContentType, object_id: str) -> None:
    # Two actions on one object at once must not both take the same seq: on PostgreSQL
    # a transaction-scoped advisory lock per object orders them; SQLite serialises writes.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                [f"audit:{content_type.pk}:{object_id}"],
            )


def log_action(
    obj: models.Model, action: str, *, user: User | None = None, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Append `action` to the object's audited history."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    object_id = str(obj.pk)
    with transaction.atomic():
        _serialise(content_type, object_id)
        last = (
            AuditEntry.objects.filter(content_type=content_type, object_id=object_id)
            .order_by("-seq")
            .values("seq", "hash")
            .first()
        )
        entry = AuditEntry(
            content_type=content_type,
            object_id=object_id,
            object_repr=str(obj)[:200],
            seq=(last["seq"] + 1) if last else 1,
            action=action,
            actor=user,
            actor_label=actor_label(user),
            data=canonical(data or {}),
            created_at=timezone.now().replace(microsecond=0),
            prev_hash=last["hash"] if last else GENESIS_HASH,
        )
        entry.hash = digest(_payload(entry))
        entry.save()
    return entry


def history(obj: models.Model) -> models.QuerySet[AuditEntry]:
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return AuditEntry.objects.filter(content_type=content_type, object_id=str(obj.pk)).order_by(
        "seq"
    )


def verify_history(obj: models.Model) -> list[str]:
    """Every problem in the object's audited history; empty when intact."""
    problems: list[str] = []
    expected_prev, expected_seq = GENESIS_HASH, 1
    for entry in history(obj):
        if entry.seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing (next found is {entry.seq})")
            expected_seq = entry.seq
        if entry.prev_hash != expected_prev:
            problems.append(f"entry {entry.seq} does not follow the entry before it")
        if digest(_payload(entry)) != entry.hash:
            problems.append(f"entry {entry.seq} was altered after it was written")
        expected_prev = entry.hash
        expected_seq += 1
    return problems
