"""Two people acting on the same claim at once: exactly one wins, the other is told."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from approvals.services import evaluate_claim
from claims import lifecycle
from claims.lifecycle import ClaimError
from claims.models import Claim, Event
from customers.models import Association

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _race(*calls):
    """Run the calls in threads released at the same instant; collect results or errors."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # the loser's error is the point of the test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_it_lets_only_one_of_two_simultaneous_confirmations_win(world):
    claim = world.submitted()
    outcomes = _race(
        lambda: lifecycle.confirm_claim(Claim.objects.get(pk=claim.pk), user=world.partner_member),
        lambda: lifecycle.confirm_claim(Claim.objects.get(pk=claim.pk), user=world.partner_admin),
    )
    winners = [o for o in outcomes if isinstance(o, Claim)]
    losers = [o for o in outcomes if isinstance(o, ClaimError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "can no longer be confirmed" in str(losers[0])
    assert Event.objects.filter(claim=claim, action="confirm").count() == 1


def test_it_lets_only_one_of_confirm_and_withdraw_win(world):
    claim = world.submitted()
    outcomes = _race(
        lambda: lifecycle.confirm_claim(Claim.objects.get(pk=claim.pk), user=world.partner_member),
        lambda: lifecycle.withdraw(Claim.objects.get(pk=claim.pk), user=world.approver),
    )
    assert sum(isinstance(o, Claim) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, ClaimError) for o in outcomes) == 1, outcomes
    final = Claim.objects.get(pk=claim.pk)
    assert final.status in {Claim.Status.EVALUATING, Claim.Status.WITHDRAWN}
    assert Event.objects.filter(claim=claim).count() == 3  # created, sign, one winner


def test_it_never_approves_two_partners_for_the_same_customer_workload(world):
    exchange = world.workloads[:1]
    mine = world.submitted(workloads=exchange)
    theirs = world.submitted(partner=world.rival, workloads=exchange)
    lifecycle.confirm_claim(mine, user=world.partner_member)
    lifecycle.confirm_claim(theirs, user=world.rival_member)
    _race(
        lambda: evaluate_claim(claim_id=mine.pk),
        lambda: evaluate_claim(claim_id=theirs.pk),
    )
    statuses = set(
        Claim.objects.filter(pk__in=[mine.pk, theirs.pk]).values_list("status", flat=True)
    )
    assert Claim.Status.EVALUATING not in statuses
    assert statuses != {Claim.Status.APPROVED}
    assert Association.objects.filter(customer=world.customer, ended_on=None).count() <= 1


def test_it_serialises_evaluations_of_one_customer(world):
    """The second evaluation sees the first one's association and sends its line to review."""
    exchange = world.workloads[:1]
    mine = world.submitted(workloads=exchange)
    lifecycle.confirm_claim(mine, user=world.partner_member)
    theirs = world.submitted(partner=world.rival, workloads=exchange)
    # Mine is already being checked; theirs must not slip past while it runs.
    _race(
        lambda: evaluate_claim(claim_id=mine.pk),
        lambda: (
            lifecycle.confirm_claim(Claim.objects.get(pk=theirs.pk), user=world.rival_member)
            and evaluate_claim(claim_id=theirs.pk)
        ),
    )
    approved = Claim.objects.filter(
        pk__in=[mine.pk, theirs.pk], status=Claim.Status.APPROVED
    ).count()
    assert approved <= 1
    assert Association.objects.filter(customer=world.customer, ended_on=None).count() <= 1
