"""manage.py sync_partner_system [--dry-run] [--since YYYY-MM-DD] [--wait SECONDS]"""

from __future__ import annotations

import datetime
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from claims_portal.partner_system.adapters import get_adapter
from claims_portal.partner_system.models import SyncRejection, SyncRun
from claims_portal.partner_system.services import run_sync


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since takes a date as YYYY-MM-DD, not {value!r}.") from None


class Progress:
    """A line per file with rows and rate: redrawn in place on a terminal, else every 5 s."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.label = ""
        self.rows = 0
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, label: str, rows: int) -> None:
        now = time.monotonic()
        if label != self.label:
            self.done()
            self.label, self.rows, self.started, self.last = label, 0, now, now
            return
        self.rows = rows
        if now - self.last >= (0.2 if self.tty else 5):
            self.last = now
            self._draw(final=False)

    def _draw(self, *, final: bool) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        text = f"  {self.label}: {self.rows:,} rows ({self.rows / elapsed:,.0f}/s)"
        if self.tty:
            self.stream.write("\r" + text.ljust(78) + ("\n" if final else ""))
        else:
            self.stream.write(text + ("" if final else " …") + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.label:
            self._draw(final=True)
        self.label = ""


class Command(BaseCommand):
    help = (
        "Import associations and usage from the vendor's partner system and export the "
        "decisions made since the last export. Safe to run at any time: what was imported "
        "is not imported again, and a run already in progress makes this one skip (or "
        "wait, with --wait)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Read and check everything, report what would change, change nothing.",
        )
        parser.add_argument(
            "--since",
            type=_date,
            help="Ask the HTTP feed for changes since this date, and send the decisions "
            "made since this date again.",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Wait this long for a run in progress to finish instead of skipping.",
        )
        parser.add_argument(
            "--adapter", choices=["file", "http"], help="Override PARTNER_SYSTEM_ADAPTER."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        adapter = get_adapter(options["adapter"])
        since = options["since"]
        dry_run = options["dry_run"]
        self.stdout.write(
            f"Sync with the partner system ({adapter.describe()})"
            + (" — dry run, nothing will change" if dry_run else "")
        )
        progress = Progress(self.stderr._out if hasattr(self.stderr, "_out") else sys.stderr)
        run = run_sync(
            trigger=SyncRun.Trigger.COMMAND,
            adapter=adapter,
            dry_run=dry_run,
            since=since,
            wait=options["wait"],
            progress=progress,
        )
        progress.done()
        self._summary(run)
        if run.status == SyncRun.Status.FAILED:
            raise CommandError(f"Sync run #{run.pk} failed: {run.error}")

    def _summary(self, run: SyncRun) -> None:
        out = self.stdout
        if run.status == SyncRun.Status.SKIPPED:
            out.write(self.style.WARNING(f"Skipped: {run.error} (run #{run.pk})"))
            return
        style = self.style.SUCCESS if run.status == SyncRun.Status.SUCCEEDED else self.style.ERROR
        out.write(style(f"Run #{run.pk}: {run.get_status_display()}"))
        lines = [
            ("files imported", run.files_imported),
            ("files already imported (skipped)", run.files_skipped),
            ("files rejected as a whole", run.files_rejected),
            ("rows read", run.rows_read),
            ("rows created", run.rows_created),
            ("rows updated", run.rows_updated),
            ("rows unchanged", run.rows_unchanged),
            ("rows rejected", run.rows_rejected),
            ("conflicts for the claims team", run.conflicts),
            ("decisions " + ("to export" if run.dry_run else "exported"), run.decisions_exported),
        ]
        for label, value in lines:
            out.write(f"  {label:<34} {value:>12,}")
        for sync_file in run.files.filter(status="rejected"):
            out.write(self.style.ERROR(f"  rejected {sync_file.name}: {sync_file.error}"))
        shown = SyncRejection.objects.filter(run=run).select_related("file")[:10]
        for rejection in shown:
            out.write(f"  {rejection.file.name} row {rejection.row_number}: {rejection.reason}")
        if run.rows_rejected > len(shown):
            out.write(f"  … and {run.rows_rejected - len(shown):,} more rejected rows")
        if run.rows_rejected or run.files_rejected or run.conflicts:
            url = reverse("admin:partner_system_syncrun_change", args=[run.pk])
            out.write(f"  Every rejected row and conflict: {url}")
