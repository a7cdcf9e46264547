"""The claims team's queue: views and counts, filters, search, sort, CSV, pager, bulk work."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.models import LineVerdict, RejectionReason, ReviewTask
from approvals.selectors import COUNT_CAP
from claims.models import Claim, ClaimAction, ClaimLine, Event
from claims_portal.lists import LargeListPaginator
from tests import factories as f

QUEUE = reverse("review_queue")


def _queued(world, n=1, **kwargs):
    defaults = {"partner": world.partner, "customer": world.customer, "program": world.program}
    return [f.ClaimFactory(in_review=True, **{**defaults, **kwargs}) for _ in range(n)]


def _task(claim):
    return ReviewTask.objects.get(claim=claim, state="open")


def _refs(response):
    return {t.claim.reference for t in response.context["page_obj"]}


@pytest.fixture
def reason(db):
    return RejectionReason.objects.create(code="outside-sow", label="Not eligible in this program")


# --- Views and their counts ---------------------------------------------------------------


def test_it_shows_each_view_with_its_count(client, world):
    mine, theirs, nobodys = _queued(world, 3)
    late = _queued(world)[0]
    ReviewTask.objects.filter(claim=mine).update(assignee=world.reviewer)
    ReviewTask.objects.filter(claim=theirs).update(assignee=world.lead)
    ReviewTask.objects.filter(claim=late).update(due_at=timezone.now() - datetime.timedelta(days=1))
    decided = f.ClaimFactory(approved=True, partner=world.partner, program=world.program)
    f.ReviewTaskFactory(claim=decided, state="done", closed_at=timezone.now(), outcome="approved")
    client.force_login(world.reviewer)

    counts = {c.view: c.count for c in client.get(QUEUE).context["counts"]}
    assert counts == {"mine": 1, "unassigned": 2, "open": 4, "overdue": 1, "decided": 1}
    expected = {
        "mine": {mine.reference},
        "unassigned": {nobodys.reference, late.reference},
        "open": {mine.reference, theirs.reference, nobodys.reference, late.reference},
        "overdue": {late.reference},
        "decided": {decided.reference},
    }
    for view, refs in expected.items():
        assert _refs(client.get(QUEUE, {"view": view})) == refs, view


def test_it_caps_the_counts_instead_of_counting_the_whole_queue(client, world, monkeypatch):
    monkeypatch.setattr("approvals.selectors.COUNT_CAP", 2)
    _queued(world, 3)
    client.force_login(world.reviewer)
    body = client.get(QUEUE).content.decode()
    tab = next(c for c in client.get(QUEUE).context["counts"] if c.view == "open")
    assert (tab.count, tab.capped) == (2, True)
    assert "2+" in body
    assert COUNT_CAP == 1000


def test_it_shows_reason_codes_by_their_labels(client, world):
    _queued(world)
    client.force_login(world.reviewer)
    body = client.get(QUEUE).content.decode()
    assert "Not in the pre-approved SOW catalog" in body
    assert ">not_in_catalog<" not in body


# --- Filters, search, sort ------------------------------------------------------------------


def test_it_filters_by_program_partner_reason_age_and_assignee(client, world):
    other_program = f.ProgramFactory(name="Teams Rooms push")
    base = _queued(world)[0]
    by_rival = _queued(world, partner=world.rival)[0]
    in_other_program = _queued(world, program=other_program)[0]
    old = _queued(world)[0]
    ReviewTask.objects.filter(claim=old).update(
        created_at=timezone.now() - datetime.timedelta(days=10)
    )
    duplicate = _queued(world)[0]
    ReviewTask.objects.filter(claim=duplicate).update(
        reasons=[{"line": 1, "workload": "Teams", "codes": ["duplicate"], "details": [""]}],
        assignee=world.lead,
    )
    client.force_login(world.reviewer)

    assert _refs(client.get(QUEUE, {"program": other_program.pk})) == {in_other_program.reference}
    assert _refs(client.get(QUEUE, {"partner": "fabrikam"})) == {by_rival.reference}
    assert _refs(client.get(QUEUE, {"partner": "FABRIK"})) == {by_rival.reference}
    assert _refs(client.get(QUEUE, {"reason": "duplicate"})) == {duplicate.reference}
    assert _refs(client.get(QUEUE, {"age": "7"})) == {old.reference}
    assert _refs(client.get(QUEUE, {"assignee": world.lead.pk})) == {duplicate.reference}
    nobody = _refs(client.get(QUEUE, {"assignee": "none"}))
    assert duplicate.reference not in nobody and base.reference in nobody


def test_it_searches_by_reference_customer_and_partner(client, world):
    first = _queued(world)[0]
    other = _queued(world, customer=world.other_customer)[0]
    client.force_login(world.reviewer)
    assert _refs(client.get(QUEUE, {"q": first.reference.lower()})) == {first.reference}
    assert _refs(client.get(QUEUE, {"q": first.reference[4:]})) == {first.reference}
    assert _refs(client.get(QUEUE, {"q": "tailspin"})) == {other.reference}
    assert len(_refs(client.get(QUEUE, {"q": "Contoso"}))) == 2


def test_it_sorts_by_due_and_age(client, world):
    soon, later = _queued(world, 2)
    ReviewTask.objects.filter(claim=soon).update(due_at=timezone.now())
    ReviewTask.objects.filter(claim=later).update(
        due_at=timezone.now() + datetime.timedelta(days=9),
        created_at=timezone.now() - datetime.timedelta(days=3),
    )
    client.force_login(world.reviewer)

    def order(sort):
        return [t.claim.reference for t in client.get(QUEUE, {"sort": sort}).context["page_obj"]]

    assert order("due") == [soon.reference, later.reference]
    assert order("oldest") == [later.reference, soon.reference]
    assert order("newest") == [soon.reference, later.reference]


@pytest.mark.parametrize(
    "params",
    [
        {"view": "everything"},
        {"reason": "made_up"},
        {"age": "9999"},
        {"sort": "random"},
        {"program": "not-a-number"},
        {"assignee": "999999"},
        {"q": "x" * 101},
    ],
)
def test_it_explains_bad_parameters_without_a_500(client, world, params):
    _queued(world)
    client.force_login(world.reviewer)
    response = client.get(QUEUE, params)
    assert response.status_code == 200
    assert response.context["filter"].form.errors
    assert list(response.context["page_obj"]) == []


def test_it_exports_exactly_the_filtered_rows_as_csv(client, world):
    wanted = _queued(world, 2)
    _queued(world, partner=world.rival)
    client.force_login(world.reviewer)
    response = client.get(QUEUE, {"partner": "contoso", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Reference", "Claim status", "Customer"]
    assert {row[0] for row in rows[1:]} == {c.reference for c in wanted}
    assert "Not in the pre-approved SOW catalog" in rows[1][5]


# --- Pager and queries ----------------------------------------------------------------------


def test_the_pager_renders_a_window_not_every_page(rf):
    from django.core.paginator import Paginator
    from django.template.loader import render_to_string

    page = Paginator(list(range(8000 * 25)), 25).get_page(50)
    request = rf.get("/review/", {"page": 50, "sort": "due"})
    html = render_to_string("includes/pager.html", {"page_obj": page}, request=request)
    assert html.count('class="page-link"') < 12
    for n in (1, 48, 49, 51, 52, 8000):
        assert f"page={n}" in html
    assert "page=47" not in html and "page=53" not in html
    assert "sort=due" in html


def test_a_capped_pager_offers_the_last_page_without_counting(rf, world):
    _queued(world, 5)
    tasks = ReviewTask.objects.filter(state="open").order_by("due_at", "id")
    from django.template.loader import render_to_string

    page = LargeListPaginator(tasks, 2, cap=3).get_page(1)
    html = render_to_string("includes/pager.html", {"page_obj": page}, request=rf.get("/review/"))
    assert "of more than 3" in html
    assert "page=last" in html and "page=2" in html


def test_the_large_list_paginator_reads_the_last_page_from_the_far_end(world):
    _queued(world, 7)
    tasks = ReviewTask.objects.filter(state="open").order_by("due_at", "id")
    expected = list(tasks.values_list("pk", flat=True))
    paginator = LargeListPaginator(tasks, 3, cap=4)
    first = paginator.get_page(1)
    assert paginator.capped and first.has_next() and paginator.count == 4
    assert [t.pk for t in first] == expected[:3]
    last = LargeListPaginator(tasks, 3, cap=4).get_page("last")
    assert last.number == 3 and [t.pk for t in last] == expected[6:]
    middle = LargeListPaginator(tasks, 3, cap=4).get_page(2)
    assert [t.pk for t in middle] == expected[3:6]


def test_the_queue_runs_a_constant_number_of_queries(client, world):
    client.force_login(world.lead)

    def queries(params):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(QUEUE, params).status_code == 200
        return len(ctx)

    # One item in every view, so each page has rows to read.
    first, second = _queued(world, 2)
    ReviewTask.objects.filter(claim=first).update(assignee=world.lead)
    ReviewTask.objects.filter(claim=second).update(due_at=timezone.now())
    done = f.ClaimFactory(approved=True, partner=world.partner, program=world.program)
    f.ReviewTaskFactory(claim=done, state="done", closed_at=timezone.now(), outcome="approved")
    few = {view: queries({"view": view}) for view in ("open", "mine", "overdue", "decided")}
    claims = _queued(world, 30, partner=world.rival)
    for claim in claims[:10]:
        ReviewTask.objects.filter(claim=claim).update(assignee=world.lead)
    for claim in claims[10:20]:
        ReviewTask.objects.filter(claim=claim).update(
            due_at=timezone.now() - datetime.timedelta(days=2)
        )
    many = {view: queries({"view": view}) for view in ("open", "mine", "overdue", "decided")}
    assert few == many
    assert queries({"view": "open", "page": 2}) == many["open"]
    # The partner is looked up first (one query), then the queue filtered by its id.
    assert queries({"partner": "fabrikam", "reason": "not_in_catalog"}) == many["open"] + 1
    assert queries({"q": "Woodgrove"}) == many["open"] + 2
    assert max(many.values()) <= 16


# --- Bulk work ------------------------------------------------------------------------------


def test_a_reviewer_bulk_approves_each_claim_as_its_own_decision(client, world):
    claims = _queued(world, 3)
    client.force_login(world.reviewer)
    picked = [c.reference for c in claims[:2]]
    response = client.post(reverse("review_bulk_approve") + "?view=open", {"bulk-claims": picked})
    assert response.status_code == 302 and response.url == QUEUE + "?view=open"
    for claim in claims[:2]:
        claim.refresh_from_db()
        assert claim.status == Claim.Status.APPROVED
        decided = Event.objects.filter(claim=claim, action=ClaimAction.DECIDE)
        assert decided.count() == 1 and decided.get().actor == world.reviewer
        assert LineVerdict.objects.filter(line__claim=claim, approved=True).count() == 1
    claims[2].refresh_from_db()
    assert claims[2].status == Claim.Status.IN_REVIEW


def test_a_bulk_reject_needs_a_reason_and_keeps_what_was_typed(client, world, reason):
    claims = _queued(world, 2)
    client.force_login(world.reviewer)
    refs = [c.reference for c in claims]
    response = client.post(
        reverse("review_bulk_reject"), {"bulk-claims": refs, "bulk-note": "No proof of delivery"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Give the reason for rejecting" in body
    assert "No proof of delivery" in body
    assert response.context["picked"] == refs
    assert body.count("checked") >= 2
    response = client.post(
        reverse("review_bulk_reject"),
        {"bulk-claims": refs, "bulk-reason": reason.pk, "bulk-note": "No proof of delivery"},
    )
    assert response.status_code == 302
    for claim in claims:
        claim.refresh_from_db()
        assert claim.status == Claim.Status.REJECTED
        event = Event.objects.get(claim=claim, action=ClaimAction.DECIDE)
        assert event.changes["reasons"] == {
            claim.lines.get().workload.code: "Not eligible in this program: No proof of delivery"
        }
        verdict = LineVerdict.objects.get(line__claim=claim)
        assert (verdict.reason, verdict.note) == (reason, "No proof of delivery")


def test_bulk_work_reports_a_claim_someone_else_decided(client, world):
    first, second = _queued(world, 2)
    Claim.objects.filter(pk=second.pk).update(status=Claim.Status.APPROVED)
    client.force_login(world.reviewer)
    response = client.post(
        reverse("review_bulk_approve"),
        {"bulk-claims": [first.reference, second.reference]},
        follow=True,
    )
    body = response.content.decode()
    assert f"{second.reference} was left as it was" in body
    assert first.reference in body
    first.refresh_from_db()
    assert first.status == Claim.Status.APPROVED


def test_bulk_work_needs_a_selection(client, world):
    client.force_login(world.reviewer)
    response = client.post(reverse("review_bulk_approve"), {})
    assert response.status_code == 400
    assert "Tick the claims to approve" in response.content.decode()


def test_a_lead_assigns_several_items_at_once_each_in_the_history(client, world):
    claims = _queued(world, 3)
    client.force_login(world.lead)
    response = client.post(
        reverse("review_bulk_assign"),
        {"bulk-claims": [c.reference for c in claims[:2]], "bulk-assignee": world.reviewer.pk},
    )
    assert response.status_code == 302
    for claim in claims[:2]:
        assert _task(claim).assignee == world.reviewer
        event = Event.objects.get(claim=claim, action=ClaimAction.ASSIGN)
        assert event.actor == world.lead
        assert event.changes == {"assignee": world.reviewer.email, "previous": ""}
    assert _task(claims[2]).assignee is None


def test_a_reviewer_cannot_bulk_assign(client, world):
    claims = _queued(world, 1)
    client.force_login(world.reviewer)
    response = client.post(
        reverse("review_bulk_assign"),
        {"bulk-claims": [claims[0].reference], "bulk-assignee": world.reviewer.pk},
    )
    assert response.status_code == 403
    assert _task(claims[0]).assignee is None


def test_the_queue_offers_assignment_to_leads_only(client, world):
    _queued(world)
    client.force_login(world.reviewer)
    assert client.get(QUEUE).context["assign_form"] is None
    client.force_login(world.lead)
    assert client.get(QUEUE).context["assign_form"] is not None


def test_bulk_pick_lines_only_in_review(client, world):
    claim = _queued(world)[0]
    extra = f.WorkloadFactory(code="purview", name="Purview")
    ClaimLine.objects.create(
        claim=claim,
        workload=extra,
        target_start=timezone.localdate(),
        target_end=timezone.localdate(),
        seats=10,
        status=ClaimLine.Status.APPROVED,
    )
    client.force_login(world.reviewer)
    client.post(reverse("review_bulk_approve"), {"bulk-claims": [claim.reference]})
    assert LineVerdict.objects.filter(line__claim=claim).count() == 1
