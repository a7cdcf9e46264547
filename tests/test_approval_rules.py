"""Each passive approval rule, passing and failing with its reason code; then the engine."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from approvals.models import ChangeRequest, Decision, ReviewTask
from approvals.rules import ClaimFacts, check_line
from approvals.services import decide_review, evaluate_claim
from claims import lifecycle
from claims.models import Claim, ClaimLine
from customers.models import Association
from partners.models import SowCatalogItem

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def _item(world, workload):
    return SowCatalogItem.objects.get(catalog__partner=world.partner, workload=workload)


def _hold(world, partner):
    Association.objects.create(
        customer=world.customer, workload=world.workloads[0], partner=partner, since=YESTERDAY
    )


# situation name -> (set-up, the rule expected to fail, or None when every rule passes)
SITUATIONS = {
    "standard": (lambda w, c: None, None),
    "not in catalog": (lambda w, c: _item(w, w.workloads[0]).delete(), "not_in_catalog"),
    "catalog item expired": (
        lambda w, c: SowCatalogItem.objects.filter(pk=_item(w, w.workloads[0]).pk).update(
            valid_from=YESTERDAY - datetime.timedelta(days=30), valid_until=YESTERDAY
        ),
        "not_in_catalog",
    ),
    "over the catalog's seats": (
        lambda w, c: SowCatalogItem.objects.filter(pk=_item(w, w.workloads[0]).pk).update(
            max_seats=10
        ),
        "not_in_catalog",
    ),
    "custom SOW": (
        lambda w, c: Claim.objects.filter(pk=c.pk).update(custom_sow="sow/2026/custom.pdf"),
        "custom_sow",
    ),
    "another partner holds it": (lambda w, c: _hold(w, w.rival), "existing_claim"),
    "another partner claims it": (
        lambda w, c: w.submitted(partner=w.rival, workloads=w.workloads[:1]),
        "existing_claim",
    ),
    "partner already holds it": (lambda w, c: _hold(w, w.partner), "duplicate"),
    "partner already claims it": (
        lambda w, c: w.submitted(workloads=w.workloads[:1]),
        "duplicate",
    ),
    "claim limit reached": (
        lambda w, c: (
            w.program.__class__.objects.filter(pk=w.program.pk).update(claim_limit_per_partner=1),
            Claim.objects.filter(
                pk=w.submitted(customer=w.other_customer, user=w.other_customer_user).pk
            ).update(status=Claim.Status.APPROVED),
        ),
        "claim_limit",
    ),
    "public sector, partner not authorised": (
        lambda w, c: w.customer.__class__.objects.filter(pk=w.customer.pk).update(
            segment="public_sector"
        ),
        "public_sector",
    ),
    "public sector, no verified domains": (
        lambda w, c: (
            w.partner.__class__.objects.filter(pk=w.partner.pk).update(
                public_sector_authorised=True
            ),
            w.customer.__class__.objects.filter(pk=w.customer.pk).update(
                segment="public_sector", verified_domains=""
            ),
        ),
        "public_sector",
    ),
    "public sector, all in order": (
        lambda w, c: (
            w.partner.__class__.objects.filter(pk=w.partner.pk).update(
                public_sector_authorised=True
            ),
            w.customer.__class__.objects.filter(pk=w.customer.pk).update(segment="public_sector"),
        ),
        None,
    ),
    "below minimum seats": (
        lambda w, c: w.program.__class__.objects.filter(pk=w.program.pk).update(min_seats=5000),
        "below_minimum",
    ),
    "partner suspended": (
        lambda w, c: w.partner.__class__.objects.filter(pk=w.partner.pk).update(is_active=False),
        "partner_inactive",
    ),
    "open dispute": (
        lambda w, c: ChangeRequest.objects.create(
            customer=w.customer,
            workload=w.workloads[0],
            from_partner=w.rival,
            to_partner=w.partner,
            created_by=w.approver,
        ),
        "open_dispute",
    ),
}


@pytest.mark.parametrize("situation", list(SITUATIONS))
def test_it_gives_each_rule_its_reason(world, situation):
    setup, failing = SITUATIONS[situation]
    claim = world.draft(workloads=world.workloads[:1])
    setup(world, claim)
    claim = Claim.objects.select_related("partner", "customer", "program").get(pk=claim.pk)
    line = claim.lines.get()
    results = check_line(ClaimFacts.gather(claim), line)
    assert len(results) == 9
    failed = [r.code for r in results if not r.passed]
    assert failed == ([failing] if failing else [])
    for result in results:
        assert result.passed or result.detail  # every failure says why


def _confirmed(world, workloads, partner=None):
    claim = world.submitted(workloads=workloads, partner=partner)
    user = world.partner_member if partner is None else world.rival_member
    return lifecycle.confirm_claim(claim, user=user)


def test_the_engine_approves_a_standard_claim_at_once(world):
    claim = _confirmed(world, world.workloads[:2])
    claim = evaluate_claim(claim_id=claim.pk)
    assert claim.status == Claim.Status.APPROVED
    held = Association.objects.filter(source_claim=claim, ended_on=None)
    assert {a.workload for a in held} == set(world.workloads[:2])
    assert all(a.partner == world.partner for a in held)
    assert not ReviewTask.objects.filter(claim=claim).exists()


def test_the_engine_approves_standard_lines_and_queues_the_rest(world):
    exchange, _teams, intune = world.workloads
    claim = evaluate_claim(claim_id=_confirmed(world, [exchange, intune]).pk)
    assert claim.status == Claim.Status.IN_REVIEW
    lines = {line.workload: line for line in claim.lines.all()}
    assert lines[exchange].status == ClaimLine.Status.APPROVED
    assert lines[intune].status == ClaimLine.Status.IN_REVIEW
    assert Association.objects.get(customer=world.customer, workload=exchange).source_claim == claim
    assert not Association.objects.filter(customer=world.customer, workload=intune).exists()
    task = ReviewTask.objects.get(claim=claim, state=ReviewTask.State.OPEN)
    assert task.reasons[0]["codes"] == ["not_in_catalog"]
    assert task.due_at == claim.due_at
    for line in lines.values():
        decision = Decision.objects.get(line=line)
        assert len(decision.results) == 9
    assert Decision.objects.get(line=lines[intune]).reason_codes == ["not_in_catalog"]


def test_the_engine_does_nothing_the_second_time(world):
    claim = _confirmed(world, world.workloads[:1])
    evaluate_claim(claim_id=claim.pk)
    assert evaluate_claim(claim_id=claim.pk) is None
    assert Decision.objects.filter(line__claim=claim).count() == 1
    assert claim.events.filter(action="evaluate").count() == 1


def test_approving_a_contested_line_moves_the_workload(world):
    exchange = world.workloads[0]
    old = Association.objects.create(
        customer=world.customer, workload=exchange, partner=world.rival, since=YESTERDAY
    )
    claim = evaluate_claim(claim_id=_confirmed(world, [exchange]).pk)
    assert claim.status == Claim.Status.IN_REVIEW
    line = claim.lines.get()
    assert Decision.objects.get(line=line).reason_codes == ["existing_claim"]
    decided = decide_review(claim, user=world.reviewer, line_approvals={line.pk: True})
    assert decided.status == Claim.Status.APPROVED
    old.refresh_from_db()
    assert old.ended_on == timezone.localdate()
    current = Association.objects.get(customer=world.customer, workload=exchange, ended_on=None)
    assert current.partner == world.partner


def test_rejecting_the_queued_lines_leaves_a_partial_approval(world):
    exchange, _teams, intune = world.workloads
    claim = evaluate_claim(claim_id=_confirmed(world, [exchange, intune]).pk)
    line = claim.lines.get(workload=intune)
    decided = decide_review(
        claim, user=world.reviewer, line_approvals={line.pk: False}, comment="Outside the SOW"
    )
    assert decided.status == Claim.Status.PARTIALLY_APPROVED
    assert not ReviewTask.objects.filter(claim=claim, state="open").exists()
