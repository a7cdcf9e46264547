"""The passive auto-approval rules one by one, then the engine that runs them on a claim."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.utils import timezone

from approvals import rules
from approvals.models import Decision, ReviewTask
from approvals.rules import RULE_SET, RULES, ClaimFacts, check_line
from approvals.services import decide_review, evaluate_claim
from claims import lifecycle
from claims.models import Claim, ClaimLine, Event
from customers.models import Association, ChangeRequest, Customer
from partners.models import Partner, Program, SowCatalogItem
from tests import factories as f

S = Claim.Status
L = ClaimLine.Status
DAY = datetime.timedelta(days=1)


# --- Arranging the world ------------------------------------------------------------------


def _workload(world, code):
    return next(w for w in world.workloads if w.code == code)


def _claim(world, code="exchange", **kwargs) -> Claim:
    """A one-line claim by Contoso for Woodgrove, signed and waiting for the partner."""
    return world.submitted(workloads=[_workload(world, code)], **kwargs)


def _set(model, obj, **fields) -> None:
    model.objects.filter(pk=obj.pk).update(**fields)


def _associate(world, partner, code="exchange", *, ended=False) -> Association:
    today = timezone.localdate()
    return Association.objects.create(
        customer=world.customer,
        workload=_workload(world, code),
        partner=partner,
        since=today - 100 * DAY,
        ended_on=today - DAY if ended else None,
    )


def _other_claim(world, *, partner, status, code="exchange", line_status=None) -> Claim:
    """Another claim of Woodgrove's for the same workload, put straight into `status`."""
    other = world.draft(partner=partner, workloads=[_workload(world, code)])
    _set(Claim, other, status=status)
    if line_status:
        other.lines.update(status=line_status)
    return other


def _catalog_item(world, code="exchange") -> SowCatalogItem:
    return SowCatalogItem.objects.get(
        catalog__partner=world.partner, catalog__program=world.program, workload__code=code
    )


def _with_catalog_item(**fields):
    """Arrange a claim for exchange whose catalog item gets `fields` (dates relative to `on`)."""

    def arrange(world):
        claim = _claim(world)
        on = claim.submitted_at.date()
        values = {
            k: (on + v if isinstance(v, datetime.timedelta) else v) for k, v in fields.items()
        }
        _set(SowCatalogItem, _catalog_item(world), **values)
        return claim

    return arrange


def _in_other_program_only(world):
    """Contoso's catalog for another program lists intune; the claim's program does not."""
    other_program = f.ProgramFactory()
    f.catalog(world.partner, other_program, [_workload(world, "intune")])
    return _claim(world, "intune")


def _custom_sow(world):
    claim = _claim(world)
    _set(Claim, claim, custom_sow="sow/2026/custom.pdf")
    return claim


def _rival_association(world):
    _associate(world, world.rival)
    return _claim(world)


def _ended_rival_association(world):
    _associate(world, world.rival, ended=True)
    return _claim(world)


def _rival_association_other_workload(world):
    _associate(world, world.rival, "teams")
    return _claim(world)


def _rival_claim(status, line_status=None):
    def arrange(world):
        _other_claim(world, partner=world.rival, status=status, line_status=line_status)
        return _claim(world)

    return arrange


def _rival_claim_other_customer(world):
    world.submitted(
        partner=world.rival, customer=world.other_customer, user=world.other_customer_user
    )
    return _claim(world)


def _own_association(world):
    _associate(world, world.partner)
    return _claim(world)


def _own_ended_association(world):
    _associate(world, world.partner, ended=True)
    return _claim(world)


def _own_claim(status, code="exchange"):
    def arrange(world):
        _other_claim(world, partner=world.partner, status=status, code=code)
        return _claim(world)

    return arrange


def _limit(limit, *decided, partner="partner"):
    """A claim limit of `limit` and earlier claims (other customer) in the `decided` states."""

    def arrange(world):
        _set(Program, world.program, claim_limit_per_partner=limit)
        for status in decided:
            earlier = world.draft(
                partner=getattr(world, partner),
                customer=world.other_customer,
                user=world.other_customer_user,
            )
            _set(Claim, earlier, status=status)
        return _claim(world)

    return arrange


