"""Every life-cycle action against every state and every role: allowed or refused."""

from __future__ import annotations

import pytest
from django.db import transaction

from approvals.services import decide_review, evaluate_claim
from claims import lifecycle
from claims.lifecycle import ClaimError
from claims.models import Claim, ClaimLine, Event

S = Claim.Status
ROLES = ["contributor", "approver", "partner", "rival_partner", "other_customer", "claims_team"]
CUSTOMER = {"contributor", "approver"}

# What SPEC "Claim life cycle" allows, written out independently of the code's table.
ALLOWED = {
    "edit": ({S.DRAFT, S.AWAITING_CUSTOMER_APPROVAL, S.RETURNED_TO_CUSTOMER}, CUSTOMER),
    "route": ({S.DRAFT}, CUSTOMER),
    "sign": ({S.DRAFT, S.AWAITING_CUSTOMER_APPROVAL}, {"approver"}),
    "resubmit": ({S.RETURNED_TO_CUSTOMER}, {"approver"}),
    "confirm": ({S.AWAITING_PARTNER}, {"partner"}),
    "return": ({S.AWAITING_PARTNER}, {"partner"}),
    "decide": ({S.IN_REVIEW}, {"claims_team"}),
    "review_return": ({S.IN_REVIEW}, {"claims_team"}),
    "withdraw": (
        {
            S.DRAFT,
            S.AWAITING_CUSTOMER_APPROVAL,
            S.AWAITING_PARTNER,
            S.RETURNED_TO_CUSTOMER,
            S.IN_REVIEW,
        },
        CUSTOMER | {"partner"},
    ),
}

TARGET = {
    "route": S.AWAITING_CUSTOMER_APPROVAL,
    "sign": S.AWAITING_PARTNER,
    "resubmit": S.AWAITING_PARTNER,
    "confirm": S.EVALUATING,
    "return": S.RETURNED_TO_CUSTOMER,
    "decide": S.APPROVED,
    "review_return": S.RETURNED_TO_CUSTOMER,
    "withdraw": S.WITHDRAWN,
}


def _act(action, claim, user, world):
    if action == "edit":
        return lifecycle.update_claim(claim, user=user, data=world.claim_input())
    if action == "route":
        return lifecycle.route_to_approver(claim, user=user)
    if action == "sign":
        return lifecycle.sign_and_submit(claim, user=user, signed_name="A B", attested=True)
    if action == "resubmit":
        return lifecycle.resubmit(claim, user=user, signed_name="A B", attested=True)
    if action == "confirm":
        return lifecycle.confirm_claim(claim, user=user)
    if action == "return":
        return lifecycle.return_to_customer(claim, user=user, comment="Fix the dates")
    if action == "decide":
        approvals = {line.pk: True for line in claim.lines.all()}
        return decide_review(claim, user=user, line_approvals=approvals, comment="Fine")
    if action == "review_return":
        return lifecycle.return_from_review(claim, user=user, comment="Fix the seats")
    if action == "withdraw":
        return lifecycle.withdraw(claim, user=user)
    raise AssertionError(action)


class _Rollback(Exception):
    pass


def _users(world):
    return {
        "contributor": world.contributor,
        "approver": world.approver,
        "partner": world.partner_member,
        "rival_partner": world.rival_member,
        "other_customer": world.other_customer_user,
        "claims_team": world.reviewer,
    }


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(ALLOWED))
def test_it_allows_only_the_listed_states_and_roles(world, action, status):
    claim = world.draft()
    Claim.objects.filter(pk=claim.pk).update(status=status)
    if status == S.IN_REVIEW:
        claim.lines.update(status=ClaimLine.Status.IN_REVIEW)
    states, roles = ALLOWED[action]
    for role, user in _users(world).items():
        expected = status in states and role in roles
        events_before = Event.objects.filter(claim=claim).count()
        try:
            with transaction.atomic():
                fresh = Claim.objects.get(pk=claim.pk)
                if expected:
                    result = _act(action, fresh, user, world)
                    assert result.status == TARGET.get(action, status), (role, result.status)
                    assert Claim.objects.get(pk=claim.pk).status == result.status
                    last = Event.objects.filter(claim=claim).order_by("-seq").first()
                    assert last.action == action
                    assert last.actor == user
                    assert last.from_status == status
                else:
                    with pytest.raises(ClaimError):
                        _act(action, fresh, user, world)
                    assert Claim.objects.get(pk=claim.pk).status == status
                    assert Event.objects.filter(claim=claim).count() == events_before
                raise _Rollback
        except _Rollback:
            pass


@pytest.mark.parametrize("status", [s for s in S if s != S.EVALUATING])
def test_it_evaluates_only_claims_being_checked(world, status):
    claim = world.draft()
    Claim.objects.filter(pk=claim.pk).update(status=status)
    assert evaluate_claim(claim_id=claim.pk) is None
    assert Claim.objects.get(pk=claim.pk).status == status
    assert not Event.objects.filter(claim=claim, action="evaluate").exists()


def test_it_refuses_to_sign_without_attestation_or_name(world):
    claim = world.draft()
    with pytest.raises(ClaimError, match="authorised|may sign"):
        lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=False)
    with pytest.raises(ClaimError, match="name"):
        lifecycle.sign_and_submit(claim, user=world.approver, signed_name="   ", attested=True)
    assert Claim.objects.get(pk=claim.pk).status == S.DRAFT


def test_it_records_the_signature(world):
    claim = world.submitted()
    assert claim.signed_by == world.approver
    assert claim.signed_name == "Alex Approver"
    assert claim.signed_at is not None
    assert claim.due_at is not None


def test_it_refuses_a_return_without_a_comment(world):
    claim = world.submitted()
    with pytest.raises(ClaimError, match="correcting"):
        lifecycle.return_to_customer(claim, user=world.partner_member, comment="  ")


def test_it_refuses_to_reject_everything_without_a_reason(world):
    claim = world.submitted(workloads=world.workloads[2:])
    Claim.objects.filter(pk=claim.pk).update(status=S.IN_REVIEW)
    claim.lines.update(status=ClaimLine.Status.IN_REVIEW)
    approvals = {line.pk: False for line in claim.lines.all()}
    with pytest.raises(ClaimError, match="reason"):
        decide_review(claim, user=world.reviewer, line_approvals=approvals, comment="")
    decided = decide_review(claim, user=world.reviewer, line_approvals=approvals, comment="No")
    assert decided.status == S.REJECTED


def test_it_needs_a_decision_for_every_line_in_review(world):
    claim = world.submitted()
    Claim.objects.filter(pk=claim.pk).update(status=S.IN_REVIEW)
    claim.lines.update(status=ClaimLine.Status.IN_REVIEW)
    first = claim.lines.first()
    with pytest.raises(ClaimError, match="missing"):
        decide_review(claim, user=world.reviewer, line_approvals={first.pk: True}, comment="")


def test_it_numbers_references_per_year_without_gaps(world):
    first, second = world.draft(), world.draft(workloads=world.workloads[2:])
    year = first.created_at.year
    assert first.reference == f"CLM-{year}-000001"
    assert second.reference == f"CLM-{year}-000002"
