"""A SOW catalog counts for passive approval only once approved; an edit needs approving again.

Also: program rules take effect for claims created after the change (the claim's snapshot).
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.rules import ClaimFacts, ReasonCode, check_line
from approvals.services import evaluate_claim
from claims import lifecycle
from claims.models import Claim, ClaimLine
from claims_portal.audit import history, verify_history
from partners import services
from partners.models import ClosedDay, Program, SowCatalog
from tests import factories as f


def _catalog(world) -> SowCatalog:
    return SowCatalog.objects.get(partner=world.partner, program=world.program)


def _not_in_catalog(claim: Claim) -> dict[str, object]:
    claim = Claim.objects.select_related("partner", "customer", "program").get(pk=claim.pk)
    facts = ClaimFacts.gather(claim)
    line = claim.lines.select_related("workload").get(workload__code="exchange")
    result = next(r for r in check_line(facts, line) if r.code == ReasonCode.NOT_IN_CATALOG)
    return {"passed": result.passed, "detail": result.detail}


def _claim(world) -> Claim:
    return world.submitted(workloads=[world.workloads[0]])


def _withdraw_approval(catalog: SowCatalog) -> None:
    SowCatalog.objects.filter(pk=catalog.pk).update(approved_at=None, approved_by=None)


# --- The rule reads approved catalogs only -------------------------------------------


def test_an_approved_catalog_passes(world):
    assert _not_in_catalog(_claim(world)) == {"passed": True, "detail": ""}


def test_a_catalog_awaiting_approval_does_not_count(world):
    _withdraw_approval(_catalog(world))
    assert _not_in_catalog(_claim(world)) == {
        "passed": False,
        "detail": "The partner's SOW catalog for this program awaits approval.",
    }


def test_an_approved_catalog_edited_later_stops_counting_until_approved_again(world):
    catalog = _catalog(world)
    admin = f.UserFactory(email="ada@vendor.example", is_staff=True)
    claim = _claim(world)
    services.catalog_edited(catalog, user=admin, action="partners.catalog.changed", changes={})
    assert _not_in_catalog(claim)["passed"] is False
    services.approve_catalog(catalog, user=admin, revision=catalog.revision + 1)
    assert _not_in_catalog(claim) == {"passed": True, "detail": ""}


def test_evaluation_sends_a_claim_of_an_unapproved_catalog_to_the_claims_team(world):
    _withdraw_approval(_catalog(world))
    claim = _claim(world)
    claim = lifecycle.confirm_claim(claim, user=world.partner_member)
    evaluate_claim(claim_id=claim.pk)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW
    line = claim.lines.get()
    assert line.status == ClaimLine.Status.IN_REVIEW
    assert line.decisions.get().reason_codes == ["not_in_catalog"]


# --- Approving ---------------------------------------------------------------------


def test_approving_records_who_and_when_in_the_history(world):
    catalog = _catalog(world)
    _withdraw_approval(catalog)
    admin = f.UserFactory(email="ada@vendor.example", is_staff=True)
    approved = services.approve_catalog(catalog, user=admin, revision=catalog.revision)
    assert approved.approved_by == admin
    assert abs(approved.approved_at - timezone.now()) < datetime.timedelta(seconds=5)
    [entry] = history(catalog)
    assert entry.action == "partners.catalog.approved"
    assert entry.actor_label == "ada@vendor.example"
    assert entry.data == {"revision": catalog.revision, "items": 2}
    # Approving again changes nothing and records nothing.
    services.approve_catalog(catalog, user=admin)
    assert history(catalog).count() == 1
    assert verify_history(catalog) == []


def test_it_refuses_to_approve_an_empty_catalog(world):
    catalog = SowCatalog.objects.create(partner=world.partner, program=f.ProgramFactory())
    with pytest.raises(services.CatalogError, match="has no items"):
        services.approve_catalog(catalog, user=world.lead)
    catalog.refresh_from_db()
    assert catalog.approved_at is None


def test_it_refuses_an_approval_given_to_a_revision_since_edited(world):
    catalog = _catalog(world)
    seen = catalog.revision
    services.catalog_edited(catalog, user=None, action="partners.catalog.changed", changes={})
    with pytest.raises(services.CatalogError, match="changed since you looked"):
        services.approve_catalog(catalog, user=world.lead, revision=seen)
    catalog.refresh_from_db()
    assert catalog.approved_at is None and catalog.revision == seen + 1


# --- In admin ----------------------------------------------------------------------


def _change_form_data(catalog: SowCatalog, **item_changes) -> dict[str, str]:
    items = list(catalog.items.order_by("pk"))
    data = {
        "notes": catalog.notes,
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(items)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for i, item in enumerate(items):
        data.update(
            {
                f"items-{i}-id": str(item.pk),
                f"items-{i}-catalog": str(catalog.pk),
                f"items-{i}-workload": str(item.workload_id),
                f"items-{i}-max_seats": str(item.max_seats or ""),
                f"items-{i}-valid_from": "",
                f"items-{i}-valid_until": "",
            }
        )
    data.update(item_changes)
    return data


def test_editing_an_approved_catalog_in_admin_withdraws_the_approval(admin_client, world):
    catalog = _catalog(world)
    url = reverse("admin:partners_sowcatalog_change", args=[catalog.pk])
    response = admin_client.post(url, _change_form_data(catalog, **{"items-0-max_seats": "250"}))
    assert response.status_code == 302, response.context and response.context["errors"]
    catalog.refresh_from_db()
    assert catalog.approved_at is None and catalog.revision == 2
    assert catalog.items.order_by("pk").first().max_seats == 250
    [entry] = history(catalog)
    assert entry.action == "partners.sowcatalog.changed"
    assert entry.actor_label == "admin@example.com"
    assert entry.data["approval_withdrawn"] is True
    [(item, change)] = entry.data["inlines"]["sowcatalogitem"]["changed"].items()
    assert change == {"max_seats": [None, 250]}


def test_saving_an_unchanged_catalog_keeps_the_approval(admin_client, world):
    catalog = _catalog(world)
    url = reverse("admin:partners_sowcatalog_change", args=[catalog.pk])
    assert admin_client.post(url, _change_form_data(catalog)).status_code == 302
    catalog.refresh_from_db()
    assert catalog.is_approved and catalog.revision == 1
    assert history(catalog).count() == 0


def test_the_change_page_approves_the_revision_it_showed(admin_client, world):
    catalog = _catalog(world)
    _withdraw_approval(catalog)
    page = admin_client.get(reverse("admin:partners_sowcatalog_change", args=[catalog.pk]))
    assert "Revision 1 awaits approval" in page.content.decode()
    url = reverse("admin:partners_sowcatalog_approve", args=[catalog.pk])
    # Someone edits it between the page and the click: the approval is refused.
    services.catalog_edited(catalog, user=None, action="partners.catalog.changed", changes={})
    response = admin_client.post(url, {"revision": "1"}, follow=True)
    assert "changed since you looked at it" in response.content.decode()
    catalog.refresh_from_db()
    assert catalog.approved_at is None
    response = admin_client.post(url, {"revision": "2"}, follow=True)
    catalog.refresh_from_db()
    assert catalog.is_approved and catalog.approved_by.username == "admin"
    assert "Revision 2 approved by admin@example.com" in response.content.decode()


@pytest.mark.parametrize("revision", ["", "x", "0", "-3"])
def test_an_approval_without_a_valid_revision_is_refused(admin_client, world, revision):
    catalog = _catalog(world)
    _withdraw_approval(catalog)
    url = reverse("admin:partners_sowcatalog_approve", args=[catalog.pk])
    response = admin_client.post(url, {"revision": revision}, follow=True)
    assert response.status_code == 200
    catalog.refresh_from_db()
    assert catalog.approved_at is None


def test_the_approve_action_confirms_then_approves_each_catalog_as_shown(admin_client, world):
    ours, theirs = _catalog(world), SowCatalog.objects.get(partner=world.rival)
    empty = SowCatalog.objects.create(partner=world.partner, program=f.ProgramFactory())
    for catalog in (ours, theirs):
        _withdraw_approval(catalog)
    url = reverse("admin:partners_sowcatalog_changelist")
    selected = [str(c.pk) for c in (ours, theirs, empty)]
    page = admin_client.post(url, {"action": "approve_action", "_selected_action": selected})
    assert page.status_code == 200
    assert "Approve these catalogs" in page.content.decode()
    services.catalog_edited(theirs, user=None, action="partners.catalog.changed", changes={})
    response = admin_client.post(
        url,
        {
            "action": "approve_action",
            "_selected_action": selected,
            "confirm": "1",
            **{f"revision-{c.pk}": "1" for c in (ours, theirs, empty)},
        },
        follow=True,
    )
    text = response.content.decode()
    assert "1 catalogs approved" in text
    assert "changed since you looked at it" in text and "has no items" in text
    assert SowCatalog.objects.get(pk=ours.pk).is_approved
    assert not SowCatalog.objects.get(pk=theirs.pk).is_approved
    assert not SowCatalog.objects.get(pk=empty.pk).is_approved


def test_admin_without_catalog_rights_cannot_approve(client, world):
    catalog = _catalog(world)
    _withdraw_approval(catalog)
    staff = f.UserFactory(email="viewer@vendor.example", is_staff=True)
    client.force_login(staff)
    url = reverse("admin:partners_sowcatalog_approve", args=[catalog.pk])
    assert client.post(url, {"revision": "1"}).status_code == 403
    catalog.refresh_from_db()
    assert catalog.approved_at is None


# --- Program rules apply to new claims only ---------------------------------------


def test_a_claim_keeps_the_rules_it_was_created_under(world):
    earlier = world.submitted(workloads=[world.workloads[0]])
    Program.objects.filter(pk=world.program.pk).update(
        min_seats=5000, claim_limit_per_partner=0, partner_confirm_days=1
    )
    later = world.submitted(
        workloads=[world.workloads[0]],
        customer=world.other_customer,
        user=world.other_customer_user,
    )
    assert earlier.program_rules["min_seats"] == 0
    assert later.program_rules["min_seats"] == 5000

    def results(claim):
        claim = Claim.objects.select_related("partner", "customer", "program").get(pk=claim.pk)
        line = claim.lines.select_related("workload").get()
        return {r.code: r.passed for r in check_line(ClaimFacts.gather(claim), line)}

    assert results(earlier)[ReasonCode.BELOW_MINIMUM] is True
    assert results(earlier)[ReasonCode.CLAIM_LIMIT] is True
    assert results(later)[ReasonCode.BELOW_MINIMUM] is False
    assert results(later)[ReasonCode.CLAIM_LIMIT] is False


def test_deadlines_count_the_sla_days_the_claim_was_created_under(world):
    draft = world.draft(workloads=[world.workloads[0]])
    Program.objects.filter(pk=world.program.pk).update(partner_confirm_days=20)
    claim = lifecycle.sign_and_submit(
        draft, user=world.approver, signed_name="Alex Approver", attested=True
    )
    business_days = sum(
        1
        for n in range(1, (claim.due_at - claim.submitted_at).days + 1)
        if (claim.submitted_at + datetime.timedelta(days=n)).weekday() < 5
    )
    assert business_days == 5


def test_a_claim_from_before_snapshots_follows_the_program(world):
    claim = f.ClaimFactory(program=world.program, partner=world.partner, customer=world.customer)
    assert claim.program_rules == {}
    Program.objects.filter(pk=world.program.pk).update(min_seats=77)
    claim = Claim.objects.get(pk=claim.pk)
    assert claim.rules.min_seats == 77


def test_a_claim_keeps_the_calendar_it_was_created_under(world):
    Program.objects.filter(pk=world.program.pk).update(
        calendar_country="GB", calendar_subdivision="ENG", reminder_days=2
    )
    ClosedDay.objects.create(program=world.program, date=datetime.date(2026, 12, 28))
    earlier = world.draft(workloads=[world.workloads[0]])
    Program.objects.filter(pk=world.program.pk).update(calendar_country="DE", reminder_days=3)
    ClosedDay.objects.create(program=world.program, date=datetime.date(2026, 12, 29))
    later = world.draft(
        workloads=[world.workloads[0]],
        customer=world.other_customer,
        user=world.other_customer_user,
    )
    old, new = Claim.objects.get(pk=earlier.pk), Claim.objects.get(pk=later.pk)
    assert (old.rules.calendar_country, old.rules.reminder_days) == ("GB", 2)
    assert old.rules.closed_days == ("2026-12-28",)
    assert (new.rules.calendar_country, new.rules.reminder_days) == ("DE", 3)
    assert new.rules.closed_days == ("2026-12-28", "2026-12-29")
    assert not old.calendar().is_open(datetime.date(2026, 12, 28))
    assert old.calendar().is_open(datetime.date(2026, 12, 29))
    assert not new.calendar().is_open(datetime.date(2026, 12, 29))
    assert not old.calendar().is_open(datetime.date(2026, 12, 25))  # Christmas in England


def test_a_new_period_takes_the_calendar_country_but_not_last_years_closed_days(world):
    Program.objects.filter(pk=world.program.pk).update(calendar_country="GB")
    world.program.refresh_from_db()
    ClosedDay.objects.create(program=world.program, date=datetime.date(2026, 12, 28))
    new = services.create_next_period(
        source=world.program,
        name="Next",
        slug="next",
        start_date=world.program.end_date + datetime.timedelta(days=1),
        end_date=world.program.end_date + datetime.timedelta(days=365),
        user=world.lead,
    )
    assert new.calendar_country == "GB"
    assert not new.closed_days.exists()
