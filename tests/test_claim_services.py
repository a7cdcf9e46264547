"""The services behind the claim form and the queue's decision rule; the factories' traits."""

from __future__ import annotations

import dataclasses

import pytest
from django.urls import reverse

from approvals.models import Decision, ReviewTask
from approvals.services import decide_review, evaluate_claim
from claims import lifecycle, services
from claims.events import verify_chain
from claims.lifecycle import ClaimError
from claims.models import Claim, ClaimLine
from customers.models import Association, CustomerMembership
from tests import factories as f

S = Claim.Status
L = ClaimLine.Status


def test_save_claim_is_all_or_nothing(world):
    newcomer = f.UserFactory(email="nora@northwind.example")
    organisation = services.OrganisationInput("Northwind", "northwind.example", "commercial", 10)
    with pytest.raises(ClaimError, match="Confirm that you may sign"):
        services.save_claim(
            user=newcomer,
            partner=world.partner,
            program=world.program,
            data=world.claim_input(),
            intent=services.Intent.SIGN,
            organisation=organisation,
            signature=services.Signature("Nora", attested=False),
        )
    # Neither the organisation nor the claim was left behind.
    assert not CustomerMembership.objects.filter(user=newcomer).exists()
    assert not Claim.objects.exists()


def test_submit_claim_signs_or_resubmits_by_itself(world):
    claim = world.draft()
    claim = services.submit_claim(
        claim, user=world.approver, signature=services.Signature("Alex", True)
    )
    assert claim.events.last().action == "sign"
    lifecycle.return_to_customer(claim, user=world.partner_member, comment="Fix")
    claim = services.submit_claim(
        claim, user=world.approver, signature=services.Signature("Alex", True)
    )
    assert claim.events.last().action == "resubmit"


def test_editing_keeps_line_ids_and_decisions(world, django_capture_on_commit_callbacks):
    intune = world.workloads[2]  # not in Contoso's catalog: goes to review
    claim = world.submitted(workloads=[world.workloads[0], intune])
    lifecycle.confirm_claim(claim, user=world.partner_member)
    evaluate_claim(claim_id=claim.pk)
    lifecycle.return_from_review(claim, user=world.reviewer, comment="Seats?")
    ids = {line.workload_id: line.pk for line in claim.lines.all()}
    decisions = Decision.objects.count()
    data = world.claim_input(workloads=[world.workloads[0], intune])
    bigger = dataclasses.replace(data.lines[1], seats=900)
    lifecycle.update_claim(
        claim, user=world.approver, data=dataclasses.replace(data, lines=[data.lines[0], bigger])
    )
    assert {line.workload_id: line.pk for line in claim.lines.all()} == ids
    assert claim.lines.get(workload=intune).seats == 900
    assert Decision.objects.count() == decisions


def test_a_dropped_checked_line_is_kept_as_removed(world):
    intune = world.workloads[2]
    claim = world.submitted(workloads=[world.workloads[0], intune])
    lifecycle.confirm_claim(claim, user=world.partner_member)
    evaluate_claim(claim_id=claim.pk)
    lifecycle.return_from_review(claim, user=world.reviewer, comment="Drop Intune")
    lifecycle.update_claim(
        claim, user=world.approver, data=world.claim_input(workloads=[world.workloads[0]])
    )
    removed = claim.lines.get(workload=intune)
    assert removed.status == L.REMOVED
    assert removed.decisions.exists()
    # A dropped line nothing was decided on is simply gone.
    draft = world.draft(workloads=world.workloads[:2])
    lifecycle.update_claim(
        draft, user=world.approver, data=world.claim_input(workloads=world.workloads[:1])
    )
    assert draft.lines.count() == 1


def test_an_approved_line_cannot_change(world):
    intune = world.workloads[2]
    claim = world.submitted(workloads=[world.workloads[0], intune])
    lifecycle.confirm_claim(claim, user=world.partner_member)
    evaluate_claim(claim_id=claim.pk)
    lifecycle.return_from_review(claim, user=world.reviewer, comment="Seats?")
    data = world.claim_input(workloads=[world.workloads[0], intune], seats=42)
    with pytest.raises(ClaimError, match="Exchange Online is approved already"):
        lifecycle.update_claim(claim, user=world.approver, data=data)


@pytest.mark.parametrize(
    ("choices", "comment", "refused"),
    [
        ({"approve"}, "", False),
        ({"reject"}, "", True),
        ({"approve", "reject"}, "", True),  # one rejected line is enough to need a reason
        ({"approve", "reject"}, "Outside the SOW", False),
    ],
)
def test_any_rejection_needs_a_reason(world, choices, comment, refused):
    claim = f.ClaimFactory(
        in_review=True,
        partner=world.partner,
        customer=world.customer,
        program=world.program,
        workloads=world.workloads[:2] if len(choices) == 2 else world.workloads[:1],
    )
    lines = list(claim.lines.order_by("pk"))
    approvals = {line.pk: choice == "approve" for line, choice in zip(lines, sorted(choices))}
    if refused:
        with pytest.raises(ClaimError, match="Give the reason for rejecting") as error:
            decide_review(claim, user=world.reviewer, line_approvals=approvals, comment=comment)
        assert error.value.field == "comment"
        assert Claim.objects.get(pk=claim.pk).status == S.IN_REVIEW
    else:
        decide_review(claim, user=world.reviewer, line_approvals=approvals, comment=comment)
        assert Claim.objects.get(pk=claim.pk).status != S.IN_REVIEW


def test_the_form_shows_the_services_rule_on_the_comment(client, world):
    claim = f.ClaimFactory(
        in_review=True, partner=world.partner, customer=world.customer, program=world.program
    )
    line = claim.lines.get()
    client.force_login(world.reviewer)
    response = client.post(
        reverse("review_claim_decide", args=[claim.reference]), {f"line_{line.pk}": "reject"}
    )
    assert response.status_code == 400
    assert "Give the reason for rejecting" in response.content.decode()


# --- Factories with traits ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("trait", "status", "line_status"),
    [
        ("submitted", S.AWAITING_PARTNER, L.PENDING),
        ("returned", S.RETURNED_TO_CUSTOMER, L.PENDING),
        ("evaluating", S.EVALUATING, L.PENDING),
        ("in_review", S.IN_REVIEW, L.IN_REVIEW),
        ("approved", S.APPROVED, L.APPROVED),
        ("rejected", S.REJECTED, L.REJECTED),
        ("withdrawn", S.WITHDRAWN, L.WITHDRAWN),
        ("routed", S.AWAITING_CUSTOMER_APPROVAL, L.PENDING),
    ],
)
def test_each_trait_gives_a_consistent_claim(db, trait, status, line_status):
    claim = f.ClaimFactory(**{trait: True})
    assert claim.status == status
    assert set(claim.lines.values_list("status", flat=True)) == {line_status}
    assert verify_chain(claim) == []
    assert ReviewTask.objects.filter(claim=claim, state="open").exists() == (status == S.IN_REVIEW)
    assert Association.objects.filter(source_claim=claim).exists() == (status == S.APPROVED)


def test_the_queue_factories(db):
    task = f.ReviewTaskFactory(overdue=True)
    assert task.claim.status == S.IN_REVIEW
    assert ReviewTask.objects.filter(claim=task.claim).count() == 1
    assert f.AssociationFactory(ended=True).ended_on is not None
    assert f.ChangeRequestFactory(awaiting_response=True).is_open