def _public_sector(
    *,
    authorised=True,
    requires=True,
    contact="sam@woodgrove.example",
    domains="woodgrove.example",
    per_service=None,
):
    """A public-sector customer; `per_service` is the line's own contact in per-service mode."""

    def arrange(world):
        _set(Partner, world.partner, public_sector_authorised=authorised)
        _set(Program, world.program, public_sector_requires_authorisation=requires)
        # The customer's domains after signing: nobody may act for a customer without them.
        claim = _claim(world)
        _set(
            Customer,
            world.customer,
            segment=Customer.Segment.PUBLIC_SECTOR,
            verified_domains=domains,
        )
        _set(Claim, claim, survey_contact_email=contact)
        if per_service is not None:
            _set(Claim, claim, survey_contact_mode=Claim.SurveyContactMode.PER_SERVICE)
            claim.lines.update(survey_contact_email=per_service)
        return claim

    return arrange


def _unauthorised_commercial(world):
    claim = _claim(world)
    _set(Partner, world.partner, public_sector_authorised=False)
    _set(Customer, world.customer, verified_domains="")
    return claim


def _minimum(min_seats, customer_seats=1000):
    def arrange(world):
        _set(Program, world.program, min_seats=min_seats)
        _set(Customer, world.customer, seats=customer_seats)
        return _claim(world)

    return arrange


def _suspended(world):
    _set(Partner, world.partner, is_active=False)
    return _claim(world)


def _dispute(status, *, code="exchange", customer="customer"):
    def arrange(world):
        ChangeRequest.objects.create(
            customer=getattr(world, customer),
            workload=_workload(world, code),
            from_partner=world.rival,
            to_partner=world.partner,
            status=status,
            created_by=world.approver,
        )
        return _claim(world)

    return arrange


CR = ChangeRequest.Status


def _case(arrange, code, passes, detail, *, id, also=()):
    return pytest.param(arrange, code, passes, detail, frozenset(also), id=id)


