"""Outcomes that stay consistent: what withdraw and edit mean once a line is approved, the
invariant the database holds, the command that checks it, decisions kept for audit, and the
partner's claim limit under simultaneous evaluations."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import replace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision, ReviewTask
from approvals.outcomes import find_problems
from approvals.services import _serialise_per_partner, decide_review, evaluate_claim
from claims import lifecycle
from claims.lifecycle import ClaimError
from claims.models import Claim, ClaimLine, Event
from customers.models import Association
from partners.models import Program
from tests import factories as f

S = Claim.Status
L = ClaimLine.Status


def _workload(world, code):
    return next(w for w in world.workloads if w.code == code)


def _queued(world, codes=("exchange", "intune")) -> Claim:
    """Exchange approved at once (association granted), Intune (not in the catalog) in review."""
    claim = world.submitted(workloads=[_workload(world, c) for c in codes])
    lifecycle.confirm_claim(claim, user=world.partner_member)
    claim = evaluate_claim(claim_id=claim.pk)
    assert claim.status == S.IN_REVIEW
    return claim


def _lines(claim) -> dict[str, str]:
    return dict(claim.lines.values_list("workload__code", "status"))


def _held_by(claim) -> list[str]:
    return sorted(
        Association.objects.filter(source_claim=claim, ended_on=None).values_list(
            "workload__code", flat=True
        )
    )


def _invariant_holds() -> None:
    assert [str(p) for p in find_problems()] == []
    call_command("check_claim_outcomes", stdout=io.StringIO())


# --- Withdraw -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["approver", "contributor", "partner_member"])
def test_withdrawing_a_claim_in_review_withdraws_only_what_is_undecided(world, who):
    claim = _queued(world)
    claim = lifecycle.withdraw(claim, user=getattr(world, who), comment="No longer needed")

    claim.refresh_from_db()
    # The approved service is a decision: it stands, with its association.
    assert claim.status == S.PARTIALLY_APPROVED and claim.decided_at is not None
    assert _lines(claim) == {"exchange": L.APPROVED, "intune": L.WITHDRAWN}
    assert _held_by(claim) == ["exchange"]
    assert ReviewTask.objects.get(claim=claim).state == ReviewTask.State.DONE
    event = claim.events.order_by("-seq").first()
    assert (event.action, event.from_status, event.to_status, event.comment) == (
        "withdraw",
        S.IN_REVIEW,
        S.PARTIALLY_APPROVED,
        "No longer needed",
    )
    assert event.changes == {"lines": {"exchange": "approved", "intune": "withdrawn"}}
    _invariant_holds()


def test_withdrawing_a_returned_claim_with_an_approved_line_keeps_that_line(world):
    claim = _queued(world)
    lifecycle.return_from_review(claim, user=world.reviewer, comment="Explain Intune")
    claim = lifecycle.withdraw(claim, user=world.approver)
    assert claim.status == S.PARTIALLY_APPROVED
    assert _lines(claim) == {"exchange": L.APPROVED, "intune": L.WITHDRAWN}
    assert _held_by(claim) == ["exchange"]
    _invariant_holds()


def test_withdrawing_a_claim_with_nothing_approved_ends_withdrawn_and_holds_nothing(world):
    claim = _queued(world, codes=("intune",))
    claim = lifecycle.withdraw(claim, user=world.partner_member)
    assert claim.status == S.WITHDRAWN and claim.decided_at is None
    assert _lines(claim) == {"intune": L.WITHDRAWN}
    assert _held_by(claim) == []
    assert not Association.objects.filter(source_claim=claim).exists()
    _invariant_holds()


def test_a_decided_claim_cannot_be_withdrawn(world):
    claim = _queued(world)
    lifecycle.withdraw(claim, user=world.approver)
    with pytest.raises(ClaimError, match="can no longer be withdrawn"):
        lifecycle.withdraw(claim, user=world.approver)


# --- Edit after a return, then a rejection --------------------------------------------------


def test_a_returned_edited_and_rejected_claim_keeps_its_approved_line(world):
    claim = _queued(world)
    exchange_association = Association.objects.get(source_claim=claim, ended_on=None)
    lifecycle.return_from_review(claim, user=world.reviewer, comment="Fewer Intune seats")

    # The customer corrects the line in question; the approved one comes along unchanged.
    data = world.claim_input([_workload(world, "exchange"), _workload(world, "intune")])
    exchange_line, intune_line = data.lines
    data = replace(data, lines=[exchange_line, replace(intune_line, seats=200)])
    lifecycle.update_claim(claim, user=world.approver, data=data)
    lifecycle.resubmit(claim, user=world.approver, signed_name="Alex", attested=True)
    lifecycle.confirm_claim(claim, user=world.partner_member)
    claim = evaluate_claim(claim_id=claim.pk)
    assert claim.status == S.IN_REVIEW
    intune = claim.lines.get(workload__code="intune")
    claim = decide_review(
        claim, user=world.reviewer, line_approvals={intune.pk: False}, comment="Still custom"
    )

    # Not "rejected": one service was approved, so the claim is partially approved, and the
    # association that line was granted is the same, still pointing at an approved line.
    assert claim.status == S.PARTIALLY_APPROVED
    assert _lines(claim) == {"exchange": L.APPROVED, "intune": L.REJECTED}
    assert list(Association.objects.filter(source_claim=claim, ended_on=None)) == [
        exchange_association
    ]
    _invariant_holds()


def test_editing_cannot_change_or_drop_an_approved_line(world):
    claim = _queued(world)
    lifecycle.return_from_review(claim, user=world.reviewer, comment="Check")
    only_intune = world.claim_input([_workload(world, "intune")])
    with pytest.raises(ClaimError, match="approved already"):
        lifecycle.update_claim(claim, user=world.approver, data=only_intune)
    more_seats = world.claim_input(
        [_workload(world, "exchange"), _workload(world, "intune")], seats=900
    )
    with pytest.raises(ClaimError, match="approved already"):
        lifecycle.update_claim(claim, user=world.approver, data=more_seats)
    assert _lines(claim) == {"exchange": L.APPROVED, "intune": L.PENDING}
    assert _held_by(claim) == ["exchange"]


# --- Decisions kept for audit ---------------------------------------------------------------


def test_dropping_a_checked_line_keeps_it_and_its_decisions(world):
    claim = _queued(world)
    lifecycle.return_from_review(claim, user=world.reviewer, comment="Drop Intune?")
    intune = claim.lines.get(workload__code="intune")
    decisions = list(Decision.objects.filter(line=intune).values_list("pk", flat=True))
    assert decisions
    lifecycle.update_claim(
        claim, user=world.approver, data=world.claim_input([_workload(world, "exchange")])
    )
    intune.refresh_from_db()
    assert intune.status == L.REMOVED
    assert list(Decision.objects.filter(line=intune).values_list("pk", flat=True)) == decisions


def test_a_decision_cannot_be_changed_or_deleted(world):
    claim = _queued(world)
    decision = Decision.objects.filter(line__claim=claim).first()
    with pytest.raises(TypeError):
        decision.delete()
    with pytest.raises(TypeError):
        decision.save()
    with pytest.raises(TypeError):
        Decision.objects.filter(pk=decision.pk).update(passed=True)
    with pytest.raises(TypeError):
        Decision.objects.filter(pk=decision.pk).delete()
    # Deleting the line (or the claim) under it is refused too.
    with pytest.raises(ProtectedError):
        decision.line.delete()
    # And PostgreSQL refuses a raw statement.
    for sql in (
        "UPDATE approvals_decision SET passed = NOT passed WHERE id = %s",
        "DELETE FROM approvals_decision WHERE id = %s",
    ):
        with (
            pytest.raises(ProgrammingError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [decision.pk])
    assert Decision.objects.filter(pk=decision.pk, passed=decision.passed).exists()


# --- The database holds the invariant ---------------------------------------------------------


def _violates(sql, params):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_an_association_without_an_approved_line(world):
    claim = _queued(world)
    intune = claim.lines.get(workload__code="intune")  # in review, not approved
    with pytest.raises(IntegrityError), transaction.atomic():
        Association.objects.create(
            customer=world.customer,
            workload=intune.workload,
            partner=world.partner,
            since=timezone.localdate(),
            source_claim=claim,
        )
    # Nor one that names the claim for another partner.
    with pytest.raises(IntegrityError), transaction.atomic():
        Association.objects.filter(source_claim=claim).update(partner=world.rival)


def test_the_database_refuses_to_end_a_claim_holding_an_association(world):
    claim = _queued(world)
    for status in (S.WITHDRAWN, S.REJECTED):
        with pytest.raises(IntegrityError), transaction.atomic():
            Claim.objects.filter(pk=claim.pk).update(status=status)
    # An approved line that granted an association stays approved, and stays.
    exchange = claim.lines.get(workload__code="exchange")
    with pytest.raises(IntegrityError), transaction.atomic():
        ClaimLine.objects.filter(pk=exchange.pk).update(status=L.PENDING)
    with pytest.raises((IntegrityError, ProtectedError)), transaction.atomic():
        ClaimLine.objects.filter(pk=exchange.pk).delete()
    # Once another partner's approval ended the association, the claim still may not end so.
    Association.objects.filter(source_claim=claim).update(ended_on=timezone.localdate())
    Claim.objects.filter(pk=claim.pk).update(status=S.WITHDRAWN)  # allowed now (no active one)


# --- The command ------------------------------------------------------------------------------


def test_the_command_passes_on_every_kind_of_consistent_claim(db):
    for trait in ("submitted", "returned", "evaluating", "in_review", "approved", "rejected"):
        f.ClaimFactory(**{trait: True})
    f.ClaimFactory(withdrawn=True)
    f.AssociationFactory()  # imported, with no source claim
    _invariant_holds()


def _without_triggers(statements):
    """Plant data the triggers would refuse, as data written before them would be."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            for sql, params in statements:
                cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def test_the_command_reports_each_breach(db):
    withdrawn = f.ClaimFactory(approved=True)  # an approved line and its active association
    rejected = f.ClaimFactory(approved=True)
    pointless = f.ClaimFactory(in_review=True)
    f.ClaimFactory(in_review=True, queue_item=False)
    _without_triggers(
        [
            ("UPDATE claims_claim SET status = 'withdrawn' WHERE id = %s", [withdrawn.pk]),
            ("UPDATE claims_claim SET status = 'rejected' WHERE id = %s", [rejected.pk]),
            (
                "INSERT INTO customers_association (customer_id, workload_id, partner_id, since,"
                " source_claim_id) SELECT c.customer_id, l.workload_id, c.partner_id, now(), c.id"
                " FROM claims_claimline l JOIN claims_claim c ON c.id = l.claim_id"
                " WHERE c.id = %s",
                [pointless.pk],
            ),
        ]
    )
    problems = list(find_problems())
    checks = {(p.check, p.reference) for p in problems}
    assert ("ended-claim-holds-association", withdrawn.reference) in checks
    assert ("ended-claim-holds-association", rejected.reference) in checks
    assert ("rejected-or-withdrawn-with-approved-line", withdrawn.reference) in checks
    assert ("association-without-approved-line", pointless.reference) in checks
    assert any(p.check == "queue-against-status" for p in problems)
    with pytest.raises(CommandError, match=r"problems in \d+ claims"):
        call_command("check_claim_outcomes", stdout=io.StringIO(), stderr=io.StringIO())


