"""Sync runs with the vendor's partner system, what each imported or rejected, and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SyncRun(models.Model):
    """One sync: the files or feeds it imported, the decisions it exported, its counts."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        # Another run held the lease; this one did nothing.
        SKIPPED = "skipped", _("Skipped (another run was in progress)")
        # Its process died; found by the next run once the lease ran out.
        INTERRUPTED = "interrupted", _("Interrupted")

    class Trigger(models.TextChoices):
        BEAT = "beat", _("Schedule")
        COMMAND = "command", _("Command")
        ADMIN = "admin", _("Admin")

    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RUNNING
    )
    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger.choices)
    adapter = models.CharField(_("adapter"), max_length=200)
    dry_run = models.BooleanField(_("dry run"), default=False)
    since = models.DateField(_("since"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    files_imported = models.PositiveIntegerField(_("files imported"), default=0)
    files_skipped = models.PositiveIntegerField(_("files already imported"), default=0)
    files_rejected = models.PositiveIntegerField(_("files rejected"), default=0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_created = models.PositiveIntegerField(_("rows created"), default=0)
    rows_updated = models.PositiveIntegerField(_("rows updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("rows unchanged"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    conflicts = models.PositiveIntegerField(_("conflicts"), default=0)
    decisions_exported = models.PositiveIntegerField(_("decisions exported"), default=0)
    error = models.TextField(_("error"), blank=True)

    COUNTERS = (
        "files_imported",
        "files_skipped",
        "files_rejected",
        "rows_read",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
        "conflicts",
        "decisions_exported",
    )

    class Meta:
        verbose_name = _("sync run")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["status", "started_at"], name="sync_run_status")]

    def __str__(self) -> str:
        return f"Sync #{self.pk} ({self.get_status_display()})"

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COUNTERS}


class SyncFile(models.Model):
    """One file or feed a run read; applied whole in one transaction, or not at all."""

    class Kind(models.TextChoices):
        ASSOCIATIONS = "associations", _("Associations")
        USAGE = "usage", _("Usage")

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected as a whole")
        DRY_RUN = "dry_run", _("Checked (dry run)")

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("bytes"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_created = models.PositiveIntegerField(_("created"), default=0)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejected"), default=0)
    conflicts = models.PositiveIntegerField(_("conflicts"), default=0)
    error = models.TextField(_("why rejected"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("imported file")
        ordering = ["run", "pk"]
        constraints = [
            # The same content is applied once, however often it is dropped or fetched.
            models.UniqueConstraint(
                fields=["kind", "sha256"],
                condition=Q(status="applied"),
                name="one_applied_file_per_content",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SyncRejection(models.Model):
    """A row a run did not import, with the reason (the rest of its file was applied)."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="rejections")
    file = models.ForeignKey(SyncFile, on_delete=models.CASCADE, related_name="rejections")
    row_number = models.PositiveIntegerField(_("row"))
    reason = models.CharField(_("reason"), max_length=300)
    raw = models.CharField(_("row as read"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("rejected row")
        ordering = ["file", "row_number"]
        indexes = [models.Index(fields=["run", "file", "row_number"], name="sync_rejection_row")]

    def __str__(self) -> str:
        return f"{self.file_id} row {self.row_number}: {self.reason}"


class SyncConflict(models.Model):
    """An imported association that disagrees with the portal's own: for the claims team.

    The portal's association is left as it is; the claims team keeps it, or takes the
    vendor's record. The same disagreement seen again by later runs stays one item.
    """

    class Kind(models.TextChoices):
        OTHER_PARTNER = "other_partner", _("The vendor's system names another partner")
        ENDED = "ended", _("The vendor's system says it ended")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        KEPT = "kept", _("Portal's association kept")
        TAKEN = "taken", _("Vendor's record taken")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="sync_conflicts"
    )
    workload = models.ForeignKey("partners.Workload", on_delete=models.PROTECT, related_name="+")
    association = models.ForeignKey(
        "customers.Association",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sync_conflicts",
        verbose_name=_("portal's association"),
    )
    portal_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="+"
    )
    imported_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    imported_since = models.DateField(_("since, per the vendor"))
    imported_ended_on = models.DateField(_("ended, per the vendor"), null=True, blank=True)
    first_run = models.ForeignKey(SyncRun, on_delete=models.PROTECT, related_name="+")
    last_run = models.ForeignKey(SyncRun, on_delete=models.PROTECT, related_name="+")
    times_seen = models.PositiveIntegerField(_("times seen"), default=1)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("found"), auto_now_add=True)

    class Meta:
        verbose_name = _("sync conflict")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "workload", "imported_partner", "kind"],
                condition=Q(state="open"),
                name="one_open_conflict_per_disagreement",
            )
        ]
        indexes = [models.Index(fields=["state", "-created_at"], name="sync_conflict_state")]

    def __str__(self) -> str:
        return f"{self.customer} · {self.workload}: {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class DecisionExport(models.Model):
    """A batch of decided claim lines sent to the vendor's system, under a stable name.

    Created (with its lines) before it is written; a run that dies before delivering it
    leaves it pending, and the next run delivers the very same batch again, so the vendor
    never sees a decision in two different batches.
    """

    run = models.ForeignKey(SyncRun, on_delete=models.PROTECT, related_name="exports")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    location = models.CharField(_("delivered to"), max_length=300, blank=True)
    line_count = models.PositiveIntegerField(_("decisions"), default=0)

    class Meta:
        verbose_name = _("decision export")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"decisions-{self.pk:06d}"


class ExportedDecision(models.Model):
    export = models.ForeignKey(DecisionExport, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey("claims.ClaimLine", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["export", "line"], name="one_line_per_export")
        ]
        indexes = [models.Index(fields=["line"], name="exported_decision_line")]

    def __str__(self) -> str:
        return f"{self.export} · {self.line_id}"


class SyncState(models.Model):
    """The single row that says who runs a sync now, and where each feed left off.

    The lease is taken with a conditional update (only when free or run out), so two
    runs never work at once; a run that dies leaves a lease that runs out on its own.
    """

    lease_owner = models.PositiveBigIntegerField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    cursors = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("sync state")

    def __str__(self) -> str:
        return f"lease {self.lease_owner or '—'} until {self.lease_until or '—'}"
