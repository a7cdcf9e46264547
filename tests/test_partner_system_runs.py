"""Sync runs as a whole: decisions exported once, one run at a time, a dead run's lease,
the command with its progress and summary, the beat task on a real worker, admin pages."""

from __future__ import annotations

import csv
import datetime
import io
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, ClaimLine
from claims_portal.partner_system import services
from claims_portal.partner_system.adapters import FileAdapter
from claims_portal.partner_system.models import (
    DecisionExport,
    ExportedDecision,
    SyncRun,
    SyncState,
)
from claims_portal.partner_system.tasks import sync_partner_system
from customers.models import UsageSnapshot
from tests import factories as f
from tests.partner_system_fakes import csv_text, drop

USAGE = "tenant_id,workload,date,active_users,licensed_seats"


@pytest.fixture
def folder(tmp_path, settings):
    settings.PARTNER_SYSTEM_DIR = tmp_path / "partner-system"
    settings.PARTNER_SYSTEM_ADAPTER = "file"
    return settings.PARTNER_SYSTEM_DIR


def sync(folder, **kwargs) -> SyncRun:
    return services.run_sync(trigger=SyncRun.Trigger.COMMAND, adapter=FileAdapter(folder), **kwargs)


def _outbox(folder) -> dict[str, list[dict]]:
    return {
        path.name: list(csv.DictReader(path.open()))
        for path in sorted((folder / "outbox").glob("*.csv"))
    }


# --- Decisions out ------------------------------------------------------------------------


def test_decided_lines_are_exported_once_and_new_ones_next_time(folder, world):
    approved = f.ClaimFactory(approved=True, workloads=world.workloads[:2])
    rejected = f.ClaimFactory(rejected=True)
    f.ClaimFactory(in_review=True)  # not decided yet
    run = sync(folder)
    assert run.decisions_exported == 3
    [(name, rows)] = _outbox(folder).items()
    assert name == f"decisions-{DecisionExport.objects.get().pk:06d}.csv"
    assert sorted((r["claim"], r["workload"], r["outcome"]) for r in rows) == sorted(
        [
            (approved.reference, "exchange", "approved"),
            (approved.reference, "teams", "approved"),
            (rejected.reference, rejected.lines.get().workload.code, "rejected"),
        ]
    )
    assert rows[0]["partner_id"] == approved.partner.partner_id
    assert sync(folder).decisions_exported == 0
    later = f.ClaimFactory(approved=True)
    assert sync(folder).decisions_exported == 1
    assert len(_outbox(folder)) == 2
    assert ExportedDecision.objects.filter(line__claim=later).count() == 1


def test_since_sends_again_what_was_decided_since_then(folder, world):
    claim = f.ClaimFactory(approved=True)
    sync(folder)
    run = sync(folder, since=timezone.localdate() - datetime.timedelta(days=1))
    assert run.decisions_exported == 1
    assert (
        sync(folder, since=timezone.localdate() + datetime.timedelta(days=1)).decisions_exported
        == 0
    )
    assert ExportedDecision.objects.filter(line__claim=claim).count() == 2


def test_an_export_that_failed_to_deliver_is_delivered_again_under_the_same_name(
    folder, world, monkeypatch
):
    f.ClaimFactory(approved=True)

    def broken(self, name, rows):
        raise OSError("disk full")

    monkeypatch.setattr(FileAdapter, "deliver_decisions", broken)
    failed = sync(folder)
    assert failed.status == SyncRun.Status.FAILED and "disk full" in failed.error
    export = DecisionExport.objects.get()
    assert export.delivered_at is None and export.line_count == 1
    monkeypatch.undo()
    f.ClaimFactory(approved=True)
    run = sync(folder)
    assert run.decisions_exported == 2
    assert sorted(_outbox(folder)) == [
        f"decisions-{export.pk:06d}.csv",
        f"decisions-{export.pk + 1:06d}.csv",
    ]
    assert all(e.delivered_at for e in DecisionExport.objects.all())


def test_a_dry_run_counts_the_decisions_and_sends_nothing(folder, world):
    f.ClaimFactory(approved=True)
    run = sync(folder, dry_run=True)
    assert run.decisions_exported == 1
    assert not DecisionExport.objects.exists() and _outbox(folder) == {}


def test_lines_removed_by_the_customer_are_not_decisions(folder, world):
    claim = f.ClaimFactory(rejected=True, workloads=world.workloads[:2])
    claim.lines.filter(workload=world.workloads[1]).update(status=ClaimLine.Status.REMOVED)
    assert sync(folder).decisions_exported == 1


