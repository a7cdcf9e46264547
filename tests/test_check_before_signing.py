"""The check before signing: the workers' own rules run as a dry run, shown in plain words,
recorded at signing, and in agreement with what the workers then decide, line by line."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django.urls import reverse

from approvals.models import Decision
from approvals.services import evaluate_claim
from claims import checks, lifecycle
from claims.models import Claim
from customers.models import Customer
from partners.models import Partner, Program
from tests import factories as f


def _set(model, obj, **fields):
    model.objects.filter(pk=obj.pk).update(**fields)


def _w(world, code):
    return next(w for w in world.workloads if w.code == code)


# Each arrangement readies the world and says which workloads the claim names; together
# they trip every rule of approvals/rules.py, alone and mixed with lines that pass.
def _all_pass(world):
    return ["exchange", "teams"]


def _not_in_catalog(world):
    return ["exchange", "intune"]  # Contoso's catalog has no Intune


def _held_by_another_partner(world):
    f.AssociationFactory(
        customer=world.customer, workload=_w(world, "exchange"), partner=world.rival
    )
    return ["exchange", "teams"]


def _claimed_by_another_partner(world):
    world.submitted(partner=world.rival, workloads=[_w(world, "teams")])
    return ["exchange", "teams"]


def _already_held_by_this_partner(world):
    f.AssociationFactory(
        customer=world.customer, workload=_w(world, "exchange"), partner=world.partner
    )
    return ["exchange"]


def _claim_limit(world):
    _set(Program, world.program, claim_limit_per_partner=1)
    f.ClaimFactory(partner=world.partner, program=world.program, approved=True)
    return ["exchange"]


def _public_sector(world):
    _set(Customer, world.customer, segment=Customer.Segment.PUBLIC_SECTOR)
    return ["exchange"]


def _below_minimum(world):
    _set(Program, world.program, min_seats=5000)
    return ["exchange", "teams"]


def _suspended(world):
    return ["exchange"]  # suspended after the draft is made, below


def _dispute(world):
    f.ChangeRequestFactory(
        customer=world.customer,
        workload=_w(world, "teams"),
        from_partner=world.rival,
        to_partner=world.partner,
    )
    return ["exchange", "teams"]


ARRANGEMENTS = {
    "all pass": (_all_pass, set()),
    "not in catalog": (_not_in_catalog, {"not_in_catalog"}),
    "held by another partner": (_held_by_another_partner, {"existing_claim"}),
    "claimed by another partner": (_claimed_by_another_partner, {"existing_claim"}),
    "already held by this partner": (_already_held_by_this_partner, {"duplicate"}),
    "claim limit": (_claim_limit, {"claim_limit"}),
    "public sector": (_public_sector, {"public_sector"}),
    "below minimum": (_below_minimum, {"below_minimum"}),
    "partner suspended": (_suspended, {"partner_inactive"}),
    "open dispute": (_dispute, {"open_dispute"}),
}


def _draft(world, name):
    arrange, _codes = ARRANGEMENTS[name]
    workloads = [_w(world, code) for code in arrange(world)]
    claim = world.draft(workloads=workloads)
    if name == "partner suspended":
        _set(Partner, world.partner, is_active=False)
    return Claim.objects.get(pk=claim.pk)


def _by_workload(check):
    return {line.workload: (line.passed, sorted(line.codes)) for line in check.lines}


def _decided(claim):
    decisions = Decision.objects.filter(line__claim=claim).select_related("line__workload")
    return {d.line.workload.name: (d.passed, sorted(d.reason_codes)) for d in decisions}


@pytest.mark.parametrize("name", list(ARRANGEMENTS))
def test_the_check_and_the_workers_agree_line_by_line(world, name):
    claim = _draft(world, name)
    before = checks.dry_run(claim)
    assert before is not None
    # The arrangement trips the rule it is named for (and the dry run wrote nothing).
    tripped = {code for line in before.lines for code in line.codes}
    assert tripped == ARRANGEMENTS[name][1]
    assert not Decision.objects.filter(line__claim=claim).exists()

    claim = lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=True)
    assert claim.signing_check == {
        **before.as_dict(),
        "checked_at": claim.signing_check["checked_at"],
    }
    claim = lifecycle.confirm_claim(claim, user=world.partner_member)
    evaluate_claim(claim_id=claim.pk)  # what the worker's task runs

    assert _decided(claim) == _by_workload(before)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_check_agrees_with_a_real_worker(world, celery_worker_live):
    claim = _draft(world, "not in catalog")
    before = checks.dry_run(claim)
    lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=True)
    with transaction.atomic():
        lifecycle.confirm_claim(claim, user=world.partner_member)  # sent to the worker on commit
    deadline = time.monotonic() + 30
    while Claim.objects.get(pk=claim.pk).status == Claim.Status.EVALUATING:
        assert time.monotonic() < deadline, "the worker did not evaluate the claim"
        time.sleep(0.2)
    assert _decided(claim) == _by_workload(before)
    assert _by_workload(checks.recorded(Claim.objects.get(pk=claim.pk))) == _by_workload(before)


def test_a_line_approved_before_a_return_stays_approved_in_the_check(world):
    claim = world.draft(workloads=[_w(world, "exchange"), _w(world, "intune")])
    claim = lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=True)
    claim = lifecycle.confirm_claim(claim, user=world.partner_member)
    evaluate_claim(claim_id=claim.pk)
    claim = lifecycle.return_from_review(claim, user=world.reviewer, comment="Intune scope?")
    check = checks.dry_run(claim)
    lines = {line.workload: line for line in check.lines}
    assert lines["Exchange Online"].approved_already and lines["Exchange Online"].passed
    assert lines["Microsoft Intune"].codes == ("not_in_catalog",)


# --- what the approver sees -----------------------------------------------------------------


def test_the_approver_sees_the_check_in_plain_words_and_todays_partners(client, world):
    f.AssociationFactory(customer=world.customer, workload=_w(world, "teams"), partner=world.rival)
    claim = world.draft(workloads=[_w(world, "exchange"), _w(world, "teams"), _w(world, "intune")])
    client.force_login(world.approver)
    body = client.get(reverse("customer_claim_detail", args=[claim.reference])).content.decode()
    assert "The check before signing" in body
    assert "Will be approved at once when the partner confirms." in body
    assert "Will go to the vendor&#x27;s claims team, because:" in body
    assert "Another partner is your partner of record for it" in body  # Teams, held by Fabrikam
    assert "not among the standard services Contoso is pre-approved" in body  # Intune
    assert "existing_claim" not in body and "not_in_catalog" not in body  # no codes
    assert "partners of record today" in body
    assert "Fabrikam" in body  # who holds Teams today, before anyone signs it away


def test_a_contributor_sees_no_check_and_cannot_sign(client, world):
    claim = world.draft(user=world.contributor)
    client.force_login(world.contributor)
    body = client.get(reverse("customer_claim_detail", args=[claim.reference])).content.decode()
    assert "The check before signing" not in body
    assert "Send to my approver" in body
    response = client.post(
        reverse("customer_claim_sign", args=[claim.reference]),
        {"sign-signed_name": "Casey", "sign-attest": "on"},
    )
    assert response.status_code == 409
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DRAFT


def test_signing_records_what_the_check_said(client, world):
    claim = world.draft(workloads=[_w(world, "exchange"), _w(world, "intune")])
    client.force_login(world.approver)
    response = client.post(
        reverse("customer_claim_sign", args=[claim.reference]),
        {"sign-signed_name": "Alex Approver", "sign-attest": "on"},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    recorded = checks.recorded(claim)
    assert {line.workload: line.passed for line in recorded.lines} == {
        "Exchange Online": True,
        "Microsoft Intune": False,
    }
    assert claim.signed_by == world.approver and claim.signed_at is not None
    sign = claim.events.get(action="sign")
    assert sign.changes["check"] == {
        "passes": ["Exchange Online"],
        "to_review": {"Microsoft Intune": ["not_in_catalog"]},
    }
    page = client.get(reverse("customer_claim_detail", args=[claim.reference])).content.decode()
    assert "The check when it was signed" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sign-signed_name": "Alex"}, "Confirm that you may sign"),
        ({"sign-attest": "on"}, "This field is required"),
        ({"sign-signed_name": "   ", "sign-attest": "on"}, "This field is required"),
        ({"sign-signed_name": "x" * 10_000, "sign-attest": "on"}, "at most 120 characters"),
    ],
)
def test_a_bad_signature_is_explained_and_nothing_is_signed(client, world, data, message):
    claim = world.draft()
    client.force_login(world.approver)
    response = client.post(reverse("customer_claim_sign", args=[claim.reference]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DRAFT and claim.signing_check == {}