# (arrange, rule code, passes?, pattern its detail must match or "" for none; `also`: the
# other rules the arrangement trips, for cases that show where one rule ends and another starts)
CASES = [
    _case(_claim, "not_in_catalog", True, "", id="catalog-listed"),
    _case(
        lambda w: _claim(w, "intune"),
        "not_in_catalog",
        False,
        r"^Microsoft Intune is not in the partner's SOW catalog\.$",
        id="catalog-not-listed",
    ),
    _case(
        _in_other_program_only,
        "not_in_catalog",
        False,
        "not in the partner's SOW catalog",
        id="catalog-only-in-another-program",
    ),
    _case(
        _with_catalog_item(valid_from=DAY),
        "not_in_catalog",
        False,
        r"^The catalog item is not valid on \d{4}-\d{2}-\d{2}\.$",
        id="catalog-item-not-yet-valid",
    ),
    _case(
        _with_catalog_item(valid_until=-DAY),
        "not_in_catalog",
        False,
        "not valid on",
        id="catalog-item-expired",
    ),
    _case(
        _with_catalog_item(valid_from=0 * DAY, valid_until=0 * DAY),
        "not_in_catalog",
        True,
        "",
        id="catalog-item-valid-on-its-first-and-last-day",
    ),
    _case(
        _with_catalog_item(max_seats=499),
        "not_in_catalog",
        False,
        r"^500 seats exceed the catalog limit of 499\.$",
        id="catalog-max-seats-exceeded",
    ),
    _case(
        _with_catalog_item(max_seats=500),
        "not_in_catalog",
        True,
        "",
        id="catalog-max-seats-reached",
    ),
    _case(_claim, "custom_sow", True, "", id="no-custom-sow"),
    _case(_custom_sow, "custom_sow", False, r"^The claim carries a custom SOW\.$", id="custom-sow"),
    _case(_claim, "existing_claim", True, "", id="existing-nobody"),
    _case(
        _rival_association,
        "existing_claim",
        False,
        r"^Fabrikam is partner of record since \d{4}-\d{2}-\d{2}\.$",
        id="existing-rival-holds-it",
    ),
    _case(_ended_rival_association, "existing_claim", True, "", id="existing-rival-held-it-once"),
    _case(
        _rival_association_other_workload,
        "existing_claim",
        True,
        "",
        id="existing-rival-holds-another-workload",
    ),
    *[
        _case(
            _rival_claim(status),
            "existing_claim",
            False,
            r"^Another partner has an open claim \(CLM-\d{4}-\d{6}\)\.$",
            id=f"existing-rival-claim-{status}",
        )
        for status in (S.AWAITING_PARTNER, S.RETURNED_TO_CUSTOMER, S.EVALUATING, S.IN_REVIEW)
    ],
    *[
        _case(_rival_claim(status), "existing_claim", True, "", id=f"existing-rival-claim-{status}")
        for status in (
            S.DRAFT,
            S.AWAITING_CUSTOMER_APPROVAL,
            S.REJECTED,
            S.WITHDRAWN,
        )
    ],
    _case(
        _rival_claim(S.IN_REVIEW, line_status=L.REJECTED),
        "existing_claim",
        True,
        "",
        id="existing-rival-line-rejected",
    ),
    _case(
        _rival_claim_other_customer,
        "existing_claim",
        True,
        "",
        id="existing-rival-claim-for-another-customer",
    ),
    _case(
        _own_association,
        "existing_claim",
        True,
        "",
        id="existing-own-association",
        also={"duplicate"},
    ),
    _case(_claim, "duplicate", True, "", id="duplicate-nothing"),
    _case(
        _own_association,
        "duplicate",
        False,
        r"^The partner already holds this workload\.$",
        id="duplicate-held",
    ),
    _case(_own_ended_association, "duplicate", True, "", id="duplicate-held-once-ended"),
    _case(
        _own_claim(S.AWAITING_PARTNER),
        "duplicate",
        False,
        r"^The partner already claims it in CLM-\d{4}-\d{6}\.$",
        id="duplicate-open-claim",
    ),
    _case(
        _own_claim(S.AWAITING_PARTNER, code="teams"),
        "duplicate",
        True,
        "",
        id="duplicate-open-claim-other-workload",
    ),
    _case(_own_claim(S.WITHDRAWN), "duplicate", True, "", id="duplicate-withdrawn-claim"),
    _case(
        _rival_association,
        "duplicate",
        True,
        "",
        id="duplicate-rival-holds-it",
        also={"existing_claim"},
    ),
    _case(_limit(None, S.APPROVED, S.APPROVED), "claim_limit", True, "", id="no-limit"),
    _case(_limit(2, S.APPROVED), "claim_limit", True, "", id="limit-not-reached"),
    _case(
        _limit(1, S.APPROVED),
        "claim_limit",
        False,
        r"^The partner has reached the program's limit of 1\.$",
        id="limit-reached-approved",
    ),
    _case(
        _limit(1, S.PARTIALLY_APPROVED),
        "claim_limit",
        False,
        "limit of 1",
        id="limit-reached-partially-approved",
    ),
    _case(
        _limit(1, S.REJECTED, S.WITHDRAWN, S.IN_REVIEW),
        "claim_limit",
        True,
        "",
        id="limit-counts-only-approved-claims",
    ),
    _case(
        _limit(1, S.APPROVED, partner="rival"),
        "claim_limit",
        True,
        "",
        id="limit-counts-only-this-partner",
    ),
    _case(_unauthorised_commercial, "public_sector", True, "", id="public-sector-commercial"),
    _case(_public_sector(), "public_sector", True, "", id="public-sector-complete"),
    _case(
        _public_sector(authorised=False),
        "public_sector",
        False,
        r"^The partner is not authorised for public-sector customers\.$",
        id="public-sector-unauthorised-partner",
    ),
    _case(
        _public_sector(authorised=False, requires=False),
        "public_sector",
        True,
        "",
        id="public-sector-authorisation-not-required",
    ),
    _case(
        _public_sector(contact=""),
        "public_sector",
        False,
        r"^Public-sector claims need a survey contact and the customer's verified domains\.$",
        id="public-sector-no-contact",
    ),
    _case(
        _public_sector(domains="  \n"),
        "public_sector",
        False,
        "verified domains",
        id="public-sector-no-verified-domains",
    ),
    _case(
        _public_sector(contact="", per_service="it@woodgrove.example"),
        "public_sector",
        True,
        "",
        id="public-sector-per-service-contact",
    ),
    _case(
        _public_sector(per_service=""),
        "public_sector",
        False,
        "survey contact",
        id="public-sector-per-service-contact-missing",
    ),
    _case(_minimum(1000), "below_minimum", True, "", id="minimum-reached"),
    _case(
        _minimum(1001),
        "below_minimum",
        False,
        r"^The customer has 1000 seats; the minimum is 1001\.$",
        id="minimum-not-reached",
    ),
    _case(_claim, "partner_inactive", True, "", id="partner-active"),
    _case(
        _suspended,
        "partner_inactive",
        False,
        r"^The partner is suspended\.$",
        id="partner-suspended",
    ),
    *[
        _case(
            _dispute(status),
            "open_dispute",
            False,
            r"^A dispute is open on this workload\.$",
            id=f"dispute-{status}",
        )
        for status in (CR.OPEN, CR.AWAITING_RESPONSE, CR.IN_REVIEW)
    ],
    *[
        _case(_dispute(status), "open_dispute", True, "", id=f"dispute-{status}")
        for status in (CR.GRANTED, CR.DENIED, CR.WITHDRAWN)
    ],
    _case(_dispute(CR.OPEN, code="teams"), "open_dispute", True, "", id="dispute-other-workload"),
    _case(
        _dispute(CR.OPEN, customer="other_customer"),
        "open_dispute",
        True,
        "",
        id="dispute-other-customer",
    ),
]


