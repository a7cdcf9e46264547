"""Exporting the decisions made since the last export, once each, in stable batches."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from claims.models import Claim, ClaimLine
from claims_portal.partner_system.adapters import PartnerSystemAdapter
from claims_portal.partner_system.models import DecisionExport, ExportedDecision, SyncRun

BATCH = 5000
DECIDED = [Claim.Status.APPROVED, Claim.Status.PARTIALLY_APPROVED, Claim.Status.REJECTED]


def decided_lines() -> QuerySet[ClaimLine]:
    """Every line decided for good: its claim's decision is made, the line approved or not."""
    return ClaimLine.objects.filter(
        claim__status__in=DECIDED,
        status__in=[ClaimLine.Status.APPROVED, ClaimLine.Status.REJECTED],
    )


def exportable(*, run: SyncRun, since: datetime.date | None) -> QuerySet[ClaimLine]:
    """Lines not exported yet; with `since`, also those decided since then (sent again)."""
    never_sent = ~Exists(ExportedDecision.objects.filter(line_id=OuterRef("pk")))
    if since is None:
        return decided_lines().filter(never_sent).order_by("claim__decided_at", "pk")
    start = datetime.datetime.combine(
        since, datetime.time.min, tzinfo=timezone.get_current_timezone()
    )
    sent_by_this_run = Exists(
        ExportedDecision.objects.filter(line_id=OuterRef("pk"), export__run=run)
    )
    return (
        decided_lines()
        .exclude(sent_by_this_run)
        .filter(Q(never_sent) | Q(claim__decided_at__gte=start))
        .order_by("claim__decided_at", "pk")
    )


def rows(export: DecisionExport) -> list[list[str]]:
    lines = (
        ClaimLine.objects.filter(pk__in=export.lines.values("line_id"))
        .select_related("claim__partner", "claim__customer", "claim__program", "workload")
        .order_by("pk")
    )
    return [
        [
            str(line.pk),
            line.claim.reference,
            line.claim.program.slug,
            line.claim.partner.partner_id,
            line.claim.customer.tenant_id,
            line.workload.code,
            line.status,
            line.claim.decided_at.isoformat() if line.claim.decided_at else "",
            str(line.seats),
            line.target_start.isoformat() if line.target_start else "",
            line.target_end.isoformat() if line.target_end else "",
        ]
        for line in lines
    ]


def _deliver(export: DecisionExport, adapter: PartnerSystemAdapter) -> int:
    # Outside any transaction: the delivery is slow I/O, and the batch is already recorded.
    content: Sequence[Sequence[str]] = rows(export)
    location = adapter.deliver_decisions(str(export), content)
    DecisionExport.objects.filter(pk=export.pk).update(
        delivered_at=timezone.now(), location=location[:300]
    )
    return len(content)


def export_decisions(
    *,
    run: SyncRun,
    adapter: PartnerSystemAdapter,
    dry_run: bool,
    since: datetime.date | None = None,
) -> int:
    """Send what was decided since the last export; returns how many decisions were sent.

    A batch is recorded with its lines before it is sent and marked delivered after, so
    a run that dies in between leaves it pending and the next run sends the same batch
    under the same name (the file is replaced, the HTTP call carries the same key).
    """
    if dry_run:
        pending = ExportedDecision.objects.filter(export__delivered_at=None).count()
        return pending + exportable(run=run, since=since).count()
    sent = 0
    for export in DecisionExport.objects.filter(delivered_at=None).order_by("pk"):
        sent += _deliver(export, adapter)
    while True:
        with transaction.atomic():
            line_ids = list(exportable(run=run, since=since).values_list("pk", flat=True)[:BATCH])
            if not line_ids:
                break
            export = DecisionExport.objects.create(run=run, line_count=len(line_ids))
            ExportedDecision.objects.bulk_create(
                [ExportedDecision(export=export, line_id=pk) for pk in line_ids]
            )
        sent += _deliver(export, adapter)
    return sent
