"""The passive auto-approval rules, one small function each.

A claim line is approved passively only when every rule passes. Each rule reads the
facts gathered once per claim (`ClaimFacts`) and returns a `RuleResult` carrying its
reason code. Adding a rule means writing a function and listing it in RULES.
"""

from __future__ import annotations

import datetime
import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.models import OPEN_STATES, Claim, ClaimLine
from customers.models import Association, ChangeRequest
from partners.models import ProgramRules, SowCatalogItem


class ReasonCode(models.TextChoices):
    """Why a line went to the claims team: one code per rule, shown by its label."""

    NOT_IN_CATALOG = "not_in_catalog", _("Not in the pre-approved SOW catalog")
    CUSTOM_SOW = "custom_sow", _("Custom SOW")
    EXISTING_CLAIM = "existing_claim", _("Another partner holds or claims it")
    DUPLICATE = "duplicate", _("Already held or claimed by this partner")
    CLAIM_LIMIT = "claim_limit", _("Program claim limit reached")
    PUBLIC_SECTOR = "public_sector", _("Public-sector requirements")
    BELOW_MINIMUM = "below_minimum", _("Below the program's minimum seats")
    PARTNER_INACTIVE = "partner_inactive", _("Partner suspended")
    OPEN_DISPUTE = "open_dispute", _("Open dispute")


def reason_label(code: str) -> str:
    """The reason's label for people; an unknown code (from an older rule set) as it is."""
    try:
        return str(ReasonCode(code).label)
    except ValueError:
        return code


@dataclass(frozen=True)
class RuleResult:
    code: ReasonCode
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return {"rule": str(self.code), "passed": self.passed, "detail": self.detail}


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
    # The program rules the claim was created under (a later change applies to new claims).
    rules: ProgramRules | None = None
    # Workloads in the partner's catalog for the program while it awaits (re-)approval.
    awaiting_approval: set[int] = field(default_factory=set)

    @property
    def program_rules(self) -> ProgramRules:
        return self.rules if self.rules is not None else self.claim.rules

    @classmethod
    def gather(cls, claim: Claim, *, on: datetime.date | None = None) -> ClaimFacts:
        """The facts for checking `claim` as of `on` (by default, the day it was submitted).

        The check before signing passes today: signing makes today the day of submission.
        """
        # The catalog's dates are local calendar days, like every other date in the portal.
        if on is None:
            on = (
                timezone.localdate(claim.submitted_at)
                if claim.submitted_at
                else timezone.localdate()
            )
        items = list(
            SowCatalogItem.objects.filter(
                catalog__partner_id=claim.partner_id, catalog__program_id=claim.program_id
            ).select_related("catalog")
        )
        # Only an approved catalog counts; an edit withdraws the approval until given again.
        catalog = {item.workload_id: item for item in items if item.catalog.is_approved}
        awaiting_approval = {item.workload_id for item in items if not item.catalog.is_approved}
        associations = {
            a.workload_id: a
            for a in Association.objects.filter(
                customer_id=claim.customer_id, ended_on=None
            ).select_related("partner")
        }
        open_claims: dict[int, list[tuple[int, str]]] = {}
        others = (
            ClaimLine.objects.filter(
                claim__customer_id=claim.customer_id, claim__status__in=OPEN_STATES
            )
            .exclude(claim_id=claim.pk)
            .exclude(status__in=[ClaimLine.Status.REJECTED, ClaimLine.Status.REMOVED])
            .values_list("workload_id", "claim__partner_id", "claim__reference")
        )
        for workload_id, partner_id, reference in others:
            open_claims.setdefault(workload_id, []).append((partner_id, reference))
        disputed = set(
            ChangeRequest.objects.filter(
                customer_id=claim.customer_id, status__in=ChangeRequest.OPEN_STATUSES
            ).values_list("workload_id", flat=True)
        )
        decided = 0
        if claim.rules.claim_limit_per_partner is not None:
            # Every other claim of the partner in the program holding an approved line,
            # decided or not yet (one approved at once while another line is in review).
            decided = (
                Claim.objects.filter(partner_id=claim.partner_id, program_id=claim.program_id)
                .exclude(pk=claim.pk)
                .filter(
                    Q(status__in=[Claim.Status.APPROVED, Claim.Status.PARTIALLY_APPROVED])
                    | Exists(
                        ClaimLine.objects.filter(
                            claim=OuterRef("pk"), status=ClaimLine.Status.APPROVED
                        )
                    )
                )
                .count()
            )
        return cls(
            claim,
            on,
            catalog,
            associations,
            open_claims,
            disputed,
            decided,
            rules=claim.rules,
            awaiting_approval=awaiting_approval,
        )


Rule = Callable[[ClaimFacts, ClaimLine], RuleResult]


