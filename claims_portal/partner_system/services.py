"""A sync with the vendor's partner system, and the claims team's answer to a conflict.

`run_sync` takes the lease (one run at a time; another waits or is recorded as skipped),
imports each export not applied yet, each in its own transaction (applied whole, or not
at all), then sends the decisions made since the last export. Every run is recorded with
its counts, every rejected row with its reason, every file rejected as a whole with why.
Running it again imports nothing twice (files are known by their content's hash); after a
crash the next run finds the same files still waiting, and the same export batch pending.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from claims_portal.audit import log_action
from claims_portal.partner_system import exports, importers
from claims_portal.partner_system.adapters import (
    KINDS,
    Batch,
    PartnerSystemAdapter,
    PartnerSystemUnavailable,
    get_adapter,
)
from claims_portal.partner_system.formats import FileProblem
from claims_portal.partner_system.models import SyncConflict, SyncFile, SyncRun, SyncState
from customers.models import Association, Customer

log = logging.getLogger(__name__)

# (what is being read, rows so far); the command draws its progress line from it.
ProgressReport = Callable[[str, int], None]
IMPORTERS = {"associations": importers.import_associations, "usage": importers.import_usage}


class SyncError(Exception):
    """Something the claims team asked for that cannot be done, with the reason."""


class LeaseLost(Exception):
    """Another run took over after this one's lease ran out."""


class _DryRun(Exception):
    def __init__(self, counts: importers.Counts) -> None:
        self.counts = counts


# --- One run at a time ------------------------------------------------------------------


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PARTNER_SYSTEM_LEASE_SECONDS)


def _take_lease(owner: int, *, wait: float) -> bool:
    """Take the lease with a conditional update; wait up to `wait` seconds for it."""
    SyncState.objects.get_or_create(pk=1)
    deadline = time.monotonic() + wait
    while True:
        now = timezone.now()
        taken = (
            SyncState.objects.filter(pk=1)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_owner=owner, lease_until=now + _lease())
        )
        if taken:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(1.0, remaining))


def _heartbeat(owner: int, run: SyncRun) -> None:
    now = timezone.now()
    kept = SyncState.objects.filter(pk=1, lease_owner=owner).update(lease_until=now + _lease())
    if not kept:
        raise LeaseLost("Another run took over: this run's lease ran out while it worked.")
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=now)


def _release(owner: int) -> None:
    SyncState.objects.filter(pk=1, lease_owner=owner).update(lease_owner=None, lease_until=None)


# --- The run -------------------------------------------------------------------------------


def run_sync(
    *,
    trigger: str,
    adapter: PartnerSystemAdapter | None = None,
    dry_run: bool = False,
    since: datetime.date | None = None,
    wait: float = 0,
    progress: ProgressReport | None = None,
) -> SyncRun:
    """Import what the partner system has for us and export our decisions; one run."""
    adapter = adapter or get_adapter()
    report = progress or (lambda label, rows: None)
    owner = secrets.randbits(62) + 1
    if not _take_lease(owner, wait=wait):
        return SyncRun.objects.create(
            trigger=trigger,
            adapter=adapter.describe(),
            dry_run=dry_run,
            since=since,
            status=SyncRun.Status.SKIPPED,
            finished_at=timezone.now(),
            error="Another sync run was in progress.",
        )
    try:
        # Holding the lease, any run still marked running has died: say so.
        SyncRun.objects.filter(status=SyncRun.Status.RUNNING).update(
            status=SyncRun.Status.INTERRUPTED,
            finished_at=timezone.now(),
            error="The run stopped without finishing (its process ended); the next run "
            "picked up what it had not applied.",
        )
        run = SyncRun.objects.create(
            trigger=trigger,
            adapter=adapter.describe(),
            dry_run=dry_run,
            since=since,
            heartbeat_at=timezone.now(),
        )
        try:
            cursors = SyncState.objects.get(pk=1).cursors
            for kind in KINDS:
                cursor = since.isoformat() if since else str(cursors.get(kind, ""))
                for batch in adapter.batches(kind, cursor=cursor):
                    _heartbeat(owner, run)
                    apply_batch(batch, run=run, adapter=adapter, dry_run=dry_run, report=report)
            _heartbeat(owner, run)
            sent = exports.export_decisions(run=run, adapter=adapter, dry_run=dry_run, since=since)
            SyncRun.objects.filter(pk=run.pk).update(decisions_exported=sent)
            status, error = SyncRun.Status.SUCCEEDED, ""
        except (PartnerSystemUnavailable, LeaseLost) as exc:
            status, error = SyncRun.Status.FAILED, str(exc)
        except Exception as exc:
            log.exception("Sync run %s failed", run.pk)
            status, error = SyncRun.Status.FAILED, f"{type(exc).__name__}: {exc}"
        SyncRun.objects.filter(pk=run.pk).update(
            status=status, error=error[:4000], finished_at=timezone.now()
        )
        run.refresh_from_db()
        return run
    finally:
        _release(owner)