def _check(claim: Claim) -> dict[str, rules.RuleResult]:
    claim = Claim.objects.select_related("partner", "customer", "program").get(pk=claim.pk)
    facts = ClaimFacts.gather(claim)
    line = claim.lines.select_related("workload").get()
    return {result.code: result for result in check_line(facts, line)}


@pytest.mark.parametrize(("arrange", "code", "passes", "detail", "also"), CASES)
def test_it_checks_each_rule_with_its_reason_code(world, arrange, code, passes, detail, also):
    results = _check(arrange(world))
    result = results[code]
    assert result.passed is passes
    if detail:
        assert re.search(detail, result.detail), result.detail
    else:
        assert result.detail == ""
    # The arrangement trips this rule and no other (but those it names).
    failing = {c for c, r in results.items() if not r.passed}
    assert failing == (also if passes else {code} | also)


def test_it_runs_every_rule_each_with_a_label(world):
    codes = list(_check(_claim(world)))
    assert codes == [rule.__name__ for rule in RULES]
    assert set(codes) == set(rules.REASON_LABELS)


def test_it_judges_the_catalog_on_the_day_of_submission(world):
    claim = _claim(world)
    submitted = claim.submitted_at.date()
    _set(SowCatalogItem, _catalog_item(world), valid_until=submitted)
    # Checked a week later, the item that was valid when the customer signed still counts.
    with time_machine.travel(timezone.now() + 7 * DAY):
        assert _check(claim)["not_in_catalog"].passed


def test_it_judges_the_catalog_on_the_local_day_of_submission(world, settings):
    settings.TIME_ZONE = "Pacific/Auckland"  # UTC+13 in March
    # 20:00 UTC on 10 March is 09:00 on 11 March in Auckland: the customer signed on the 11th.
    # A program running then, so the claim's dates (from that day) fall within it.
    _set(
        Program,
        world.program,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 12, 31),
    )
    with time_machine.travel(datetime.datetime(2026, 3, 10, 20, 0, tzinfo=datetime.UTC)):
        claim = _claim(world)
        signed_on = timezone.localdate(claim.submitted_at)
        assert signed_on == datetime.date(2026, 3, 11)
        _set(SowCatalogItem, _catalog_item(world), valid_from=signed_on)
        assert _check(claim)["not_in_catalog"].passed


# --- The engine ---------------------------------------------------------------------------


def _evaluating(world, codes=("exchange", "teams"), *, partner=None) -> Claim:
    claim = world.submitted(workloads=[_workload(world, c) for c in codes], partner=partner)
    member = world.rival_member if partner == world.rival else world.partner_member
    claim = lifecycle.confirm_claim(claim, user=member)
    assert claim.status == S.EVALUATING
    return claim


def _line(claim, code) -> ClaimLine:
    return claim.lines.get(workload__code=code)


def _active(world, code, customer=None):
    return Association.objects.filter(
        customer=customer or world.customer, workload__code=code, ended_on=None
    )


