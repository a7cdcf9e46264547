"""Importing associations and usage from the file drop: counts, rejections, conflicts,
idempotence, whole files or nothing, resuming after a crash, dry runs."""

from __future__ import annotations

import datetime
import json
import tracemalloc
from decimal import Decimal

import pytest
from django.db.models import ProtectedError
from django.utils import timezone

from claims_portal.partner_system import importers, services
from claims_portal.partner_system.adapters import FileAdapter
from claims_portal.partner_system.models import (
    SyncConflict,
    SyncFile,
    SyncRejection,
    SyncRun,
)
from customers.models import Association, UsageSnapshot
from tests import factories as f
from tests.partner_system_fakes import csv_text, drop

D = datetime.date
ASSOC = "tenant_id,workload,partner_id,since,ended_on"
USAGE = "tenant_id,workload,date,active_users,licensed_seats"


@pytest.fixture
def folder(tmp_path, settings):
    settings.PARTNER_SYSTEM_DIR = tmp_path / "partner-system"
    return settings.PARTNER_SYSTEM_DIR


@pytest.fixture
def ids(world):
    """Tenant ids and partner ids the files use."""
    world.customer.tenant_id = "woodgrove.example"
    world.customer.save()
    world.other_customer.tenant_id = "tailspin.example"
    world.other_customer.save()
    world.partner.partner_id = "P-CONTOSO"
    world.partner.save()
    world.rival.partner_id = "P-FABRIKAM"
    world.rival.save()
    return world


def sync(folder, **kwargs) -> SyncRun:
    return services.run_sync(trigger=SyncRun.Trigger.COMMAND, adapter=FileAdapter(folder), **kwargs)


def _active(customer, code):
    return Association.objects.filter(customer=customer, workload__code=code, ended_on=None).first()


def _rejections(run):
    return [
        (r.file.name, r.row_number, r.reason) for r in run.rejections.order_by("file", "row_number")
    ]


# --- Associations ------------------------------------------------------------------------


def test_associations_are_created_and_counted(folder, ids):
    drop(
        folder,
        "associations-1.csv",
        csv_text(
            ASSOC,
            "woodgrove.example,exchange,P-CONTOSO,2026-01-05,",
            "woodgrove.example,teams,P-FABRIKAM,2026-02-01,",
            "tailspin.example,exchange,P-FABRIKAM,2025-06-30,",
        ),
    )
    run = sync(folder)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.files_imported, run.rows_read, run.rows_created, run.rows_rejected) == (1, 3, 3, 0)
    exchange = _active(ids.customer, "exchange")
    assert (exchange.partner, exchange.since, exchange.origin) == (
        ids.partner,
        D(2026, 1, 5),
        Association.Origin.PARTNER_SYSTEM,
    )
    assert exchange.source_claim is None
    assert (folder / "inbox" / "associations-1.csv").exists() is False
    assert list((folder / "archive").glob("*/associations-1.csv"))


ASSOCIATION_ROW_ERRORS = [
    ("nobody.example,exchange,P-CONTOSO,2026-01-05,", "Unknown customer tenant “nobody.example”."),
    ("woodgrove.example,sharepoint,P-CONTOSO,2026-01-05,", "Unknown workload “sharepoint”."),
    ("woodgrove.example,exchange,P-NOBODY,2026-01-05,", "Unknown partner “P-NOBODY”."),
    (
        "woodgrove.example,exchange,P-CONTOSO,05/01/2026,",
        "since “05/01/2026” is not a date (YYYY-MM-DD).",
    ),
    ("woodgrove.example,exchange,P-CONTOSO,2026-01-05,2025-01-01", "ended_on is before since."),
    ("woodgrove.example,exchange,P-CONTOSO,2026-01-05,never", "ended_on “never” is not a date"),
    ("woodgrove.example,exchange,P-CONTOSO,2999-01-01,", "since 2999-01-01 is in the future."),
    (",exchange,P-CONTOSO,2026-01-05,", "tenant_id is empty."),
    ("woodgrove.example,,P-CONTOSO,2026-01-05,", "workload is empty."),
    ("woodgrove.example,exchange,,2026-01-05,", "partner_id is empty."),
    ("woodgrove.example,exchange,P-CONTOSO,,", "since is empty."),
    ("woodgrove.example,exchange,P-CONTOSO", "The row has 3 cells; the header 5."),
    ("x" * 65 + ",exchange,P-CONTOSO,2026-01-05,", "tenant_id is longer than 64 characters."),
    (
        "woodgrove.example,teams,P-CONTOSO,2026-01-05,\nwoodgrove.example,TEAMS,P-FABRIKAM,2026-01-06,",
        "The customer workload is listed twice (first on row 3).",
    ),
]