def apply_batch(
    batch: Batch,
    *,
    run: SyncRun,
    adapter: PartnerSystemAdapter,
    dry_run: bool,
    report: ProgressReport,
) -> SyncFile | None:
    """Apply one export in one transaction; None when its content was applied before."""
    if SyncFile.objects.filter(
        kind=batch.kind, sha256=batch.sha256, status=SyncFile.Status.APPLIED
    ).exists():
        SyncRun.objects.filter(pk=run.pk).update(files_skipped=F("files_skipped") + 1)
        if not dry_run:
            # Applied by a run that died before it could archive the file: archive it now.
            adapter.finish(batch, applied=True)
        return None
    rejections = importers.Rejections()
    problem = ""
    try:
        with transaction.atomic():
            sync_file = SyncFile.objects.create(
                run=run,
                kind=batch.kind,
                name=batch.name[:255],
                sha256=batch.sha256,
                size=batch.size,
                status=SyncFile.Status.DRY_RUN if dry_run else SyncFile.Status.APPLIED,
            )
            report(batch.name, 0)
            try:
                with transaction.atomic(), batch.open() as stream:
                    counts = IMPORTERS[batch.kind](
                        stream,
                        batch.fmt,
                        run=run,
                        rejections=rejections,
                        progress=lambda rows: report(batch.name, rows),
                    )
                    if dry_run:
                        raise _DryRun(counts)
            except _DryRun as done:
                counts = done.counts
            except FileProblem as exc:
                problem = str(exc)
            if problem:
                sync_file.status = SyncFile.Status.REJECTED
                sync_file.error = problem
                sync_file.save(update_fields=["status", "error"])
                SyncRun.objects.filter(pk=run.pk).update(files_rejected=F("files_rejected") + 1)
            else:
                report(batch.name, counts.rows_read)
                rejections.save(run=run, sync_file=sync_file)
                _record_counts(run, sync_file, counts)
                if batch.cursor and not dry_run:
                    state = SyncState.objects.select_for_update().get(pk=1)
                    state.cursors = {**state.cursors, batch.kind: batch.cursor}
                    state.save(update_fields=["cursors"])
    finally:
        rejections.close()
    if not dry_run:
        adapter.finish(batch, applied=not problem, problem=problem)
    return sync_file


def _record_counts(run: SyncRun, sync_file: SyncFile, counts: importers.Counts) -> None:
    values = asdict(counts)
    SyncFile.objects.filter(pk=sync_file.pk).update(**values)
    SyncRun.objects.filter(pk=run.pk).update(
        files_imported=F("files_imported") + 1,
        **{name: F(name) + value for name, value in values.items()},
    )


# --- The claims team's answer to a conflict --------------------------------------------


def resolve_conflict(
    conflict: SyncConflict, *, user: User, take_vendors: bool, note: str = ""
) -> SyncConflict:
    """Keep the portal's association, or take the vendor's record in its place."""
    with transaction.atomic():
        locked = SyncConflict.objects.select_for_update().get(pk=conflict.pk)
        if not locked.is_open:
            who = locked.resolved_by.email if locked.resolved_by else "someone"
            raise SyncError(
                f"This conflict was resolved already ({locked.get_state_display()}, by {who})."
            )
        data: dict[str, Any] = {
            "customer": locked.customer.tenant_id,
            "workload": locked.workload.code,
            "portal_partner": locked.portal_partner.partner_id,
            "imported_partner": locked.imported_partner.partner_id,
            "note": note,
        }
        if take_vendors:
            data["association"] = _take_vendors_record(locked)
        locked.state = SyncConflict.State.TAKEN if take_vendors else SyncConflict.State.KEPT
        locked.resolved_by = user
        locked.resolved_at = timezone.now()
        locked.note = note
        locked.save(update_fields=["state", "resolved_by", "resolved_at", "note"])
        verb = "taken" if take_vendors else "kept"
        log_action(locked, f"partner_system.conflict.{verb}", user=user, data=data)
    return locked


def _take_vendors_record(conflict: SyncConflict) -> dict[str, Any]:
    # The customer's row lock first, as claim evaluation takes it before it grants.
    Customer.objects.select_for_update().filter(pk=conflict.customer_id).values_list("pk").get()
    current = (
        Association.objects.select_for_update()
        .filter(customer_id=conflict.customer_id, workload_id=conflict.workload_id, ended_on=None)
        .first()
    )
    if (
        current is None
        or current.pk != conflict.association_id
        or current.partner_id != conflict.portal_partner_id
    ):
        raise SyncError(
            "The portal's association changed since this conflict was found; "
            "look at the customer's associations again."
        )
    if conflict.kind == SyncConflict.Kind.ENDED:
        current.ended_on = max(conflict.imported_ended_on or timezone.localdate(), current.since)
        current.save(update_fields=["ended_on"])
        return {"ended": current.pk, "ended_on": current.ended_on}
    current.ended_on = max(conflict.imported_since, current.since)
    current.save(update_fields=["ended_on"])
    taken = Association.objects.create(
        customer_id=conflict.customer_id,
        workload_id=conflict.workload_id,
        partner_id=conflict.imported_partner_id,
        since=current.ended_on,
        origin=Association.Origin.PARTNER_SYSTEM,
    )
    return {"ended": current.pk, "created": taken.pk, "since": taken.since}