def test_it_approves_a_claim_whose_lines_all_pass(world):
    claim = _evaluating(world)
    result = evaluate_claim(claim_id=claim.pk)
    assert result.status == S.APPROVED
    claim.refresh_from_db()
    assert claim.status == S.APPROVED and claim.decided_at is not None
    assert set(claim.lines.values_list("status", flat=True)) == {L.APPROVED}
    for code in ("exchange", "teams"):
        association = _active(world, code).get()
        assert association.partner == world.partner
        assert association.source_claim == claim
        assert association.since == timezone.localdate()
    assert not ReviewTask.objects.filter(claim=claim).exists()
    event = Event.objects.filter(claim=claim).order_by("-seq").first()
    assert (event.action, event.from_status, event.to_status) == (
        "evaluate",
        S.EVALUATING,
        S.APPROVED,
    )
    assert event.actor is None and event.actor_role == "system"
    # The history records which version of the rules decided.
    assert event.changes == {
        "lines": {"exchange": "approved", "teams": "approved"},
        "rule_set": RULE_SET,
    }
    assert set(Decision.objects.filter(line__claim=claim).values_list("rule_set", flat=True)) == {
        RULE_SET
    }


def test_it_approves_the_standard_line_and_queues_the_exception(world):
    claim = _evaluating(world, ("exchange", "intune"))
    assert evaluate_claim(claim_id=claim.pk).status == S.IN_REVIEW
    claim.refresh_from_db()
    assert claim.status == S.IN_REVIEW
    assert _line(claim, "exchange").status == L.APPROVED
    assert _line(claim, "intune").status == L.IN_REVIEW
    assert _active(world, "exchange").get().source_claim == claim
    assert not _active(world, "intune").exists()
    task = ReviewTask.objects.get(claim=claim)
    assert task.state == ReviewTask.State.OPEN
    assert task.due_at == claim.due_at and task.due_at is not None
    intune = _line(claim, "intune")
    assert task.reasons == [
        {
            "line": intune.pk,
            "workload": "Microsoft Intune",
            "codes": ["not_in_catalog"],
            "details": ["Microsoft Intune is not in the partner's SOW catalog."],
        }
    ]


def test_it_records_a_decision_per_line_with_every_rules_result(world):
    claim = _evaluating(world, ("exchange", "intune"))
    evaluate_claim(claim_id=claim.pk)
    every_rule = [rule.__name__ for rule in RULES]

    passed = Decision.objects.get(line=_line(claim, "exchange"))
    assert passed.passed is True and passed.reason_codes == []
    assert [r["rule"] for r in passed.results] == every_rule
    assert all(r["passed"] and r["detail"] == "" for r in passed.results)

    failed = Decision.objects.get(line=_line(claim, "intune"))
    assert failed.passed is False and failed.reason_codes == ["not_in_catalog"]
    assert [r["rule"] for r in failed.results] == every_rule
    assert [r["rule"] for r in failed.results if not r["passed"]] == ["not_in_catalog"]


def test_it_collects_every_failing_reason_of_a_line(world):
    _set(Partner, world.partner, is_active=False)
    _set(Program, world.program, min_seats=5000)
    claim = _evaluating(world, ("intune",))
    evaluate_claim(claim_id=claim.pk)
    decision = Decision.objects.get(line__claim=claim)
    assert decision.reason_codes == ["partner_inactive", "not_in_catalog", "below_minimum"]
    assert ReviewTask.objects.get(claim=claim).reasons[0]["codes"] == decision.reason_codes


def test_it_evaluates_a_claim_only_once(world):
    claim = _evaluating(world, ("exchange", "intune"))
    assert evaluate_claim(claim_id=claim.pk) is not None

    def counts():
        return (
            Decision.objects.filter(line__claim=claim).count(),
            Association.objects.filter(source_claim=claim).count(),
            ReviewTask.objects.filter(claim=claim).count(),
            Event.objects.filter(claim=claim).count(),
        )

    before = counts()
    assert before == (2, 1, 1, 4)
    assert evaluate_claim(claim_id=claim.pk) is None
    assert counts() == before
    assert Claim.objects.get(pk=claim.pk).status == S.IN_REVIEW


