"""The chain of custody: intact chains verify; edits, gaps and re-links are caught."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from approvals.services import decide_review, evaluate_claim
from claims import lifecycle
from claims.events import GENESIS_HASH, verify_chain
from claims.models import Claim, ClaimLine, Event, Notification

TRIGGER = "claims_event_no_update_delete"


def _tamper(sql: str, params: list) -> None:
    """Change event rows behind the model's back, as someone with database access could.

    PostgreSQL's trigger refuses any UPDATE or DELETE, so it is switched off around the
    statement. The foreign keys Django creates are deferred, and PostgreSQL will not alter
    a table with deferred checks still pending from this transaction: run them first.
    """
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            return
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE claims_event DISABLE TRIGGER {TRIGGER}")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute(f"ALTER TABLE claims_event ENABLE TRIGGER {TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def claim(world):
    """A claim through route, sign, return, resubmit, confirm, the automatic check and review."""
    claim = world.draft(user=world.contributor, workloads=[world.workloads[0], world.workloads[2]])
    lifecycle.route_to_approver(claim, user=world.contributor)
    lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=True)
    lifecycle.return_to_customer(claim, user=world.partner_member, comment="Fix seats")
    lifecycle.resubmit(claim, user=world.approver, signed_name="Alex", attested=True)
    lifecycle.confirm_claim(claim, user=world.partner_member)
    evaluate_claim(claim_id=claim.pk)
    queued = claim.lines.get(status=ClaimLine.Status.IN_REVIEW)
    decide_review(claim, user=world.reviewer, line_approvals={queued.pk: True}, comment="OK")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED
    return claim


ACTIONS = ["created", "route", "sign", "return", "resubmit", "confirm", "evaluate", "decide"]


def test_it_verifies_an_intact_chain(claim):
    assert verify_chain(claim) == []
    events = list(Event.objects.filter(claim=claim).order_by("seq"))
    assert [e.action for e in events] == ACTIONS
    assert [e.seq for e in events] == list(range(1, len(ACTIONS) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


def test_it_keeps_chains_of_different_claims_apart(world, claim):
    other = world.submitted(workloads=world.workloads[:1])
    assert verify_chain(other) == []
    assert verify_chain(claim) == []
    assert Event.objects.get(claim=other, seq=1).prev_hash == GENESIS_HASH


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("comment", "All fine"),
        ("actor_label", "someone@else.example"),
        ("to_status", "approved"),
        ("changes", '{"signed_name": "Someone Else"}'),
        ("hash", "f" * 64),
    ],
)
def test_it_catches_an_altered_event(claim, column, value):
    _tamper(
        f"UPDATE claims_event SET {column} = %s WHERE claim_id = %s AND seq = 3",
        [value, claim.pk],
    )
    problems = verify_chain(claim)
    assert "event 3 was altered after it was written" in problems
    if column == "hash":
        # The next event still points at the true hash.
        assert "event 4 does not follow the event before it" in problems


def test_it_catches_a_missing_event(claim):
    Notification.objects.filter(event__claim=claim, event__seq=2).delete()
    _tamper("DELETE FROM claims_event WHERE claim_id = %s AND seq = 2", [claim.pk])
    assert verify_chain(claim) == [
        "event 2 is missing (next found is 3)",
        "event 3 does not follow the event before it",
    ]


def test_it_catches_a_missing_first_event(claim):
    _tamper("DELETE FROM claims_event WHERE claim_id = %s AND seq = 1", [claim.pk])
    problems = verify_chain(claim)
    assert "event 1 is missing (next found is 2)" in problems
    assert "event 2 does not follow the event before it" in problems


def test_it_catches_a_claim_without_events(claim):
    Notification.objects.filter(claim=claim).delete()
    _tamper("DELETE FROM claims_event WHERE claim_id = %s", [claim.pk])
    assert verify_chain(claim) == ["the claim has no events"]


def test_it_catches_a_cut_off_latest_event(claim):
    last = Event.objects.filter(claim=claim).order_by("-seq").first()
    Notification.objects.filter(event=last).delete()
    _tamper("DELETE FROM claims_event WHERE id = %s", [last.pk])
    # The claim is approved, yet its history now ends before the decision.
    assert verify_chain(claim) != []


def test_it_catches_a_relinked_event(claim):
    first = Event.objects.get(claim=claim, seq=1)
    _tamper(
        "UPDATE claims_event SET prev_hash = %s WHERE claim_id = %s AND seq = 4",
        [first.hash, claim.pk],
    )
    assert verify_chain(claim) == [
        "event 4 does not follow the event before it",
        "event 4 was altered after it was written",
    ]


def test_it_catches_swapped_prev_hashes(claim):
    four, five = Event.objects.filter(claim=claim, seq__in=[4, 5]).order_by("seq")
    for event, prev_hash in ((four, five.prev_hash), (five, four.prev_hash)):
        _tamper("UPDATE claims_event SET prev_hash = %s WHERE id = %s", [prev_hash, event.pk])
    problems = verify_chain(claim)
    assert "event 4 does not follow the event before it" in problems
    assert "event 5 does not follow the event before it" in problems


def test_it_catches_events_put_in_another_order(claim):
    # Seq is unique per claim: move 5 aside, 4 into its place, then 5 into 4's.
    for old, new in ((5, 1000), (4, 5), (1000, 4)):
        _tamper(
            "UPDATE claims_event SET seq = %s WHERE claim_id = %s AND seq = %s",
            [new, claim.pk, old],
        )
    problems = verify_chain(claim)
    assert "event 4 was altered after it was written" in problems
    assert "event 5 was altered after it was written" in problems


def test_the_command_reports_intact_chains(claim, capsys):
    call_command("verify_claim_chain", claim.reference)
    out = capsys.readouterr().out
    assert f"{claim.reference}: intact" in out
    assert "1 claims checked; every chain is intact." in out


def test_the_command_checks_every_claim_by_default(world, claim, capsys):
    world.submitted(workloads=world.workloads[:1])
    call_command("verify_claim_chain")
    assert "2 claims checked; every chain is intact." in capsys.readouterr().out


def test_the_command_names_a_broken_claim(world, claim, capsys):
    intact = world.submitted(workloads=world.workloads[:1])
    _tamper(
        "UPDATE claims_event SET actor_label = %s WHERE claim_id = %s AND seq = 1",
        ["someone else", claim.pk],
    )
    with pytest.raises(CommandError, match="1 of 2 claims have a broken chain"):
        call_command("verify_claim_chain")
    err = capsys.readouterr().err
    assert f"{claim.reference}: event 1 was altered after it was written" in err
    assert intact.reference not in err


def test_the_command_names_a_broken_claim_asked_for(claim, capsys):
    _tamper(
        "UPDATE claims_event SET comment = %s WHERE claim_id = %s AND seq = 4",
        ["Looks good", claim.pk],
    )
    with pytest.raises(CommandError, match="1 of 1 claims have a broken chain"):
        call_command("verify_claim_chain", claim.reference)
    captured = capsys.readouterr()
    assert f"{claim.reference}: event 4 was altered" in captured.err
    assert "intact" not in captured.out


def test_the_command_refuses_an_unknown_reference(claim):
    with pytest.raises(CommandError, match="No such claim: CLM-1999-000001"):
        call_command("verify_claim_chain", claim.reference, "CLM-1999-000001")
