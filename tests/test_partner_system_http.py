"""The HTTP adapter against a fake partner system on the loopback: pages, cursors, bearer
token, retries with back-off, timeouts and 500s failing the run visibly, TLS."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from claims_portal.partner_system import services
from claims_portal.partner_system.adapters import HttpAdapter
from claims_portal.partner_system.models import DecisionExport, SyncRun, SyncState
from customers.models import Association, UsageSnapshot
from tests import factories as f
from tests.partner_system_fakes import (
    TOKEN,
    Answer,
    FakePartnerSystem,
    page,
    self_signed_certificate,
)


@pytest.fixture
def ids(world):
    world.customer.tenant_id = "woodgrove.example"
    world.customer.save()
    world.partner.partner_id = "P-CONTOSO"
    world.partner.save()
    return world


@pytest.fixture
def fake():
    with FakePartnerSystem() as server:
        yield server


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def adapter(fake, **kwargs) -> HttpAdapter:
    kwargs.setdefault("sleep", Sleeps())
    kwargs.setdefault("timeout", 2)
    kwargs.setdefault("retries", 3)
    kwargs.setdefault("backoff", 0.5)
    return HttpAdapter(fake.url, TOKEN, **kwargs)


def sync(http: HttpAdapter, **kwargs) -> SyncRun:
    return services.run_sync(trigger=SyncRun.Trigger.COMMAND, adapter=http, **kwargs)


ROW = {
    "tenant_id": "woodgrove.example",
    "workload": "exchange",
    "partner_id": "P-CONTOSO",
    "since": "2026-01-05",
}


def usage_row(day: str, active: int) -> dict:
    return {
        "tenant_id": "woodgrove.example",
        "workload": "teams",
        "date": day,
        "active_users": active,
        "licensed_seats": 100,
    }


def test_pages_are_followed_and_the_cursor_is_kept_for_the_next_run(fake, ids):
    fake.answer(
        "GET /associations",
        page([ROW], next_cursor="p2", as_of="2026-11-23T10:00:00Z"),
        page([{**ROW, "workload": "teams"}], as_of="2026-11-23T10:00:00Z"),
        page([], as_of="2026-11-24T10:00:00Z"),
    )
    fake.answer(
        "GET /usage",
        page(
            [usage_row("2026-11-20", 10), usage_row("2026-11-21", 12)], as_of="2026-11-23T10:00:05Z"
        ),
        page([], as_of="2026-11-24T10:00:05Z"),
    )
    run = sync(adapter(fake))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.files_imported, run.rows_created) == (2, 4)
    assert Association.objects.filter(origin="partner_system").count() == 2
    assert UsageSnapshot.objects.count() == 2
    first, second = fake.requests("GET /associations")[:2]
    assert first.query == {} and second.query == {"cursor": ["p2"]}
    assert all(s.headers["Authorization"] == f"Bearer {TOKEN}" for s in fake.seen)
    assert SyncState.objects.get().cursors == {
        "associations": "2026-11-23T10:00:00Z",
        "usage": "2026-11-23T10:00:05Z",
    }
    again = sync(adapter(fake))
    assert again.status == SyncRun.Status.SUCCEEDED and again.rows_read == 0
    assert fake.requests("GET /associations")[-1].query == {"since": ["2026-11-23T10:00:00Z"]}
    assert fake.requests("GET /usage")[-1].query == {"since": ["2026-11-23T10:00:05Z"]}


def test_since_asks_the_feed_from_that_date(fake, ids):
    fake.answer("GET /associations", page([]))
    fake.answer("GET /usage", page([]))
    sync(adapter(fake), since=datetime.date(2026, 1, 1))
    assert fake.requests("GET /usage")[0].query == {"since": ["2026-01-01"]}


def test_a_500_is_retried_with_back_off_and_then_succeeds(fake, ids):
    fake.answer("GET /associations", Answer(500, {}), Answer(503, {}), page([ROW]))
    fake.answer("GET /usage", page([]))
    http = adapter(fake)
    run = sync(http)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert http.sleep == [0.5, 1.0]
    assert len(fake.requests("GET /associations")) == 3


def test_a_partner_system_that_keeps_failing_fails_the_run_visibly_and_applies_nothing(fake, ids):
    fake.answer("GET /associations", page([ROW], next_cursor="p2"), Answer(500, {"error": "down"}))
    fake.answer("GET /usage", page([]))
    http = adapter(fake)
    run = sync(http)
    assert run.status == SyncRun.Status.FAILED
    assert run.error == "GET /associations?cursor=p2: HTTP 500 after 4 attempts."
    assert http.sleep == [0.5, 1.0, 2.0]
    # The first page arrived, but the feed is applied whole or not at all.
    assert not Association.objects.filter(origin="partner_system").exists()
    assert SyncState.objects.get().cursors == {}
    assert SyncState.objects.get().lease_owner is None


def test_a_timeout_is_retried_then_fails_the_run(fake, ids):
    fake.answer("GET /associations", Answer(200, {"rows": []}, delay=1.5))
    http = adapter(fake, timeout=0.3, retries=1)
    run = sync(http)
    assert run.status == SyncRun.Status.FAILED
    assert "no answer" in run.error and "after 2 attempts" in run.error
    assert http.sleep == [0.5]


def test_retry_after_is_honoured(fake, ids):
    fake.answer("GET /associations", Answer(429, {}, headers={"Retry-After": "3"}), page([]))
    fake.answer("GET /usage", page([]))
    http = adapter(fake)
    assert sync(http).status == SyncRun.Status.SUCCEEDED
    assert http.sleep == [3.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_refusal_is_not_retried(fake, ids, status):
    fake.answer("GET /associations", Answer(status, {}))
    http = adapter(fake)
    run = sync(http)
    assert run.status == SyncRun.Status.FAILED
    assert f"refused with HTTP {status}" in run.error
    assert http.sleep == []


def test_a_wrong_token_is_refused_and_reported(fake, ids):
    fake.answer("GET /associations", page([ROW]))
    run = sync(HttpAdapter(fake.url, "wrong-token", sleep=Sleeps(), retries=2))
    assert run.status == SyncRun.Status.FAILED and "HTTP 401" in run.error


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(200, raw=b"<html>maintenance</html>"), "not a page of rows"),
        (Answer(200, {"data": []}), "not a page of rows"),
        (Answer(200, {"rows": "nope"}), "not a page of rows"),
        (page([ROW], next_cursor="same"), "repeats a cursor"),
    ],
)
def test_a_malformed_answer_fails_the_run(fake, ids, answer, message):
    fake.answer("GET /associations", answer)
    run = sync(adapter(fake))
    assert run.status == SyncRun.Status.FAILED and message in run.error
    assert not Association.objects.filter(origin="partner_system").exists()


def test_bad_rows_in_a_feed_are_rejected_with_their_number(fake, ids):
    fake.answer("GET /associations", page([ROW, {**ROW, "workload": "nope"}, "not an object"]))
    fake.answer("GET /usage", page([]))
    run = sync(adapter(fake))
    assert run.status == SyncRun.Status.SUCCEEDED
    assert [(r.row_number, r.reason) for r in run.rejections.order_by("row_number")] == [
        (2, "Unknown workload “nope”."),
        (3, "The item is not an object with named fields."),
    ]


def test_decisions_are_posted_once_with_an_idempotency_key(fake, ids):
    fake.answer("GET /associations", page([]))
    fake.answer("GET /usage", page([]))
    fake.answer("POST /decisions", Answer(500, {}), Answer(200, {"ok": True}))
    claim = f.ClaimFactory(
        approved=True, partner=ids.partner, customer=ids.customer, program=ids.program
    )
    http = adapter(fake, retries=0)
    failed = sync(http)
    assert failed.status == SyncRun.Status.FAILED and "POST /decisions" in failed.error
    pending = DecisionExport.objects.get()
    assert pending.delivered_at is None
    done = sync(adapter(fake, retries=0))
    assert done.status == SyncRun.Status.SUCCEEDED and done.decisions_exported == 1
    posts = fake.requests("POST /decisions")
    assert len(posts) == 2
    assert {p.headers["Idempotency-Key"] for p in posts} == {str(pending)}
    assert posts[1].body["export"] == str(pending)
    [row] = posts[1].body["rows"]
    assert (row["claim"], row["partner_id"], row["tenant_id"], row["outcome"]) == (
        claim.reference,
        "P-CONTOSO",
        "woodgrove.example",
        "approved",
    )
    assert DecisionExport.objects.count() == 1
    assert sync(adapter(fake)).decisions_exported == 0


def test_it_speaks_https_with_the_configured_ca(tmp_path, ids):
    cert, key = self_signed_certificate(tmp_path)
    with FakePartnerSystem(tls=(cert, key)) as server:
        server.answer("GET /associations", page([ROW]))
        server.answer("GET /usage", page([]))
        assert server.url.startswith("https://127.0.0.1:")
        run = sync(HttpAdapter(server.url, TOKEN, ca_file=cert, sleep=Sleeps(), retries=0))
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        assert run.rows_created == 1
        # Without the CA the certificate is not trusted, and the run says so.
        untrusted = sync(HttpAdapter(server.url, TOKEN, sleep=Sleeps(), retries=0))
        assert untrusted.status == SyncRun.Status.FAILED
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.error


@pytest.mark.parametrize(
    ("url", "token", "message"),
    [
        ("http://partners.vendor.example/api", TOKEN, "must use https://"),
        ("ftp://partners.vendor.example/api", TOKEN, "must be an https:// address"),
        ("", TOKEN, "must be an https:// address"),
        ("https://partners.vendor.example/api", "", "Set PARTNER_SYSTEM_TOKEN"),
    ],
)
def test_a_bad_configuration_fails_loudly(url, token, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        HttpAdapter(url, token)