# --- One run at a time -----------------------------------------------------------------


class Gate:
    """An adapter that holds its first run inside the import until told to go on."""

    def __init__(self, folder) -> None:
        self.inner = FileAdapter(folder)
        self.name = "file"
        self.entered = threading.Event()
        self.go_on = threading.Event()

    def describe(self):
        return self.inner.describe()

    def batches(self, kind, *, cursor):
        self.entered.set()
        assert self.go_on.wait(20)
        yield from self.inner.batches(kind, cursor=cursor)

    def finish(self, batch, **kwargs):
        self.inner.finish(batch, **kwargs)

    def deliver_decisions(self, name, rows):
        return self.inner.deliver_decisions(name, rows)


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_one_skips_and_nothing_is_applied_twice(
    folder, world, stray_connections_closed
):
    world.customer.tenant_id = "woodgrove.example"
    world.customer.save()
    drop(folder, "usage-1.csv", csv_text(USAGE, "woodgrove.example,exchange,2026-11-01,1,2"))
    gate = Gate(folder)
    results = {}

    def first():
        results["first"] = services.run_sync(trigger="command", adapter=gate)
        from django.db import connection  # noqa: I001 (this thread's own connection)

        connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert gate.entered.wait(20)
    second = services.run_sync(trigger="beat", adapter=FileAdapter(folder))
    assert second.status == SyncRun.Status.SKIPPED
    assert second.error == "Another sync run was in progress."
    gate.go_on.set()
    thread.join(30)
    assert results["first"].status == SyncRun.Status.SUCCEEDED
    assert UsageSnapshot.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_with_wait_the_second_run_waits_for_the_first(folder, world, stray_connections_closed):
    gate = Gate(folder)
    thread = threading.Thread(target=lambda: services.run_sync(trigger="command", adapter=gate))
    thread.start()
    assert gate.entered.wait(20)
    threading.Timer(1.0, gate.go_on.set).start()
    started = time.monotonic()
    second = services.run_sync(trigger="command", adapter=FileAdapter(folder), wait=20)
    thread.join(30)
    assert second.status == SyncRun.Status.SUCCEEDED
    assert time.monotonic() - started >= 0.9


