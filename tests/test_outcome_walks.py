"""Many claims walked at random through every action, by several people at once.

Data-heavy on purpose: customers, partners and the claims team act on overlapping claims in
three threads (so the locks and the "one partner of record" constraint are exercised), and at
the end the outcome invariant and every chain of custody must hold. In CI this module runs a
second time keeping its data (CLAIMS_KEEP_TEST_DATA=1), and `check_claim_outcomes` and
`verify_claim_chain` check what it left in the database (see .ci/run).
"""

from __future__ import annotations

import contextlib
import datetime
import random
import threading
import uuid
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.utils import timezone

from approvals.outcomes import find_problems
from claims import lifecycle
from claims.events import verify_chain
from claims.lifecycle import ClaimError, ClaimInput, LineInput
from claims.models import Claim, ClaimAction, ClaimLine
from customers.models import Association
from tests import factories as f

pytestmark = [pytest.mark.data_heavy]

A = ClaimAction
S = Claim.Status
WALKERS = 3
WALKS_PER_WALKER = 20
STEPS = 10


@dataclass
class Cast:
    program: object
    workloads: list
    partners: list
    customers: list
    people: dict = field(default_factory=dict)  # organisation pk -> {role: user}
    reviewer: object = None


def _cast() -> Cast:
    tag = uuid.uuid4().hex[:8]  # runs that keep their data must not collide on names
    program = f.ProgramFactory(claim_limit_per_partner=12)
    workloads = [f.WorkloadFactory(code=f"walk-{tag}-{i}") for i in range(5)]
    program.workloads.set(workloads)
    partners = [f.PartnerFactory() for _ in range(3)]
    for partner, covered in zip(
        partners, (workloads[:3], workloads[1:5], workloads[::2]), strict=True
    ):
        f.catalog(partner, program, covered)
    customers = [f.CustomerFactory() for _ in range(6)]
    cast = Cast(program, workloads, partners, customers)
    for customer in customers:
        cast.people[customer.pk] = {
            "approver": f.customer_user(
                customer, "approver", email=f"a-{tag}@{customer.tenant_id}"
            ),
            "contributor": f.customer_user(
                customer, "contributor", email=f"c-{tag}@{customer.tenant_id}"
            ),
        }
    for partner in partners:
        cast.people[("p", partner.pk)] = {
            "member": f.partner_user(partner, "member", email=f"m{partner.pk}-{tag}@p.example")
        }
    cast.reviewer = f.claims_team_user(email=f"reviewer-{tag}@vendor.example")
    return cast


def _input(rng: random.Random, workloads, keep=()) -> ClaimInput:
    today = timezone.localdate()
    chosen = {w.pk for w in rng.sample(workloads, rng.randint(1, 3))} | set(keep)
    return ClaimInput(
        survey_contact_mode=Claim.SurveyContactMode.ONE_FOR_ALL,
        survey_contact_name="Sam",
        survey_contact_email="sam@customer.example",
        lines=[
            LineInput(
                workload_id=pk,
                target_start=today,
                # Within the program's period, as every target date must be.
                target_end=today + datetime.timedelta(days=120),
                seats=500,
            )
            for pk in sorted(chosen)
        ],
    )


def _kept_lines(claim) -> ClaimInput | None:
    """The approved lines exactly as they are (an edit must carry them unchanged)."""
    return [
        LineInput(
            workload_id=line.workload_id,
            target_start=line.target_start,
            target_end=line.target_end,
            seats=line.seats,
        )
        for line in claim.lines.filter(status=ClaimLine.Status.APPROVED)
    ]


