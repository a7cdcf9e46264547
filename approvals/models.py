from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Decision(models.Model):
    """The rule check of one claim line: every rule's result, kept for audit."""

    line = models.ForeignKey("claims.ClaimLine", on_delete=models.CASCADE, related_name="decisions")
    passed = models.BooleanField()
    reason_codes = models.JSONField(default=list, blank=True)
    results = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.line} · {'passed' if self.passed else ', '.join(self.reason_codes)}"


class ReviewTask(models.Model):
    """An item in the claims team's exception queue."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="review_tasks")
    reasons = models.JSONField(_("reasons"), default=list)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_tasks",
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim"], condition=Q(state="open"), name="one_open_task_per_claim"
            )
        ]
        indexes = [models.Index(fields=["state", "due_at"], name="review_task_queue")]

    def __str__(self) -> str:
        return f"Review {self.claim}"


class ChangePolicy(models.Model):
    """When a workload may move to another partner without a dispute (per program)."""

    program = models.OneToOneField(
        "partners.Program", on_delete=models.CASCADE, related_name="change_policy"
    )
    usage_threshold_pct = models.DecimalField(
        _("usage threshold %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    large_customer_seats = models.PositiveIntegerField(_("large customer from seats"), default=500)
    large_customer_threshold_pct = models.DecimalField(
        _("usage threshold % for large customers"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    no_growth_days = models.PositiveSmallIntegerField(_("no growth window (days)"), default=90)

    class Meta:
        verbose_name = _("change eligibility policy")
        verbose_name_plural = _("change eligibility policies")

    def __str__(self) -> str:
        return f"{self.program} policy"


class ChangeRequest(models.Model):
    """A request to move a customer workload to another partner, or a dispute over it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        AWAITING_RESPONSE = "awaiting_response", _("Awaiting losing partner")
        IN_REVIEW = "in_review", _("With the claims team")
        GRANTED = "granted", _("Granted")
        DENIED = "denied", _("Denied")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="change_requests"
    )
    workload = models.ForeignKey("partners.Workload", on_delete=models.PROTECT, related_name="+")
    from_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="changes_away"
    )
    to_partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="changes_towards"
    )
    claim = models.ForeignKey(
        "claims.Claim",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="change_requests",
    )
    eligible = models.BooleanField(null=True)
    eligibility = models.JSONField(default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    evidence = models.FileField(
        _("evidence"),
        upload_to="evidence/%Y/",
        blank=True,
        validators=[FileExtensionValidator(["pdf", "png", "jpg", "jpeg", "docx", "xlsx", "csv"])],
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    waiver_signed_at = models.DateTimeField(null=True, blank=True)
    losing_partner_response = models.TextField(blank=True)
    respond_by = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_partner=models.F("to_partner")),
                name="change_between_different_partners",
            )
        ]
        indexes = [
            models.Index(fields=["customer", "workload", "status"], name="change_request_open")
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.workload}: {self.from_partner} → {self.to_partner}"

    @property
    def is_open(self) -> bool:
        return self.status in {
            self.Status.OPEN,
            self.Status.AWAITING_RESPONSE,
            self.Status.IN_REVIEW,
        }
