"""Each auto-approval rule on facts built in memory: no database (pytest-django blocks it)."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from approvals import rules
from approvals.rules import ClaimFacts, ReasonCode, check_line
from claims.models import Claim, ClaimLine
from customers.models import Association, Customer
from partners.models import Partner, Program, SowCatalogItem, Workload

TODAY = datetime.date(2026, 6, 1)
EXCHANGE = Workload(id=1, code="exchange", name="Exchange Online")
CONTOSO = Partner(id=1, name="Contoso", is_active=True, public_sector_authorised=False)
FABRIKAM = Partner(id=2, name="Fabrikam", is_active=True)


def _facts(**changes) -> tuple[ClaimFacts, ClaimLine]:
    """Contoso claims Exchange for Woodgrove; every rule passes unless `changes` say not."""
    program = Program(
        id=1,
        min_seats=changes.pop("min_seats", 0),
        claim_limit_per_partner=changes.pop("limit", None),
        public_sector_requires_authorisation=True,
    )
    customer = Customer(
        id=1,
        name="Woodgrove",
        seats=1000,
        segment=changes.pop("segment", Customer.Segment.COMMERCIAL),
        verified_domains="woodgrove.example",
    )
    partner = changes.pop("partner", CONTOSO)
    claim = Claim(
        id=10,
        reference="CLM-2026-000010",
        program=program,
        customer=customer,
        partner=partner,
        survey_contact_mode=Claim.SurveyContactMode.ONE_FOR_ALL,
        survey_contact_email=changes.pop("contact", "sam@woodgrove.example"),
        custom_sow=changes.pop("custom_sow", ""),
    )
    line = ClaimLine(id=100, claim=claim, workload=EXCHANGE, seats=changes.pop("seats", 500))
    item = SowCatalogItem(id=1, workload=EXCHANGE, max_seats=None)
    facts = ClaimFacts(
        claim=claim,
        on=TODAY,
        catalog={EXCHANGE.pk: item},
        associations={},
    )
    return dataclasses.replace(facts, **changes), line


def _held_by(partner: Partner, source_claim_id: int | None = None) -> dict:
    association = Association(
        id=5,
        partner=partner,
        workload=EXCHANGE,
        since=datetime.date(2025, 1, 1),
        source_claim_id=source_claim_id,
    )
    return {EXCHANGE.pk: association}


CASES = [
    ({}, set(), ""),
    ({"catalog": {}}, {ReasonCode.NOT_IN_CATALOG}, "is not in the partner's SOW catalog"),
    (
        {"catalog": {1: SowCatalogItem(workload=EXCHANGE, valid_until=datetime.date(2026, 1, 1))}},
        {ReasonCode.NOT_IN_CATALOG},
        "not valid on 2026-06-01",
    ),
    (
        {"catalog": {1: SowCatalogItem(workload=EXCHANGE, max_seats=100)}},
        {ReasonCode.NOT_IN_CATALOG},
        "500 seats exceed the catalog limit of 100",
    ),
    ({"custom_sow": "sow/2026/x.pdf"}, {ReasonCode.CUSTOM_SOW}, "custom SOW"),
    ({"associations": _held_by(FABRIKAM)}, {ReasonCode.EXISTING_CLAIM}, "Fabrikam is partner"),
    (
        {"open_claims": {1: [(2, "CLM-2026-000002")]}},
        {ReasonCode.EXISTING_CLAIM},
        "Another partner has an open claim",
    ),
    ({"associations": _held_by(CONTOSO, 3)}, {ReasonCode.DUPLICATE}, "already holds"),
    ({"associations": _held_by(CONTOSO, 10)}, set(), ""),  # its own earlier grant
    ({"open_claims": {1: [(1, "CLM-2026-000003")]}}, {ReasonCode.DUPLICATE}, "already claims"),
    ({"limit": 5, "decided_claims": 5}, {ReasonCode.CLAIM_LIMIT}, "limit of 5"),
    ({"limit": 5, "decided_claims": 4}, set(), ""),
    (
        {"segment": Customer.Segment.PUBLIC_SECTOR},
        {ReasonCode.PUBLIC_SECTOR},
        "not authorised",
    ),
    ({"min_seats": 1001}, {ReasonCode.BELOW_MINIMUM}, "the minimum is 1001"),
    (
        {"partner": Partner(id=1, name="Contoso", is_active=False)},
        {ReasonCode.PARTNER_INACTIVE},
        "suspended",
    ),
    ({"disputed": {1}}, {ReasonCode.OPEN_DISPUTE}, "dispute is open"),
]


@pytest.mark.parametrize(("changes", "failing", "detail"), CASES)
def test_each_rule_alone(changes, failing, detail):
    facts, line = _facts(**changes)
    results = check_line(facts, line)
    assert {r.code for r in results if not r.passed} == failing
    details = " ".join(r.detail for r in results)
    assert detail in details


def test_every_rule_has_a_code_and_a_label():
    facts, line = _facts()
    codes = [r.code for r in check_line(facts, line)]
    assert codes == [ReasonCode(rule.__name__) for rule in rules.RULES]
    assert all(rules.reason_label(code) != code for code in codes)
    assert rules.reason_label("retired_rule") == "retired_rule"