# --- The partner's claim limit, evaluated at the same instant ---------------------------------


def _limited_claims(world, limit=1):
    """Two claims of one partner for two customers, confirmed and waiting for a worker."""
    Program.objects.filter(pk=world.program.pk).update(claim_limit_per_partner=limit)
    exchange = [_workload(world, "exchange")]
    first = world.submitted(workloads=exchange)
    second = world.submitted(
        workloads=exchange, customer=world.other_customer, user=world.other_customer_user
    )
    for claim in (first, second):
        lifecycle.confirm_claim(claim, user=world.partner_member)
    return first, second


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_claims_of_one_partner_checked_at_once_respect_the_limit(world, attempt):
    first, second = _limited_claims(world)
    outcomes = _race(
        lambda: evaluate_claim(claim_id=first.pk), lambda: evaluate_claim(claim_id=second.pk)
    )
    assert all(isinstance(o, Claim) for o in outcomes), outcomes
    statuses = sorted(
        Claim.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
    )
    assert statuses == [S.APPROVED, S.IN_REVIEW]
    loser = Claim.objects.get(pk__in=[first.pk, second.pk], status=S.IN_REVIEW)
    assert Decision.objects.get(line__claim=loser).reason_codes == ["claim_limit"]
    _invariant_holds()


def _waiting_on_advisory_lock() -> bool:
    # pg_locks, not pg_stat_activity: that one is a snapshot fixed for the transaction.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0] > 0