@pytest.mark.parametrize(("row", "reason"), ASSOCIATION_ROW_ERRORS)
def test_a_wrong_association_row_is_rejected_with_its_number_and_the_rest_applied(
    folder, ids, row, reason
):
    content = csv_text(ASSOC, "tailspin.example,intune,P-CONTOSO,2026-03-01,", row)
    drop(folder, "associations-2.csv", content)
    run = sync(folder)
    assert run.status == SyncRun.Status.SUCCEEDED
    [(name, number, why)] = _rejections(run)
    assert (name, number) == ("associations-2.csv", 3 + row.count("\n"))
    assert reason in why
    assert _active(ids.other_customer, "intune").partner == ids.partner
    assert run.rows_rejected == 1


def test_a_portal_association_is_not_overwritten_the_claims_team_gets_a_conflict(folder, ids):
    portal = f.AssociationFactory(
        customer=ids.customer, workload=ids.workloads[0], partner=ids.partner, since=D(2026, 1, 1)
    )
    content = csv_text(ASSOC, "woodgrove.example,exchange,P-FABRIKAM,2026-04-01,")
    drop(folder, "associations-3.csv", content)
    run = sync(folder)
    assert (run.conflicts, run.rows_created, run.rows_updated) == (1, 0, 0)
    assert _active(ids.customer, "exchange") == portal
    conflict = SyncConflict.objects.get()
    assert (conflict.kind, conflict.portal_partner, conflict.imported_partner) == (
        SyncConflict.Kind.OTHER_PARTNER,
        ids.partner,
        ids.rival,
    )
    assert (conflict.association, conflict.imported_since, conflict.times_seen) == (
        portal,
        D(2026, 4, 1),
        1,
    )
    # The vendor keeps saying so in its next export: still one item, seen twice.
    drop(folder, "associations-4.csv", content.replace("2026-04-01", "2026-04-02"))
    second = sync(folder)
    assert second.conflicts == 1
    conflict.refresh_from_db()
    assert SyncConflict.objects.count() == 1
    assert (conflict.times_seen, conflict.last_run) == (2, second)


def test_the_vendor_ending_a_portal_association_is_a_conflict_too(folder, ids):
    portal = f.AssociationFactory(
        customer=ids.customer, workload=ids.workloads[0], partner=ids.partner, since=D(2026, 1, 1)
    )
    drop(
        folder,
        "associations-5.csv",
        csv_text(ASSOC, "woodgrove.example,exchange,P-CONTOSO,2026-01-01,2026-05-01"),
    )
    run = sync(folder)
    assert run.conflicts == 1
    assert SyncConflict.objects.get().kind == SyncConflict.Kind.ENDED
    portal.refresh_from_db()
    assert portal.ended_on is None


def test_the_vendor_may_move_and_end_what_it_reported_itself(folder, ids):
    drop(
        folder,
        "associations-6.csv",
        csv_text(ASSOC, "woodgrove.example,exchange,P-CONTOSO,2026-01-01,"),
    )
    sync(folder)
    first = _active(ids.customer, "exchange")
    drop(
        folder,
        "associations-7.csv",
        csv_text(ASSOC, "woodgrove.example,exchange,P-FABRIKAM,2026-06-01,"),
    )
    run = sync(folder)
    assert (run.rows_updated, run.conflicts) == (1, 0)
    first.refresh_from_db()
    assert first.ended_on == D(2026, 6, 1)
    moved = _active(ids.customer, "exchange")
    assert (moved.partner, moved.since, moved.origin) == (
        ids.rival,
        D(2026, 6, 1),
        "partner_system",
    )
    drop(
        folder,
        "associations-8.csv",
        csv_text(ASSOC, "woodgrove.example,exchange,P-FABRIKAM,2026-06-01,2026-09-30"),
    )
    assert sync(folder).rows_updated == 1
    assert _active(ids.customer, "exchange") is None


