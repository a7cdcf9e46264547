from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from claims_portal.models import AppendOnlyQuerySet


class Decision(models.Model):
    """The rule check of one claim line: every rule's result, kept for audit.

    Append-only, like a claim's events: nothing a customer does (editing, removing a line,
    withdrawing) deletes or changes one, and PostgreSQL refuses an UPDATE or DELETE.
    """

    line = models.ForeignKey("claims.ClaimLine", on_delete=models.PROTECT, related_name="decisions")
    passed = models.BooleanField()
    reason_codes = models.JSONField(default=list, blank=True)
    # Every rule's result with what it looked at, as the rules saw it at the time.
    results = models.JSONField(default=list)
    # The version of the rules that decided (approvals.rules.RULE_SET).
    rule_set = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.line} · {'passed' if self.passed else ', '.join(self.reason_codes)}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("Decisions are kept as they were made.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Decisions are kept as they were made.")


class ReviewTask(models.Model):
    """An item in the claims team's exception queue."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="review_tasks")
    # The claim's parties and program, copied (they never change on a claim) so the queue
    # filters and searches its own rows instead of joining 200,000 of them to the claims.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", editable=False
    )
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.CASCADE, related_name="+", editable=False
    )
    program = models.ForeignKey(
        "partners.Program", on_delete=models.CASCADE, related_name="+", editable=False
    )
    reasons = models.JSONField(_("reasons"), default=list)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_tasks",
    )
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # How the claim left the queue (the status it went to) and who moved it.
    outcome = models.CharField(_("outcome"), max_length=30, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim"], condition=Q(state="open"), name="one_open_task_per_claim"
            )
        ]
        # One partial index per view of the queue, in the order each view is read, so a
        # page (and the capped count of each view) reads a few index entries, not the queue.
        indexes = [
            models.Index(
                fields=["due_at", "id"], condition=Q(state="open"), name="review_task_open_due"
            ),
            models.Index(
                fields=["created_at", "id"],
                condition=Q(state="open"),
                name="review_task_open_created",
            ),
            models.Index(
                fields=["assignee", "due_at", "id"],
                condition=Q(state="open"),
                name="review_task_open_assignee",
            ),
            models.Index(
                fields=["due_at", "id"],
                condition=Q(state="open", assignee__isnull=True),
                name="review_task_unassigned",
            ),
            models.Index(
                fields=["closed_at", "id"], condition=Q(state="done"), name="review_task_closed"
            ),
            models.Index(
                fields=["partner", "due_at", "id"],
                condition=Q(state="open"),
                name="review_task_open_partner",
            ),
            models.Index(
                fields=["customer"], condition=Q(state="open"), name="review_task_open_customer"
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.claim}"

    def save(self, *args, **kwargs) -> None:
        if self.claim_id is not None and self.partner_id is None:
            # The copy of the claim's parties is made once, when the item is created.
            self.customer_id = self.claim.customer_id
            self.partner_id = self.claim.partner_id
            self.program_id = self.claim.program_id
        super().save(*args, **kwargs)


class ReviewerAvailability(models.Model):
    """Whether a member of the claims team takes new work from the assignment rules."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_availability"
    )
    is_away = models.BooleanField(
        _("away"), default=False, help_text=_("Away: automatic assignment skips this reviewer.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("reviewer availability")
        verbose_name_plural = _("reviewer availability")

    def __str__(self) -> str:
        return f"{self.user} ({'away' if self.is_away else 'available'})"


class AssignmentRule(models.Model):
    """Who gets a new queue item: the first active rule matching its program and partner.

    A rule with one reviewer assigns to that reviewer; with several, it takes turns
    among them (round robin), skipping those marked away. Empty program or partner
    matches every claim.
    """

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("Rules are tried from the lowest number.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    program = models.ForeignKey(
        "partners.Program",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("program"),
    )
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("partner"),
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("reviewers")
    )
    # The round robin's place: the next turn goes to the first reviewer after this one.
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("assignment rule")

    def __str__(self) -> str:
        return self.name


class RejectionReason(models.Model):
    """A reason the claims team picks when rejecting a service (set in admin)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=200)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "label"]
        verbose_name = _("rejection reason")

    def __str__(self) -> str:
        return self.label


class LineVerdict(models.Model):
    """The claims team's decision on one service: approved, or rejected with a reason."""

    line = models.ForeignKey("claims.ClaimLine", on_delete=models.CASCADE, related_name="verdicts")
    task = models.ForeignKey(
        ReviewTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="verdicts"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved = models.BooleanField()
    reason = models.ForeignKey(
        RejectionReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("note"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.line}: {'approved' if self.approved else self.reason or self.note}"