def test_it_sends_a_rival_claim_for_the_same_workload_to_review(world):
    rival_claim = world.submitted(partner=world.rival, workloads=[_workload(world, "exchange")])
    claim = _evaluating(world, ("exchange",))
    evaluate_claim(claim_id=claim.pk)
    decision = Decision.objects.get(line__claim=claim)
    assert decision.reason_codes == ["existing_claim"]
    existing = next(r for r in decision.results if r["rule"] == "existing_claim")
    assert rival_claim.reference in existing["detail"]
    assert Claim.objects.get(pk=claim.pk).status == S.IN_REVIEW


def _queued(world, codes=("exchange", "intune")) -> Claim:
    claim = _evaluating(world, codes)
    evaluate_claim(claim_id=claim.pk)
    claim.refresh_from_db()
    assert claim.status == S.IN_REVIEW
    return claim


@pytest.mark.parametrize(
    ("approve_intune", "outcome", "intune_status"),
    [(True, S.APPROVED, L.APPROVED), (False, S.PARTIALLY_APPROVED, L.REJECTED)],
)
def test_the_claims_team_decides_the_exception(world, approve_intune, outcome, intune_status):
    claim = _queued(world)
    intune = _line(claim, "intune")
    decided = decide_review(
        claim, user=world.reviewer, line_approvals={intune.pk: approve_intune}, comment="Checked"
    )
    assert decided.status == outcome
    claim.refresh_from_db()
    assert claim.status == outcome and claim.decided_at is not None
    assert _line(claim, "exchange").status == L.APPROVED
    assert _line(claim, "intune").status == intune_status
    assert _active(world, "intune").exists() is approve_intune
    if approve_intune:
        assert _active(world, "intune").get().source_claim == claim
    task = ReviewTask.objects.get(claim=claim)
    assert task.state == ReviewTask.State.DONE and task.closed_at is not None
    event = Event.objects.filter(claim=claim).order_by("-seq").first()
    assert (event.action, event.actor, event.to_status) == ("decide", world.reviewer, outcome)
    assert event.comment == "Checked"


def test_the_claims_team_rejects_a_claim_with_no_passing_line(world):
    claim = _queued(world, ("intune",))
    intune = _line(claim, "intune")
    decided = decide_review(
        claim, user=world.reviewer, line_approvals={intune.pk: False}, comment="Not in catalog"
    )
    assert decided.status == S.REJECTED
    assert _line(claim, "intune").status == L.REJECTED
    assert not Association.objects.filter(source_claim=claim).exists()


def test_approving_an_existing_claim_line_moves_the_association(world):
    rival_claim = _evaluating(world, ("exchange",), partner=world.rival)
    assert evaluate_claim(claim_id=rival_claim.pk).status == S.APPROVED
    old = _active(world, "exchange").get()
    assert old.partner == world.rival

    claim = _queued(world, ("exchange",))
    assert Decision.objects.get(line__claim=claim).reason_codes == ["existing_claim"]
    line = _line(claim, "exchange")
    decide_review(claim, user=world.reviewer, line_approvals={line.pk: True}, comment="Moved")

    old.refresh_from_db()
    assert old.ended_on == timezone.localdate()
    new = _active(world, "exchange").get()
    assert new.pk != old.pk
    assert (new.partner, new.source_claim, new.since) == (
        world.partner,
        claim,
        timezone.localdate(),
    )
    assert Claim.objects.get(pk=claim.pk).status == S.APPROVED


def test_rejecting_an_existing_claim_line_leaves_the_association(world):
    rival_claim = _evaluating(world, ("exchange",), partner=world.rival)
    evaluate_claim(claim_id=rival_claim.pk)
    claim = _queued(world, ("exchange",))
    line = _line(claim, "exchange")
    decide_review(claim, user=world.reviewer, line_approvals={line.pk: False}, comment="No")
    held = _active(world, "exchange").get()
    assert (held.partner, held.source_claim, held.ended_on) == (world.rival, rival_claim, None)


def test_a_resubmitted_claim_is_not_a_duplicate_of_itself(world):
    claim = _queued(world)  # exchange approved at once (association granted), intune queued
    lifecycle.return_from_review(claim, user=world.reviewer, comment="Drop intune")
    lifecycle.resubmit(claim, user=world.approver, signed_name="Alex", attested=True)
    lifecycle.confirm_claim(claim, user=world.partner_member)
    evaluate_claim(claim_id=claim.pk)
    latest = Decision.objects.filter(line=_line(claim, "exchange")).order_by("-pk").first()
    assert latest.reason_codes == []
