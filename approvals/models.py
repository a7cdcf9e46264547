from __future__ import annotations

from django.conf import settings
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
