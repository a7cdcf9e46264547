"""The chain of custody: intact chains verify; edits, gaps and re-links are caught."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from claims import lifecycle
from claims.events import verify_chain
from claims.models import Event, Notification


def _tamper(sql: str, params: list) -> None:
    """Change event rows behind the model's back, as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Replica mode skips the append-only trigger, as a superuser could.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


@pytest.fixture
def claim(world):
    claim = world.submitted()
    lifecycle.return_to_customer(claim, user=world.partner_member, comment="Fix seats")
    lifecycle.resubmit(claim, user=world.approver, signed_name="Alex", attested=True)
    return claim


def test_it_verifies_an_intact_chain(claim):
    assert verify_chain(claim) == []
    events = list(Event.objects.filter(claim=claim).order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


def test_it_catches_an_altered_comment(claim):
    _tamper(
        "UPDATE claims_event SET comment = %s WHERE claim_id = %s AND seq = 3",
        ["All fine", claim.pk],
    )
    assert verify_chain(claim) == ["event 3 was altered after it was written"]


def test_it_catches_a_missing_event(claim):
    Notification.objects.filter(event__claim=claim, event__seq=2).delete()
    _tamper("DELETE FROM claims_event WHERE claim_id = %s AND seq = 2", [claim.pk])
    problems = verify_chain(claim)
    assert "event 2 is missing (next found is 3)" in problems
    assert "event 3 does not follow the event before it" in problems


def test_it_catches_a_relinked_event(claim):
    first = Event.objects.get(claim=claim, seq=1)
    _tamper(
        "UPDATE claims_event SET prev_hash = %s WHERE claim_id = %s AND seq = 4",
        [first.hash, claim.pk],
    )
    problems = verify_chain(claim)
    assert "event 4 does not follow the event before it" in problems


def test_the_command_reports_intact_chains(claim, capsys):
    call_command("verify_claim_chain", claim.reference)
    out = capsys.readouterr().out
    assert f"{claim.reference}: intact" in out
    assert "every chain is intact" in out


def test_the_command_names_a_broken_claim(claim, capsys):
    _tamper(
        "UPDATE claims_event SET actor_label = %s WHERE claim_id = %s AND seq = 1",
        ["someone else", claim.pk],
    )
    with pytest.raises(CommandError, match="1 of 1 claims have a broken chain"):
        call_command("verify_claim_chain")
    assert f"{claim.reference}: event 1 was altered" in capsys.readouterr().err


def test_the_command_refuses_an_unknown_reference(db):
    with pytest.raises(CommandError, match="No such claim: CLM-1999-000001"):
        call_command("verify_claim_chain", "CLM-1999-000001")
