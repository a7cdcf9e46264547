"""The list convention on every list page: filters, sort, pages, CSV of exactly the rows."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.models import Claim
from tests import factories as f

S = Claim.Status


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming, "a CSV export is streamed, not built in memory"
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def _claims(world, n, *, partner=None, customer=None, **traits):
    return [
        f.ClaimFactory(
            partner=partner or world.partner,
            customer=customer or world.customer,
            program=world.program,
            created_by=world.approver,
            workloads=[world.workloads[i % 3]],
            **traits,
        )
        for i in range(n)
    ]


# Each list: URL name, who asks, how to make rows it shows, the reference column index.
LISTS = {
    "customer": ("customer_claims", "approver", lambda w, n, **t: _claims(w, n, **t)),
    "partner": ("partner_dashboard", "partner_member", lambda w, n, **t: _claims(w, n, **t)),
    "queue": ("review_queue", "reviewer", lambda w, n, **t: _claims(w, n, in_review=True)),
}


def _arrange(world, which):
    name, who, make = LISTS[which]
    submitted = make(world, 3, submitted=True)
    returned = make(world, 2, returned=True)
    return name, getattr(world, who), submitted, returned


@pytest.mark.parametrize("which", list(LISTS))
def test_it_exports_exactly_the_rows_listed(client, world, which):
    name, user, submitted, returned = _arrange(world, which)
    client.force_login(user)
    rows = _csv(client.get(reverse(name), {"export": "csv"}))
    header, body = rows[0], rows[1:]
    assert "Reference" in header
    column = header.index("Reference")
    page = client.get(reverse(name)).content.decode()
    listed = {claim.reference for claim in submitted + returned if claim.reference in page}
    assert {row[column] for row in body} == listed
    assert len(body) == len(listed) > 0


@pytest.mark.parametrize("which", ["customer", "partner"])
def test_it_exports_the_filtered_rows(client, world, which):
    name, user, submitted, returned = _arrange(world, which)
    client.force_login(user)
    rows = _csv(client.get(reverse(name), {"export": "csv", "status": S.RETURNED_TO_CUSTOMER}))
    column = rows[0].index("Reference")
    assert sorted(row[column] for row in rows[1:]) == sorted(c.reference for c in returned)
    page = client.get(reverse(name), {"status": S.RETURNED_TO_CUSTOMER}).content.decode()
    assert all(c.reference in page for c in returned)
    assert not any(c.reference in page for c in submitted)


def test_it_searches_and_sorts(client, world):
    first, second = _claims(world, 2, submitted=True)
    client.force_login(world.partner_member)
    rows = _csv(client.get(reverse("partner_dashboard"), {"export": "csv", "sort": "oldest"}))
    assert [r[0] for r in rows[1:]] == [first.reference, second.reference]
    rows = _csv(client.get(reverse("partner_dashboard"), {"export": "csv", "sort": "reference"}))
    assert [r[0] for r in rows[1:]] == sorted([first.reference, second.reference])
    rows = _csv(client.get(reverse("partner_dashboard"), {"export": "csv", "q": second.reference}))
    assert [r[0] for r in rows[1:]] == [second.reference]


@pytest.mark.parametrize("which", list(LISTS))
@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"sort": "sideways"},
        {"submitted_from": "yesterday"},
        {"program": "999999"},
        {"program": "x"},
        {"q": "x" * 500},
        {"page": "zzz"},
        {"export": "pdf"},
    ],
    ids=["status", "sort", "date", "program-missing", "program-bad", "long-search", "page", "exp"],
)
def test_it_explains_bad_parameters_and_never_fails(client, world, which, params):
    name, user, *_ = _arrange(world, which)
    client.force_login(user)
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_a_bad_filter_is_shown_and_lists_nothing(client, world):
    _claims(world, 2, submitted=True)
    client.force_login(world.partner_member)
    page = client.get(reverse("partner_dashboard"), {"status": "bogus"}).content.decode()
    assert "Select a valid choice" in page
    assert "Correct the filter above to see claims." in page
    response = client.get(reverse("partner_dashboard"), {"status": "bogus", "export": "csv"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_a_csv_cell_never_runs_as_a_formula(client, world):
    customer = f.CustomerFactory(name='=HYPERLINK("http://evil")')
    _claims(world, 1, customer=customer, submitted=True)
    client.force_login(world.partner_member)
    rows = _csv(client.get(reverse("partner_dashboard"), {"export": "csv"}))
    assert rows[1][rows[0].index("Customer")] == '\'=HYPERLINK("http://evil")'


def test_a_partner_never_sees_another_partners_rows(client, world):
    _claims(world, 2, partner=world.rival, submitted=True)
    mine = _claims(world, 1, submitted=True)
    client.force_login(world.partner_member)
    rows = _csv(client.get(reverse("partner_dashboard"), {"export": "csv"}))
    assert [r[0] for r in rows[1:]] == [mine[0].reference]
    assert "Fabrikam" not in str(rows)


def _queries(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize("which", list(LISTS))
@pytest.mark.parametrize("params", [{}, {"export": "csv"}, {"status": S.AWAITING_PARTNER}])
def test_it_keeps_the_queries_constant_as_rows_grow(client, world, which, params):
    name, who, make = LISTS[which]
    client.force_login(getattr(world, who))
    make(world, 2, submitted=True)
    few = _queries(client, reverse(name), params)
    make(world, 30, submitted=True)
    assert _queries(client, reverse(name), params) == few