def test_the_same_file_dropped_again_is_not_imported_twice(folder, ids):
    content = csv_text(ASSOC, "woodgrove.example,exchange,P-CONTOSO,2026-01-05,")
    drop(folder, "associations-9.csv", content)
    sync(folder)
    drop(folder, "associations-9-again.csv", content)
    run = sync(folder)
    assert (run.files_imported, run.files_skipped, run.rows_read) == (0, 1, 0)
    assert Association.objects.filter(origin="partner_system").count() == 1
    assert not list((folder / "inbox").iterdir())
    # The same rows in a new export change nothing either.
    drop(folder, "associations-10.csv", content + "\n")
    run = sync(folder)
    assert (run.files_imported, run.rows_unchanged, run.rows_created) == (1, 1, 0)


def test_temporary_and_unknown_names_are_left_alone(folder, ids):
    inbox = folder / "inbox"
    inbox.mkdir(parents=True)
    for name in (
        ".associations-1.csv",
        "associations-2.csv.part",
        "associations-3.tmp",
        "readme.txt",
        "usage.xml",
    ):
        (inbox / name).write_text(
            csv_text(ASSOC, "woodgrove.example,exchange,P-CONTOSO,2026-01-05,")
        )
    run = sync(folder)
    assert (run.files_imported, run.rows_read) == (0, 0)
    assert len(list(inbox.iterdir())) == 5


# --- Usage ----------------------------------------------------------------------------------


@pytest.fixture(params=["copy", "orm"])
def bulk(request, monkeypatch):
    """Both ways of writing usage: COPY on PostgreSQL (the default here), ORM batches."""
    original = importers.import_usage

    def forced(*args, **kwargs):
        return original(*args, bulk=request.param, **kwargs)

    monkeypatch.setitem(services.IMPORTERS, "usage", forced)
    return request.param


def _usage(customer, code):
    return {
        u.date: (u.active_users, u.licensed_seats, u.active_usage_pct)
        for u in UsageSnapshot.objects.filter(customer=customer, workload__code=code)
    }


def test_usage_snapshots_are_upserted_and_associations_show_the_latest(folder, ids, bulk):
    held = f.AssociationFactory(
        customer=ids.customer, workload=ids.workloads[0], partner=ids.partner
    )
    drop(
        folder,
        "usage-1.csv",
        csv_text(
            USAGE,
            "woodgrove.example,exchange,2026-11-01,250,1000",
            "woodgrove.example,exchange,2026-11-02,333,1000",
            "woodgrove.example,Teams,2026-11-02,1,3",
        ),
    )
    run = sync(folder)
    assert (run.rows_read, run.rows_created, run.rows_updated, run.rows_unchanged) == (3, 3, 0, 0)
    assert _usage(ids.customer, "exchange") == {
        D(2026, 11, 1): (250, 1000, Decimal("25.00")),
        D(2026, 11, 2): (333, 1000, Decimal("33.30")),
    }
    assert _usage(ids.customer, "teams")[D(2026, 11, 2)][2] == Decimal("33.33")
    held.refresh_from_db()
    assert held.active_usage_pct == Decimal("33.30") and held.usage_updated_at is not None

    drop(
        folder,
        "usage-2.jsonl",
        "".join(
            json.dumps(row) + "\n"
            for row in [
                {
                    "tenant_id": "woodgrove.example",
                    "workload": "exchange",
                    "date": "2026-11-01",
                    "active_users": 250,
                    "licensed_seats": 1000,
                },
                {
                    "tenant_id": "woodgrove.example",
                    "workload": "exchange",
                    "date": "2026-11-02",
                    "active_users": 400,
                    "licensed_seats": 1000,
                },
            ]
        ),
    )
    run = sync(folder)
    assert (run.rows_created, run.rows_updated, run.rows_unchanged) == (0, 1, 1)
    held.refresh_from_db()
    assert held.active_usage_pct == Decimal("40.00")


USAGE_ROW_ERRORS = [
    ("nobody.example,exchange,2026-11-01,1,2", "Unknown customer tenant “nobody.example”."),
    ("woodgrove.example,sharepoint,2026-11-01,1,2", "Unknown workload “sharepoint”."),
    ("woodgrove.example,exchange,2026-11-31,1,2", "date “2026-11-31” is not a date (YYYY-MM-DD)."),
    ("woodgrove.example,exchange,2026-11-01,-1,2", "active_users -1 is out of range"),
    ("woodgrove.example,exchange,2026-11-01,many,2", "active_users “many” is not a whole number."),
    (
        "woodgrove.example,exchange,2026-11-01,1,99999999999",
        "licensed_seats 99999999999 is out of range",
    ),
    ("woodgrove.example,exchange,2026-11-01,5,2", "active_users (5) exceed licensed_seats (2)."),
    ("woodgrove.example,exchange,2026-11-01,0,0", "licensed_seats is 0"),
    ("woodgrove.example,,2026-11-01,0,1", "workload is empty."),
    (",exchange,2026-11-01,0,1", "tenant_id is empty."),
    ("woodgrove.example,exchange,2026-11-01,1", "The row has 4 cells; the header 5."),
    (
        "woodgrove.example,intune,2026-11-01,1,2\nwoodgrove.example,intune,2026-11-01,2,2",
        "The customer workload and date are listed twice (first on row 3).",
    ),
]