def partner_inactive(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    active = facts.claim.partner.is_active
    return RuleResult(
        ReasonCode.PARTNER_INACTIVE, active, "" if active else "The partner is suspended."
    )


def not_in_catalog(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    item = facts.catalog.get(line.workload_id)
    if item is None and line.workload_id in facts.awaiting_approval:
        return RuleResult(
            ReasonCode.NOT_IN_CATALOG,
            False,
            "The partner's SOW catalog for this program awaits approval.",
        )
    if item is None:
        return RuleResult(
            ReasonCode.NOT_IN_CATALOG,
            False,
            f"{line.workload} is not in the partner's SOW catalog.",
        )
    if not item.covers(facts.on):
        return RuleResult(
            ReasonCode.NOT_IN_CATALOG,
            False,
            f"The catalog item is not valid on {facts.on:%Y-%m-%d}.",
        )
    if item.max_seats is not None and line.seats is not None and line.seats > item.max_seats:
        return RuleResult(
            ReasonCode.NOT_IN_CATALOG,
            False,
            f"{line.seats} seats exceed the catalog limit of {item.max_seats}.",
        )
    return RuleResult(ReasonCode.NOT_IN_CATALOG, True)


def custom_sow(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    custom = bool(facts.claim.custom_sow)
    return RuleResult(
        ReasonCode.CUSTOM_SOW, not custom, "The claim carries a custom SOW." if custom else ""
    )


def existing_claim(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    partner_id = facts.claim.partner_id
    association = facts.associations.get(line.workload_id)
    if association is not None and association.partner_id != partner_id:
        return RuleResult(
            ReasonCode.EXISTING_CLAIM,
            False,
            f"{association.partner} is partner of record since {association.since:%Y-%m-%d}.",
        )
    rivals = [ref for pid, ref in facts.open_claims.get(line.workload_id, []) if pid != partner_id]
    if rivals:
        return RuleResult(
            ReasonCode.EXISTING_CLAIM,
            False,
            f"Another partner has an open claim ({', '.join(rivals)}).",
        )
    return RuleResult(ReasonCode.EXISTING_CLAIM, True)


def duplicate(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    partner_id = facts.claim.partner_id
    association = facts.associations.get(line.workload_id)
    # A line this very claim already won (before a return and resubmission) is no duplicate.
    if (
        association is not None
        and association.partner_id == partner_id
        and association.source_claim_id != facts.claim.pk
    ):
        return RuleResult(ReasonCode.DUPLICATE, False, "The partner already holds this workload.")
    own = [ref for pid, ref in facts.open_claims.get(line.workload_id, []) if pid == partner_id]
    if own:
        return RuleResult(
            ReasonCode.DUPLICATE, False, f"The partner already claims it in {', '.join(own)}."
        )
    return RuleResult(ReasonCode.DUPLICATE, True)


def claim_limit(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    limit = facts.program_rules.claim_limit_per_partner
    if limit is not None and facts.decided_claims >= limit:
        return RuleResult(
            ReasonCode.CLAIM_LIMIT,
            False,
            f"The partner has reached the program's limit of {limit}.",
        )
    return RuleResult(ReasonCode.CLAIM_LIMIT, True)


def public_sector(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    claim = facts.claim
    if not claim.customer.is_public_sector:
        return RuleResult(ReasonCode.PUBLIC_SECTOR, True)
    if facts.program_rules.public_sector_requires_authorisation and not (
        claim.partner.public_sector_authorised
    ):
        return RuleResult(
            ReasonCode.PUBLIC_SECTOR,
            False,
            "The partner is not authorised for public-sector customers.",
        )
    contact = (
        claim.survey_contact_email
        if claim.survey_contact_mode == Claim.SurveyContactMode.ONE_FOR_ALL
        else line.survey_contact_email
    )
    if not contact or not claim.customer.verified_domains.strip():
        return RuleResult(
            ReasonCode.PUBLIC_SECTOR,
            False,
            "Public-sector claims need a survey contact and the customer's verified domains.",
        )
    return RuleResult(ReasonCode.PUBLIC_SECTOR, True)


def below_minimum(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    minimum = facts.program_rules.min_seats
    seats = facts.claim.customer.seats
    if seats < minimum:
        return RuleResult(
            ReasonCode.BELOW_MINIMUM,
            False,
            f"The customer has {seats} seats; the minimum is {minimum}.",
        )
    return RuleResult(ReasonCode.BELOW_MINIMUM, True)


def open_dispute(facts: ClaimFacts, line: ClaimLine) -> RuleResult:
    if line.workload_id in facts.disputed:
        return RuleResult(ReasonCode.OPEN_DISPUTE, False, "A dispute is open on this workload.")
    return RuleResult(ReasonCode.OPEN_DISPUTE, True)


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

# Every rule's label, keyed by its code (the rule function's name).
REASON_LABELS = {code.value: code.label for code in ReasonCode}


def check_line(facts: ClaimFacts, line: ClaimLine) -> list[RuleResult]:
    return [rule(facts, line) for rule in RULES]


def _fingerprint() -> str:
    # The rules' own source: change a rule, or what they read, and the version changes.
    try:
        source = inspect.getsource(ClaimFacts) + "".join(inspect.getsource(r) for r in RULES)
    except OSError:  # no source shipped: the names alone
        source = " ".join(rule.__name__ for rule in RULES)
    return hashlib.sha256(source.encode()).hexdigest()[:10]


# The version of the rules that decides a claim, recorded with each decision and in the
# claim's history, so a later change to the rules never reads as the reason for an old one.
# Raise the number when the rules change in meaning; the fingerprint changes by itself.
RULE_SET_NUMBER = 2
RULE_SET = f"v{RULE_SET_NUMBER}-{_fingerprint()}"