def test_a_run_whose_process_died_is_marked_interrupted_once_its_lease_ran_out(folder, world):
    dead = SyncRun.objects.create(trigger="beat", adapter="file")
    SyncState.objects.create(
        pk=1, lease_owner=12345, lease_until=timezone.now() + datetime.timedelta(minutes=5)
    )
    assert sync(folder).status == SyncRun.Status.SKIPPED
    SyncState.objects.filter(pk=1).update(
        lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    run = sync(folder)
    assert run.status == SyncRun.Status.SUCCEEDED
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.INTERRUPTED and dead.finished_at
    assert SyncState.objects.get().lease_owner is None


def test_a_run_that_lost_its_lease_stops(folder, world, monkeypatch):
    drop(folder, "usage-1.csv", csv_text(USAGE, "nobody.example,exchange,2026-11-01,1,2"))
    original = services._take_lease

    def taken_over(owner, *, wait):
        got = original(owner, wait=wait)
        SyncState.objects.filter(pk=1).update(lease_owner=999)  # someone else, after expiry
        return got

    monkeypatch.setattr(services, "_take_lease", taken_over)
    run = sync(folder)
    assert run.status == SyncRun.Status.FAILED
    assert "Another run took over" in run.error
    assert SyncState.objects.get().lease_owner == 999  # not released: it is not ours


# --- The command -----------------------------------------------------------------------------


def test_the_command_shows_progress_and_a_summary(folder, world, monkeypatch):
    world.customer.tenant_id = "woodgrove.example"
    world.customer.save()
    monkeypatch.setattr("claims_portal.partner_system.importers.PROGRESS_EVERY", 2)
    rows = [f"woodgrove.example,exchange,2026-11-{d:02d},1,2" for d in range(1, 6)]
    drop(folder, "usage-1.csv", csv_text(USAGE, *rows, "nobody.example,exchange,2026-11-01,1,2"))
    out, err = io.StringIO(), io.StringIO()
    call_command("sync_partner_system", stdout=out, stderr=err)
    text = out.getvalue()
    assert "Succeeded" in text
    assert "rows created                                  5" in text
    assert "usage-1.csv row 7: Unknown customer tenant “nobody.example”." in text
    assert "/admin/partner_system/syncrun/" in text
    assert "usage-1.csv: 6 rows" in err.getvalue()


def test_the_command_dry_run_and_bad_arguments(folder, world):
    out = io.StringIO()
    call_command("sync_partner_system", "--dry-run", stdout=out, stderr=io.StringIO())
    assert "dry run, nothing will change" in out.getvalue()
    assert SyncRun.objects.get().dry_run
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("sync_partner_system", "--since", "yesterday")
    with pytest.raises(CommandError):
        call_command("sync_partner_system", "--adapter", "ftp")


def test_the_command_fails_with_the_reason(folder, world, monkeypatch):
    f.ClaimFactory(approved=True)
    monkeypatch.setattr(
        FileAdapter, "deliver_decisions", lambda *a: (_ for _ in ()).throw(OSError("read-only"))
    )
    with pytest.raises(CommandError, match="read-only"):
        call_command("sync_partner_system", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_command_says_when_it_skipped(folder, world):
    SyncState.objects.create(
        pk=1, lease_owner=1, lease_until=timezone.now() + datetime.timedelta(minutes=5)
    )
    out = io.StringIO()
    call_command("sync_partner_system", stdout=out, stderr=io.StringIO())
    assert "Skipped: Another sync run was in progress." in out.getvalue()


# --- Beat ------------------------------------------------------------------------------------


def test_beat_runs_the_sync_at_the_interval_in_settings():
    entry = django_settings.CELERY_BEAT_SCHEDULE["sync-partner-system"]
    assert entry["task"] == "claims_portal.partner_system.tasks.sync_partner_system"
    assert entry["schedule"] == datetime.timedelta(
        minutes=django_settings.PARTNER_SYSTEM_SYNC_MINUTES
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_scheduled_task_runs_a_sync_on_a_real_worker(folder, world, celery_worker_live):
    world.customer.tenant_id = "woodgrove.example"
    world.customer.save()
    drop(folder, "usage-1.csv", csv_text(USAGE, "woodgrove.example,exchange,2026-11-01,1,2"))
    sync_partner_system.delay()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not SyncRun.objects.filter(status="succeeded").exists():
        time.sleep(0.2)
    run = SyncRun.objects.get()
    assert (run.status, run.trigger, run.rows_created) == ("succeeded", "beat", 1)
    assert UsageSnapshot.objects.count() == 1


# --- Admin -----------------------------------------------------------------------------------


def test_admin_shows_a_run_with_its_rejected_rows(admin_client, folder, world):
    drop(folder, "usage-1.csv", csv_text(USAGE, "nobody.example,exchange,2026-11-01,1,2", "x,y"))
    run = sync(folder)
    page = admin_client.get(reverse("admin:partner_system_syncrun_change", args=[run.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "2 rows were rejected" in text
    assert "Unknown customer tenant “nobody.example”." in text
    assert "The row has 2 cells; the header 5." in text
    listing = admin_client.get(reverse("admin:partner_system_syncrun_changelist"))
    assert listing.status_code == 200 and "Sync now" in listing.content.decode()
    rejected = admin_client.get(
        reverse("admin:partner_system_syncrejection_changelist") + f"?run__id__exact={run.pk}"
    )
    assert rejected.status_code == 200


def test_sync_now_in_admin_starts_a_run(
    admin_client, folder, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:partner_system_syncrun_sync_now"), follow=True)
    assert "A sync was started" in response.content.decode()
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.ADMIN


def test_sync_runs_cannot_be_edited_or_started_by_staff_without_rights(client, folder, world):
    run = sync(folder)
    client.force_login(f.UserFactory(is_staff=True))
    assert client.post(reverse("admin:partner_system_syncrun_sync_now")).status_code == 403
    assert (
        client.get(reverse("admin:partner_system_syncrun_change", args=[run.pk])).status_code == 403
    )
    assert SyncRun.objects.count() == 1


def test_decided_claims_of_every_kind_are_in_the_export(folder, world):
    # A partial approval: one line approved (no association in this data), one rejected.
    partial = f.ClaimFactory(rejected=True, workloads=world.workloads[:2])
    Claim.objects.filter(pk=partial.pk).update(status=Claim.Status.PARTIALLY_APPROVED)
    partial.lines.filter(workload=world.workloads[0]).update(status=ClaimLine.Status.APPROVED)
    sync(folder)
    [rows] = _outbox(folder).values()
    assert sorted(r["outcome"] for r in rows) == ["approved", "rejected"]