def _step(rng: random.Random, cast: Cast, claim: Claim) -> None:
    customer = cast.people[claim.customer_id]
    partner_member = cast.people[("p", claim.partner_id)]["member"]
    status = claim.status
    if status in (S.DRAFT, S.AWAITING_CUSTOMER_APPROVAL, S.RETURNED_TO_CUSTOMER):
        choice = rng.choices(
            ["edit", "sign", "route", "withdraw", "edit-approved"], weights=[3, 6, 2, 1, 1]
        )[0]
        user = customer["approver"] if choice == "sign" else rng.choice(list(customer.values()))
        if choice == "sign":
            lifecycle.submit(claim, user=user, signed_name="Walker", attested=True)
        elif choice == "route":
            lifecycle.route_to_approver(claim, user=user)
        elif choice == "withdraw":
            lifecycle.withdraw(claim, user=user)
        else:
            kept = _kept_lines(claim)
            data = _input(rng, cast.workloads)
            if choice == "edit":  # keeps approved lines as they are, changes the rest
                extra = [
                    line
                    for line in data.lines
                    if line.workload_id not in {k.workload_id for k in kept}
                ]
                data = ClaimInput(
                    data.survey_contact_mode, "Sam", "sam@customer.example", kept + extra
                )
            # "edit-approved" may drop or change an approved line: refused with a ClaimError.
            lifecycle.update_claim(claim, user=user, data=data)
    elif status == S.AWAITING_PARTNER:
        choice = rng.choices(["confirm", "return", "withdraw"], weights=[8, 2, 1])[0]
        if choice == "confirm":
            lifecycle.confirm_claim(claim, user=partner_member)  # evaluated after the commit
        elif choice == "return":
            lifecycle.return_to_customer(claim, user=partner_member, comment="Please check")
        else:
            lifecycle.withdraw(claim, user=rng.choice([partner_member, customer["approver"]]))
    elif status == S.IN_REVIEW:
        choice = rng.choices(["decide", "return", "withdraw"], weights=[4, 2, 2])[0]
        if choice == "decide":
            pending = claim.lines.filter(status=ClaimLine.Status.IN_REVIEW)
            lifecycle.decide(
                claim,
                user=cast.reviewer,
                line_approvals={line.pk: rng.random() < 0.5 for line in pending},
                comment="Checked",
            )
        elif choice == "return":
            lifecycle.return_from_review(claim, user=cast.reviewer, comment="Explain")
        else:
            lifecycle.withdraw(claim, user=rng.choice([partner_member, customer["contributor"]]))


def _walker(seed: int, cast: Cast, errors: list) -> None:
    rng = random.Random(seed)
    try:
        for _ in range(WALKS_PER_WALKER):
            customer = rng.choice(cast.customers)
            claim = lifecycle.create_claim(
                customer=customer,
                partner=rng.choice(cast.partners),
                program=cast.program,
                user=cast.people[customer.pk]["contributor"],
                data=_input(rng, cast.workloads),
            )
            for _ in range(STEPS):
                claim.refresh_from_db()
                if claim.is_decided:
                    break
                # Someone else moved it, or a refused edit: the point of walking.
                with contextlib.suppress(ClaimError):
                    _step(rng, cast, claim)
    except Exception as exc:  # anything else is a failure, reported by the test
        errors.append(repr(exc))
    finally:
        connection.close()


def test_random_walks_keep_every_outcome_consistent(outcome_db):
    cast = _cast()
    errors: list = []
    walkers = [
        threading.Thread(target=_walker, args=(seed, cast, errors)) for seed in range(WALKERS)
    ]
    for walker in walkers:
        walker.start()
    for walker in walkers:
        walker.join(timeout=600)
    assert errors == []

    claims = Claim.objects.filter(program=cast.program)
    statuses = set(claims.values_list("status", flat=True))
    # The walk reached the outcomes that matter here.
    assert {S.APPROVED, S.PARTIALLY_APPROVED, S.WITHDRAWN} <= statuses, statuses
    assert claims.count() == WALKERS * WALKS_PER_WALKER
    assert [str(p) for p in find_problems()] == []
    assert {c.reference: verify_chain(c) for c in claims if verify_chain(c)} == {}
    # At most one partner of record per customer workload, each from an approved line.
    active = Association.objects.filter(customer__in=cast.customers, ended_on=None)
    assert active.count() == len(set(active.values_list("customer_id", "workload_id")))
