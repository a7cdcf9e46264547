"""/partner/: counts, claim limit, filters, search, sort, pages, CSV, bulk confirm."""

from __future__ import annotations

import csv
import datetime
import io
import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from claims import lifecycle
from claims.events import verify_chain
from claims.models import Claim, ClaimAction, Event
from tests import factories as f
from tests.prepared import prepared

S = Claim.Status
URL = "/partner/"


def _claim(world, *, customer=None, workloads=None, partner=None, **traits):
    return f.ClaimFactory(
        partner=partner or world.partner,
        customer=customer or world.customer,
        program=world.program,
        created_by=world.approver,
        workloads=workloads or [world.workloads[0]],
        **traits,
    )


def _refs(response) -> list[str]:
    page = response.context["page_obj"]
    return [claim.reference for claim in page]


@pytest.fixture
def listed(world):
    """A partner's claims in every state it sees, and some it must not see."""
    northwind = f.CustomerFactory(name="Northwind Traders", tenant_id="northwind.example")
    claims = {
        "waiting": _claim(world, submitted=True),
        "waiting_northwind": _claim(world, customer=northwind, submitted=True),
        "returned": _claim(world, returned=True, workloads=[world.workloads[1]]),
        "review": _claim(world, in_review=True),
        "approved": _claim(world, approved=True, workloads=[world.workloads[2]]),
    }
    hidden = {
        "draft": _claim(world),
        "routed": _claim(world, routed=True),
        "rival": _claim(world, partner=world.rival, submitted=True),
    }
    return claims, hidden


def test_it_counts_what_the_partner_sees_by_state(client, world, listed):
    claims, hidden = listed
    prepared(world)
    client.force_login(world.partner_member)
    response = client.get(URL)
    cards = {status: n for status, _label, n in response.context["status_cards"]}
    assert cards[S.AWAITING_PARTNER] == 2
    assert cards[S.AWAITING_CUSTOMER_APPROVAL] == 1  # only the one Contoso prepared
    assert cards[S.RETURNED_TO_CUSTOMER] == cards[S.IN_REVIEW] == cards[S.APPROVED] == 1
    assert S.DRAFT not in cards
    listed_refs = _refs(response)
    assert all(c.reference in listed_refs for c in claims.values())
    assert not any(c.reference in listed_refs for c in hidden.values())
    assert "2 claims are waiting for your confirmation" in response.content.decode()


def test_it_shows_the_claim_limit_and_how_much_is_used(client, world):
    world.program.claim_limit_per_partner = 3
    world.program.save()
    for workload in world.workloads[:2]:
        _claim(world, approved=True, workloads=[workload], customer=f.CustomerFactory())
    _claim(world, approved=True, partner=world.rival)  # not ours
    client.force_login(world.partner_member)
    body = client.get(URL).content.decode()
    assert '<span class="fw-semibold">2</span> of 3 approved claims used' in body
    assert "limit reached" not in body
    _claim(world, approved=True, workloads=[world.workloads[2]], customer=f.CustomerFactory())
    body = client.get(URL).content.decode()
    assert "limit reached: new claims go to the claims team" in body


def test_a_program_without_a_limit_says_so(client, world):
    client.force_login(world.partner_member)
    assert "No claim limit in this program" in client.get(URL).content.decode()


FILTERS = {
    "status": ({"status": S.RETURNED_TO_CUSTOMER}, ["returned"]),
    "needs action": ({"needs_action": "1"}, ["waiting", "waiting_northwind"]),
    "customer tenant": ({"customer": "NORTHWIND.example"}, ["waiting_northwind"]),
    "search customer": ({"q": "northw"}, ["waiting_northwind"]),
    "search tenant": ({"q": "wind.exam"}, ["waiting_northwind"]),
    "workload": (lambda w: {"workload": w.workloads[1].pk}, ["returned"]),
    "program": (lambda w: {"program": w.program.pk}, "all"),
}


@pytest.mark.parametrize("case", list(FILTERS))
def test_each_filter_selects_its_claims(client, world, listed, case):
    claims, _ = listed
    params, expected = FILTERS[case]
    if callable(params):
        params = params(world)
    client.force_login(world.partner_member)
    response = client.get(URL, params)
    assert response.status_code == 200
    wanted = set(claims) if expected == "all" else set(expected)
    assert set(_refs(response)) == {claims[name].reference for name in wanted}


def test_search_finds_a_reference_by_part_of_it(client, world, listed):
    claims, hidden = listed
    client.force_login(world.partner_member)
    target = claims["review"].reference
    assert _refs(client.get(URL, {"q": target[-6:]})) == [target]
    assert _refs(client.get(URL, {"q": target.lower()})) == [target]
    assert _refs(client.get(URL, {"q": hidden["rival"].reference})) == []


