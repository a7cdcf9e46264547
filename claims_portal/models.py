from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):  # noqa: ARG002
        raise TypeError("History entries are append-only.")

    def delete(self):
        raise TypeError("History entries are append-only.")


class AuditEntry(models.Model):
    """One audited action on an object other than a claim (claims keep their own Event chain).

    Entries of one object form a hash chain like a claim's events, so an edit or a gap
    is detectable. `action` is a namespaced code such as `customers.membership.removed`.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    seq = models.PositiveIntegerField()
    action = models.CharField(_("action"), max_length=80)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=200)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"))
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit history")
        ordering = ["content_type", "object_id", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "seq"], name="one_audit_entry_per_object_seq"
            )
        ]
        indexes = [models.Index(fields=["action", "created_at"], name="audit_action_time")]

    def __str__(self) -> str:
        return f"{self.object_repr}#{self.seq} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("History entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("History entries are append-only.")


class OutboxMessage(models.Model):
    """A task to hand to the broker once the transaction that asked for it has committed.

    Written in that same transaction, so the work is recorded exactly when the change that
    needs it is. The row is deleted once the broker has the message; a row still here
    after `next_attempt_at` is handed over by the relay sweep (`claims_portal.outbox`).
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    options = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("outbox message")
        indexes = [models.Index(fields=["next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class UserSession(models.Model):
    """A session a person signed in with, so removing their access can end it at once."""

    session_key = models.CharField(max_length=40, primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.session_key[:6]}…"