@pytest.mark.parametrize(("row", "reason"), USAGE_ROW_ERRORS)
def test_a_wrong_usage_row_is_rejected_with_its_number(folder, ids, bulk, row, reason):
    drop(folder, "usage-3.csv", csv_text(USAGE, "tailspin.example,teams,2026-11-01,7,10", row))
    run = sync(folder)
    [(name, number, why)] = _rejections(run)
    assert number == 3 + row.count("\n")
    assert reason in why
    assert _usage(ids.other_customer, "teams") == {D(2026, 11, 1): (7, 10, Decimal("70.00"))}
    rows = 2 + row.count("\n")
    assert run.rows_read == rows
    assert run.rows_created == rows - 1
    assert run.rows_rejected == 1


# --- A file is applied whole, or not at all -------------------------------------------


def test_a_file_cut_off_after_good_rows_applies_nothing_and_is_set_aside(folder, ids, bulk):
    good = [
        {
            "tenant_id": "woodgrove.example",
            "workload": "exchange",
            "date": f"2026-10-{d:02d}",
            "active_users": d,
            "licensed_seats": 100,
        }
        for d in range(1, 31)
    ]
    drop(folder, "usage-4.json", json.dumps(good)[:-30])
    drop(folder, "usage-5.csv", csv_text(USAGE, "tailspin.example,teams,2026-11-01,7,10"))
    run = sync(folder)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.files_imported, run.files_rejected) == (1, 1)
    assert _usage(ids.customer, "exchange") == {}
    rejected = SyncFile.objects.get(name="usage-4.json")
    assert rejected.status == SyncFile.Status.REJECTED
    assert "cut off" in rejected.error
    assert SyncRejection.objects.filter(file=rejected).count() == 0
    assert (folder / "rejected" / "usage-4.json").exists()
    assert "cut off" in (folder / "rejected" / "usage-4.json.why.txt").read_text()


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("usage-6.csv", "this is not,an export\n1,2\n", "lacks the column(s) tenant_id"),
        ("usage-7.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n", "not a text export"),
        ("usage-8.json", '{"rows": []}\n', "not a JSON array"),
        (
            "usage-11.csv",
            (USAGE + "\nw\xf6odgrove.example,exchange,2026-11-01,1,2\n").encode("latin-1"),
            "not UTF-8",
        ),
        (
            "associations-9.csv",
            csv_text(ASSOC, "woodgrove.example,exchange,P-CONTOSO,2026-01-05,")[:-1],
            "cut off",
        ),
        ("associations-10.jsonl", '{"tenant_id": "woodgrove.example"}\n', "lack the field(s)"),
    ],
)
def test_a_malformed_file_is_rejected_whole_with_the_reason(folder, ids, name, content, why):
    drop(folder, name, content)
    run = sync(folder)
    assert run.status == SyncRun.Status.SUCCEEDED and run.files_rejected == 1
    assert why in SyncFile.objects.get(name=name).error
    assert not Association.objects.filter(origin="partner_system").exists()
    assert not UsageSnapshot.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_crash_mid_file_applies_nothing_of_it_and_the_next_run_resumes(
    folder, ids, monkeypatch, stray_connections_closed
):
    drop(
        folder,
        "associations-11.csv",
        csv_text(ASSOC, "woodgrove.example,exchange,P-CONTOSO,2026-01-05,"),
    )
    drop(
        folder,
        "usage-12.csv",
        csv_text(
            USAGE, *[f"woodgrove.example,exchange,2026-10-{d:02d},{d},100" for d in range(1, 31)]
        ),
    )
    original = importers.import_usage

    def dies_half_way(stream, fmt, *, progress, **kwargs):
        def report(rows):
            raise MemoryError("the worker was killed")

        monkeypatch.setattr(importers, "PROGRESS_EVERY", 10)
        return original(stream, fmt, progress=report, **kwargs)

    monkeypatch.setitem(services.IMPORTERS, "usage", dies_half_way)
    crashed = sync(folder)
    assert crashed.status == SyncRun.Status.FAILED and "killed" in crashed.error
    assert crashed.files_imported == 1  # the associations file, committed before
    assert _active(ids.customer, "exchange") is not None
    assert not UsageSnapshot.objects.exists()
    assert (folder / "inbox" / "usage-12.csv").exists()

    monkeypatch.setitem(services.IMPORTERS, "usage", original)
    resumed = sync(folder)
    assert resumed.status == SyncRun.Status.SUCCEEDED
    assert (resumed.files_imported, resumed.rows_created) == (1, 30)
    assert UsageSnapshot.objects.count() == 30
    assert Association.objects.filter(origin="partner_system").count() == 1