def test_overdue_and_the_submitted_range(client, world, listed):
    claims, _ = listed
    now = timezone.now()
    Claim.objects.filter(pk=claims["waiting"].pk).update(
        due_at=now - datetime.timedelta(days=1), submitted_at=now - datetime.timedelta(days=20)
    )
    client.force_login(world.partner_member)
    assert _refs(client.get(URL, {"overdue": "1"})) == [claims["waiting"].reference]
    day = timezone.localdate(now - datetime.timedelta(days=20)).isoformat()
    response = client.get(URL, {"submitted_from": day, "submitted_to": day})
    assert _refs(response) == [claims["waiting"].reference]
    body = client.get(URL, {"overdue": "1"}).content.decode()
    assert "1 day overdue" in body


@pytest.mark.parametrize(
    "params",
    [
        {"status": "draft"},
        {"status": "bogus"},
        {"submitted_from": "not-a-date"},
        {"program": "999999"},
        {"workload": "abc"},
        {"sort": "password"},
        {"q": "x" * 101},
        {"page": "abc"},
        {"page": "999999"},
        {"customer": "y" * 65},
    ],
)
def test_bad_parameters_are_form_errors_never_a_500(client, world, listed, params):
    client.force_login(world.partner_member)
    response = client.get(URL, params)
    assert response.status_code == 200
    if "page" not in params:
        assert response.context["filter"].errors
        assert "Correct the filter above to see claims." in response.content.decode()


def test_a_program_of_another_partner_is_not_offered(client, world):
    other = f.ProgramFactory(name="Fabrikam only")
    f.catalog(world.rival, other, world.workloads[:1])
    client.force_login(world.partner_member)
    body = client.get(URL).content.decode()
    assert world.program.name in body and "Fabrikam only" not in body
    response = client.get(URL, {"program": other.pk})
    assert response.context["filter"].errors


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("newest", lambda c: (-c.created_at.timestamp(), -c.pk)),
        ("oldest", lambda c: (c.created_at.timestamp(), c.pk)),
        ("reference", lambda c: (c.reference, -c.pk)),
    ],
)
def test_sorting(client, world, sort, key):
    claims = [_claim(world, submitted=True, customer=f.CustomerFactory()) for _ in range(4)]
    client.force_login(world.partner_member)
    assert _refs(client.get(URL, {"sort": sort})) == [c.reference for c in sorted(claims, key=key)]


def test_due_soonest_first(client, world):
    claims = [_claim(world, submitted=True, customer=f.CustomerFactory()) for _ in range(3)]
    now = timezone.now()
    for days, claim in zip([3, 1, 2], claims, strict=True):
        Claim.objects.filter(pk=claim.pk).update(due_at=now + datetime.timedelta(days=days))
    client.force_login(world.partner_member)
    assert _refs(client.get(URL, {"sort": "due"})) == [claims[i].reference for i in (1, 2, 0)]


def test_pages_hold_every_claim_once_in_order(client, world):
    claims = [_claim(world, submitted=True, customer=f.CustomerFactory()) for _ in range(53)]
    expected = [
        c.reference for c in sorted(claims, key=lambda c: (c.created_at, c.pk), reverse=True)
    ]
    client.force_login(world.partner_member)
    seen = []
    for page in (1, 2, 3):
        response = client.get(URL, {"page": page, "sort": "newest"})
        seen += _refs(response)
    assert seen == expected
    assert "Showing 51–53 of 53" in response.content.decode()
    assert _refs(client.get(URL, {"page": 99})) == expected[50:]


def test_the_csv_is_exactly_the_filtered_rows(client, world, listed):
    claims, _ = listed
    prepared(world)
    client.force_login(world.partner_member)
    response = client.get(URL, {"export": "csv", "needs_action": "1"})
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Reference", "Status", "Customer"] and "Custom SOW" in header
    refs = sorted(row[0] for row in body)
    assert refs == sorted([claims["waiting"].reference, claims["waiting_northwind"].reference])
    everything = client.get(URL, {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode())))
    prepared_rows = [row for row in rows[1:] if row[header.index("Custom SOW")] == "SOW"]
    assert len(prepared_rows) == 1 and len(rows) == 1 + len(claims) + 1


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL, params).status_code == 200
    return len(ctx)