def _run(evaluate, claim_id, outcome):
    try:
        outcome.append(evaluate(claim_id=claim_id))
    except Exception as exc:
        outcome.append(exc)
    finally:
        connection.close()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_evaluation_waits_for_the_partners_other_evaluation_and_sees_its_outcome(world):
    first, second = _limited_claims(world)
    outcome: list = []
    with transaction.atomic():
        # This transaction plays the evaluation of `first`, holding the partner's lock ...
        _serialise_per_partner(world.partner.pk)
        worker = threading.Thread(target=_run, args=(evaluate_claim, second.pk, outcome))
        worker.start()
        deadline = time.monotonic() + 20
        while not _waiting_on_advisory_lock() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_on_advisory_lock(), f"the second evaluation did not wait: {outcome}"
        # ... and approving it, as that evaluation would, before it commits.
        evaluate_claim(claim_id=first.pk)
    worker.join(timeout=30)
    assert Claim.objects.get(pk=first.pk).status == S.APPROVED
    assert outcome[0].status == S.IN_REVIEW
    assert Decision.objects.get(line__claim=second).reason_codes == ["claim_limit"]
    assert Event.objects.filter(claim=second, action="evaluate").count() == 1


@pytest.mark.parametrize(
    ("who", "page", "withdraw"),
    [
        ("approver", "customer_claim_detail", "customer_claim_withdraw"),
        ("partner_member", "partner_claim_detail", "partner_claim_withdraw"),
    ],
)
def test_the_pages_say_what_withdrawing_a_partly_approved_claim_does(
    client, world, who, page, withdraw
):
    claim = _queued(world)
    client.force_login(getattr(world, who))
    body = client.get(reverse(page, args=[claim.reference])).content.decode()
    assert "Services already approved stay approved" in body
    assert "Withdraw the services not yet decided?" in body
    response = client.post(
        reverse(withdraw, args=[claim.reference]),
        {"withdraw-comment": "Not needed any more"},
        follow=True,
    )
    body = response.content.decode()
    assert f"The services of claim {claim.reference} not yet decided were withdrawn" in body
    assert Claim.objects.get(pk=claim.pk).status == S.PARTIALLY_APPROVED


def test_the_pages_keep_the_plain_withdraw_wording_when_nothing_is_approved(client, world):
    claim = world.submitted()
    client.force_login(world.approver)
    body = client.get(reverse("customer_claim_detail", args=[claim.reference])).content.decode()
    assert "Withdraw this claim? This cannot be undone." in body
    assert "Services already approved stay approved" not in body