def test_a_file_applied_by_a_run_that_died_before_archiving_it_is_archived_unchanged(
    folder, ids, monkeypatch
):
    drop(folder, "usage-13.csv", csv_text(USAGE, "woodgrove.example,exchange,2026-11-01,1,2"))
    monkeypatch.setattr(FileAdapter, "finish", lambda self, batch, **kw: None)
    sync(folder)
    assert (folder / "inbox" / "usage-13.csv").exists()
    monkeypatch.undo()
    run = sync(folder)
    assert (run.files_skipped, run.rows_read) == (1, 0)
    assert not (folder / "inbox" / "usage-13.csv").exists()
    assert UsageSnapshot.objects.count() == 1


def test_a_dry_run_checks_everything_and_changes_nothing(folder, ids):
    drop(
        folder,
        "associations-14.csv",
        csv_text(
            ASSOC,
            "woodgrove.example,exchange,P-CONTOSO,2026-01-05,",
            "nobody,exchange,P-CONTOSO,2026-01-05,",
        ),
    )
    drop(folder, "usage-15.csv", csv_text(USAGE, "woodgrove.example,exchange,2026-11-01,1,2"))
    run = sync(folder, dry_run=True)
    assert run.dry_run and run.status == SyncRun.Status.SUCCEEDED
    assert (run.rows_created, run.rows_rejected) == (2, 1)
    assert [r[2] for r in _rejections(run)] == ["Unknown customer tenant “nobody”."]
    assert set(SyncFile.objects.values_list("status", flat=True)) == {SyncFile.Status.DRY_RUN}
    assert not Association.objects.filter(origin="partner_system").exists()
    assert not UsageSnapshot.objects.exists()
    assert len(list((folder / "inbox").iterdir())) == 2
    real = sync(folder)
    assert (real.files_imported, real.rows_created) == (2, 2)


# --- Size ---------------------------------------------------------------------------------


def test_a_200000_row_file_is_streamed_in_bounded_memory(folder, ids):
    customers = [f.CustomerFactory(tenant_id=f"bulk-{n}.example") for n in range(200)]
    start = D(2026, 1, 1)
    path = folder / "inbox" / "usage-big.csv"
    path.parent.mkdir(parents=True)
    with path.open("w") as out:
        out.write(USAGE + "\n")
        for n in range(200_000):
            customer = customers[n % 200]
            day = start + datetime.timedelta(days=n // 200)
            out.write(f"{customer.tenant_id},exchange,{day.isoformat()},{n % 90},100\n")
    tracemalloc.start()
    try:
        run = sync(folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.rows_read == 200_000
    assert (run.rows_created, run.rows_rejected) == (200_000, 0)
    assert UsageSnapshot.objects.count() == 200_000
    # What Python holds at its peak stays far below the file (about 9 MB of text).
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_timezone_is_used_for_the_future_check(folder, ids, settings):
    today = timezone.localdate()
    drop(
        folder,
        "associations-16.csv",
        csv_text(ASSOC, f"woodgrove.example,exchange,P-CONTOSO,{today.isoformat()},"),
    )
    assert sync(folder).rows_created == 1


def test_usage_without_database_constraints_still_cascades_and_protects(folder, ids):
    drop(folder, "usage-17.csv", csv_text(USAGE, "tailspin.example,intune,2026-11-01,1,2"))
    sync(folder)
    intune = ids.workloads[2]
    with pytest.raises(ProtectedError):
        intune.delete()
    Association.objects.filter(customer=ids.other_customer).delete()
    ids.other_customer_user.customer_membership.delete()
    ids.other_customer.delete()
    assert not UsageSnapshot.objects.exists()