def test_the_number_of_queries_is_the_same_however_many_claims_and_whatever_the_filter(
    client, world
):
    client.force_login(world.partner_member)
    variants = [
        {},
        {"status": S.AWAITING_PARTNER},
        {"q": "north"},
        {"needs_action": "1", "overdue": "1", "sort": "due"},
        {"workload": world.workloads[0].pk, "program": world.program.pk},
        {"page": 2},
    ]
    counts = {}
    for size in (3, 40):
        while Claim.objects.filter(partner=world.partner).count() < size:
            _claim(world, submitted=True, customer=f.CustomerFactory())
        counts[size] = [_queries(client, params) for params in variants]
    # Independent of the number of claims; a filter adds at most the query that checks its
    # choice (program, service), an empty page skips reading rows.
    assert counts[3] == counts[40], counts
    assert max(counts[40]) <= 16, counts


# --- Bulk confirm ------------------------------------------------------------------------


def test_it_confirms_several_each_with_its_own_transition(
    client, world, django_capture_on_commit_callbacks
):
    claims = [_claim(world, submitted=True, customer=f.CustomerFactory()) for _ in range(2)]
    client.force_login(world.partner_member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("partner_bulk_confirm"),
            {"claims": [c.reference for c in claims], "next": "/partner/?needs_action=1"},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == "/partner/?needs_action=1"
    body = response.content.decode()
    assert "Confirmed 2 claims: " + ", ".join(c.reference for c in claims) in body
    for claim in claims:
        claim.refresh_from_db()
        assert claim.status in (S.APPROVED, S.IN_REVIEW)  # checked by the engine after commit
        confirm = Event.objects.get(claim=claim, action=ClaimAction.CONFIRM)
        assert confirm.actor == world.partner_member
        assert verify_chain(claim) == []


def test_a_mix_of_states_confirms_what_it_can_and_names_the_rest(client, world):
    ok = _claim(world, submitted=True, customer=f.CustomerFactory())
    moved = _claim(world, submitted=True, customer=f.CustomerFactory())
    theirs = _claim(world, submitted=True, partner=world.rival)
    lifecycle.return_to_customer(moved, user=world.partner_admin, comment="Wrong dates")
    client.force_login(world.partner_member)
    response = client.post(
        reverse("partner_bulk_confirm"),
        {"claims": [ok.reference, moved.reference, theirs.reference]},
        follow=True,
    )
    body = response.content.decode()
    assert f"Confirmed 1 claim: {ok.reference}" in body
    assert "2 claims were not confirmed" in body
    assert f"Claim {moved.reference} is now “Returned to customer”" in body
    assert f"{theirs.reference}: no such claim of yours" in body
    assert "Fabrikam" not in body
    for claim, status in [
        (ok, S.EVALUATING),
        (moved, S.RETURNED_TO_CUSTOMER),
        (theirs, S.AWAITING_PARTNER),
    ]:
        claim.refresh_from_db()
        assert claim.status == status


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ([], "Tick the claims to confirm first."),
        (["CLM-2026-00001x", "<script>"], "These are not claim references"),
        ([f"CLM-2026-{n:06d}" for n in range(101)], "Confirm at most 100 claims at once."),
    ],
)
def test_bulk_confirm_refuses_bad_input_and_changes_nothing(client, world, claims, says):
    waiting = _claim(world, submitted=True)
    client.force_login(world.partner_member)
    response = client.post(reverse("partner_bulk_confirm"), {"claims": claims}, follow=True)
    assert says in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == S.AWAITING_PARTNER


def test_bulk_confirm_is_for_partners_and_posts_only(client, world):
    claim = _claim(world, submitted=True)
    client.force_login(world.approver)
    assert (
        client.post(reverse("partner_bulk_confirm"), {"claims": [claim.reference]}).status_code
        == 403
    )
    client.force_login(world.partner_member)
    assert client.get(reverse("partner_bulk_confirm")).status_code == 405
    response = client.post(
        reverse("partner_bulk_confirm"),
        {"claims": [claim.reference], "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("partner_dashboard")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_members_bulk_confirming_at_once_confirm_each_claim_once(
    world, stray_connections_closed
):
    claims = [_claim(world, submitted=True, customer=f.CustomerFactory()) for _ in range(4)]
    refs = [c.reference for c in claims]
    barrier = threading.Barrier(2)
    pages = [None, None]

    def run(index, user):
        browser = Client()
        browser.force_login(user)
        try:
            barrier.wait(timeout=10)
            pages[index] = browser.post(
                reverse("partner_bulk_confirm"), {"claims": refs}, follow=True
            ).content.decode()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(0, world.partner_member)),
        threading.Thread(target=run, args=(1, world.partner_admin)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for claim in claims:
        assert Event.objects.filter(claim=claim, action=ClaimAction.CONFIRM).count() == 1
    told = sum(page.count("can no longer be confirmed") for page in pages)
    confirmed = sum(sum(ref in page.split("not confirmed")[0] for ref in refs) for page in pages)
    assert told == 4 and confirmed >= 4
