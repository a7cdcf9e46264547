"""The passive auto-approval rules, one small function each.

A claim line is approved passively only when every rule passes. Each rule reads the
facts gathered once per claim (`ClaimFacts`) and returns a `RuleResult` carrying its
reason code. Adding a rule means writing a function and listing it in RULES.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from approvals.models import ChangeRequest
from claims.models import OPEN_STATES, Claim, ClaimLine
from customers.models import Association
from partners.models import SowCatalogItem


@dataclass(frozen=True)
class RuleResult:
    code: str
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return {"rule": self.code, "passed": self.passed, "detail": self.detail}


@dataclass
class ClaimFacts:
    """Everything the rules read, loaded in a fixed number of queries per claim."""

    claim: Claim
    on: datetime.date
    catalog: dict[int, SowCatalogItem]
    associations: dict[int, Association]
    # workload id -> [(partner id, claim reference)] of other open claims for this customer
    open_claims: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    disputed: set[int] = field(default_factory=set)
    decided_claims: int = 0

    @classmethod
    def gather(cls, claim: Claim) -> ClaimFacts:
        # The catalog's dates are local calendar days, like every other date in the portal.
        on = timezone.localdate(claim.submitted_at) if claim.submitted_at else timezone.localdate()
        catalog = {
            item.workload_id: item
            for item in SowCatalogItem.objects.filter(
                catalog__partner_id=claim.partner_id, catalog__program_id=claim.program_id
            )
        }
        associations = {
            a.workload_id: a
            for a in Association.objects.filter(customer_id=claim.customer_id, ended_on=None)
        }
        open_claims: dict[int, list[tuple[int, str]]] = {}
        others = (
            ClaimLine.objects.filter(
                claim__customer_id=claim.customer_id, claim__status__in=OPEN_STATES
            )
            .exclude(claim_id=claim.pk)
            .exclude(status=ClaimLine.Status.REJECTED)
            .values_list("workload_id", "claim__partner_id", "claim__reference")
        )
        for workload_id, partner_id, reference in others:
            open_claims.setdefault(workload_id, []).append((partner_id, reference))
        disputed = set(
            ChangeRequest.objects.filter(
                customer_id=claim.customer_id,
                status__in=[
                    ChangeRequest.Status.OPEN,
                    ChangeRequest.Status.AWAITING_RESPONSE,
                    ChangeRequest.Status.IN_REVIEW,
                ],
            ).values_list("workload_id", flat=True)
        )
        decided = 0
        if claim.program.claim_limit_per_partner is not None:
            decided = (
                Claim.objects.filter(
                    partner_id=claim.partner_id,
                    program_id=claim.program_id,
                    status__in=[Claim.Status.APPROVED, Claim.Status.PARTIALLY_APPROVED],
                )
                .exclude(pk=claim.pk)
                .count()
            )
        return cls(claim, on, catalog, associations, open_claims, disputed, decided)


Rule = Callable[[ClaimFacts, ClaimLine], RuleResult]


def partner_inactive(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    active = facts.claim.partner.is_active
    return RuleResult("partner_inactive", active, "" if active else "The partner is suspended.")


def not_in_catalog(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    item = facts.catalog.get(line.workload_id)
    if item is None:
        return RuleResult(
            "not_in_catalog", False, f"{line.workload} is not in the partner's SOW catalog."
        )
    if not item.covers(facts.on):
        return RuleResult(
            "not_in_catalog", False, f"The catalog item is not valid on {facts.on:%Y-%m-%d}."
        )
    if item.max_seats is not None and line.seats > item.max_seats:
        return RuleResult(
            "not_in_catalog",
            False,
            f"{line.seats} seats exceed the catalog limit of {item.max_seats}.",
        )
    return RuleResult("not_in_catalog", True)


def custom_sow(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    custom = bool(facts.claim.custom_sow)
    return RuleResult("custom_sow", not custom, "The claim carries a custom SOW." if custom else "")


def existing_claim(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    partner_id = facts.claim.partner_id
    association = facts.associations.get(line.workload_id)
    if association is not None and association.partner_id != partner_id:
        return RuleResult(
            "existing_claim",
            False,
            f"{association.partner} is partner of record since {association.since:%Y-%m-%d}.",
        )
    rivals = [ref for pid, ref in facts.open_claims.get(line.workload_id, []) if pid != partner_id]
    if rivals:
        return RuleResult(
            "existing_claim", False, f"Another partner has an open claim ({', '.join(rivals)})."
        )
    return RuleResult("existing_claim", True)


def duplicate(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    partner_id = facts.claim.partner_id
    association = facts.associations.get(line.workload_id)
    # A line this very claim already won (before a return and resubmission) is no duplicate.
    if (
        association is not None
        and association.partner_id == partner_id
        and association.source_claim_id != facts.claim.pk
    ):
        return RuleResult("duplicate", False, "The partner already holds this workload.")
    own = [ref for pid, ref in facts.open_claims.get(line.workload_id, []) if pid == partner_id]
    if own:
        return RuleResult("duplicate", False, f"The partner already claims it in {', '.join(own)}.")
    return RuleResult("duplicate", True)


def claim_limit(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    limit = facts.claim.program.claim_limit_per_partner
    if limit is not None and facts.decided_claims >= limit:
        return RuleResult(
            "claim_limit", False, f"The partner has reached the program's limit of {limit}."
        )
    return RuleResult("claim_limit", True)


def public_sector(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    claim = facts.claim
    if not claim.customer.is_public_sector:
        return RuleResult("public_sector", True)
    if claim.program.public_sector_requires_authorisation and not (
        claim.partner.public_sector_authorised
    ):
        return RuleResult(
            "public_sector", False, "The partner is not authorised for public-sector customers."
        )
    contact = (
        claim.survey_contact_email
        if claim.survey_contact_mode == Claim.SurveyContactMode.ONE_FOR_ALL
        else line.survey_contact_email
    )
    if not contact or not claim.customer.verified_domains.strip():
        return RuleResult(
            "public_sector",
            False,
            "Public-sector claims need a survey contact and the customer's verified domains.",
        )
    return RuleResult("public_sector", True)


def below_minimum(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    minimum = facts.claim.program.min_seats
    seats = facts.claim.customer.seats
    if seats < minimum:
        return RuleResult(
            "below_minimum", False, f"The customer has {seats} seats; the minimum is {minimum}."
        )
    return RuleResult("below_minimum", True)


def open_dispute(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    if line.workload_id in facts.disputed:
        return RuleResult("open_dispute", False, "A dispute is open on this workload.")
    return RuleResult("open_dispute", True)


RULES: list[Rule] = [
    partner_inactive,
    not_in_catalog,
    custom_sow,
    existing_claim,
    duplicate,
    claim_limit,
    public_sector,
    below_minimum,
    open_dispute,
]

REASON_LABELS = {
    "not_in_catalog": "Not in the pre-approved SOW catalog",
    "custom_sow": "Custom SOW",
    "existing_claim": "Another partner holds or claims it",
    "duplicate": "Already held or claimed by this partner",
    "claim_limit": "Program claim limit reached",
    "public_sector": "Public-sector requirements",
    "below_minimum": "Below the program's minimum seats",
    "partner_inactive": "Partner suspended",
    "open_dispute": "Open dispute",
}


def check_line(facts: ClaimFacts, line: ClaimLine) -> list[RuleResult]:
    return [rule(facts, line) for rule in RULES]
