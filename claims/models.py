from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from claims_portal.business_days import Calendar
from claims_portal.models import AppendOnlyQuerySet
from claims_portal.uploads import private_storage, sow_upload_to
from partners.models import ProgramRules


class ClaimAction(models.TextChoices):
    """Everything that can happen to a claim, as recorded in its history."""

    CREATE = "created", _("Created")
    PREPARE = "prepare", _("Prepared by the partner")
    EDIT = "edit", _("Edited")
    ROUTE = "route", _("Sent to the approver")
    SIGN = "sign", _("Signed and submitted")
    RESUBMIT = "resubmit", _("Corrected and resubmitted")
    CONFIRM = "confirm", _("Confirmed by the partner")
    RETURN = "return", _("Returned to the customer")
    EVALUATE = "evaluate", _("Checked automatically")
    DECIDE = "decide", _("Decided by the claims team")
    REVIEW_RETURN = "review_return", _("Returned by the claims team")
    REVIEW_RETURN_PARTNER = "review_return_partner", _("Returned to the partner by the claims team")
    WITHDRAW = "withdraw", _("Withdrawn")
    # Not moves of the claim, but part of its history all the same.
    ASSIGN = "assign", _("Assigned in the claims team")
    REMIND = "remind", _("Reminder sent")
    ESCALATE = "escalate", _("Escalated")
    # A comment for the claim's parties (claims-team internal notes are never events).
    COMMENT = "comment", _("Commented")


class ClaimRole(models.TextChoices):
    """The part a person plays on one claim; the life cycle's table is written in these."""

    CONTRIBUTOR = "customer_contributor", _("Customer contributor")
    APPROVER = "customer_approver", _("Customer approver")
    PARTNER = "partner", _("Partner")
    CLAIMS_TEAM = "claims_team", _("Claims team")
    SYSTEM = "system", _("Claims portal (automatic)")


class Claim(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING_CUSTOMER_APPROVAL = "awaiting_customer_approval", _("Awaiting customer approval")
        AWAITING_PARTNER = "awaiting_partner", _("Awaiting partner")
        RETURNED_TO_CUSTOMER = "returned_to_customer", _("Returned to customer")
        EVALUATING = "evaluating", _("Being checked")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        PARTIALLY_APPROVED = "partially_approved", _("Partially approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class SurveyContactMode(models.TextChoices):
        ONE_FOR_ALL = "one", _("One contact for all services")
        PER_SERVICE = "per_service", _("One contact per service")

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="claims")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="claims"
    )
    program = models.ForeignKey("partners.Program", on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(
        _("status"), max_length=30, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    survey_contact_mode = models.CharField(
        _("survey contact"),
        max_length=12,
        choices=SurveyContactMode.choices,
        default=SurveyContactMode.ONE_FOR_ALL,
    )
    survey_contact_name = models.CharField(_("survey contact name"), max_length=120, blank=True)
    survey_contact_email = models.EmailField(_("survey contact email"), blank=True)
    survey_contact_phone = models.CharField(_("survey contact phone"), max_length=40, blank=True)
    # The program's public-sector fields as the customer filled them: {key: {label,
    # required, value}}, so a field changed in admin later does not change this claim.
    public_sector_details = models.JSONField(_("public-sector details"), default=dict, blank=True)
    # Checked by content (claims_portal.uploads.check_pdf) where it is uploaded; kept
    # outside the web root and served only through the claim's pages.
    custom_sow = models.FileField(
        _("custom SOW document"),
        upload_to=sow_upload_to,
        storage=private_storage,
        blank=True,
        max_length=200,
    )
    # Prepared by the partner for the customer to review and sign (an invite link), so the
    # partner sees it before the customer has signed.
    partner_prepared = models.BooleanField(
        _("prepared by the partner"), default=False, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_name = models.CharField(_("signed as"), max_length=120, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # The clock (claims.deadlines): the deadline of the party whose turn it is, when the
    # reminder for it is due, whether reminder and escalation went out (each once, claimed
    # with a conditional update), and what the other parties' stopped clocks had left.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    # The program's rules when the claim was created (partners.models.ProgramRules): a
    # later change in admin applies to new claims only.
    program_rules = models.JSONField(_("program rules"), default=dict, blank=True, editable=False)
    remind_at = models.DateTimeField(_("reminder due"), null=True, blank=True, editable=False)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True, editable=False)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True, editable=False)
    partner_time_left = models.DurationField(
        _("partner's clock, paused with"), null=True, blank=True, editable=False
    )
    review_time_left = models.DurationField(
        _("claims team's clock, paused with"), null=True, blank=True, editable=False
    )
    # What the check before signing said (claims.checks), as the approver saw it.
    signing_check = models.JSONField(
        _("check at signing"), default=dict, blank=True, editable=False
    )
    # The claim form that created this claim: a second submit of that form (a double
    # click) finds this claim instead of making another.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        # The partner's dashboard reads 55,000 claims of one partner out of 1,000,000, spread
        # over the whole table; these indexes carry every column its filters, counts and
        # pages read, so PostgreSQL answers from the index alone (index-only scans) instead
        # of visiting tens of thousands of table pages (bench/README.md, issue 7).
        indexes = [
            models.Index(
                fields=["partner", "-created_at", "-id"],
                include=[
                    "status",
                    "partner_prepared",
                    "program",
                    "customer",
                    "submitted_at",
                    "due_at",
                    "reference",
                ],
                name="claim_partner_list",
            ),
            models.Index(
                fields=["partner", "status", "-created_at", "-id"],
                include=["partner_prepared", "program"],
                name="claim_partner_status_list",
            ),
            models.Index(
                fields=["partner", "due_at", "-id"],
                include=["status", "partner_prepared"],
                name="claim_partner_due",
            ),
            models.Index(fields=["customer", "-created_at"], name="claim_customer_recent"),
            models.Index(fields=["status", "updated_at"], name="claim_status_updated"),
            # What beat looks for: small, since a claim leaves them once handled or moved on.
            models.Index(
                fields=["remind_at"],
                condition=Q(remind_at__isnull=False, reminded_at__isnull=True),
                name="claim_reminder_due",
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(due_at__isnull=False, escalated_at__isnull=True),
                name="claim_escalation_due",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_decided(self) -> bool:
        return self.status in DECIDED_STATES

    @property
    def rules(self) -> ProgramRules:
        """The program rules this claim is checked and timed by."""
        return ProgramRules.from_snapshot(self.program_rules, self.program)

    def calendar(self) -> Calendar:
        """The business calendar this claim's deadlines count on (from its rules)."""
        return self.rules.calendar(self.program)


DECIDED_STATES = frozenset(
    {
        Claim.Status.APPROVED,
        Claim.Status.PARTIALLY_APPROVED,
        Claim.Status.REJECTED,
        Claim.Status.WITHDRAWN,
    }
)
OPEN_STATES = frozenset(
    {
        Claim.Status.AWAITING_PARTNER,
        Claim.Status.RETURNED_TO_CUSTOMER,
        Claim.Status.EVALUATING,
        Claim.Status.IN_REVIEW,
    }
)


class ClaimLine(models.Model):
    """One workload on a claim, decided on its own."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        IN_REVIEW = "in_review", _("In review")
        REJECTED = "rejected", _("Rejected")
        # Dropped by the customer after it was checked: kept, with its decisions, for audit.
        REMOVED = "removed", _("Removed by the customer")
        # Taken back with the claim before it was decided.
        WITHDRAWN = "withdrawn", _("Withdrawn")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    workload = models.ForeignKey("partners.Workload", on_delete=models.PROTECT, related_name="+")
    # Empty only in a draft: a claim is routed or signed only when every line is complete.
    target_start = models.DateField(_("target start"), null=True, blank=True)
    target_end = models.DateField(_("target completion"), null=True, blank=True)
    seats = models.PositiveIntegerField(
        _("seats"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    survey_contact_name = models.CharField(_("survey contact name"), max_length=120, blank=True)
    survey_contact_email = models.EmailField(_("survey contact email"), blank=True)
    survey_contact_phone = models.CharField(_("survey contact phone"), max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING, editable=False
    )

    class Meta:
        ordering = ["workload__name"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "workload"], name="one_line_per_workload"),
            models.CheckConstraint(
                condition=Q(target_end__gte=models.F("target_start")),
                name="line_target_end_after_start",
                violation_error_message=_("The target end date cannot be before the start."),
            ),
        ]
        indexes = [models.Index(fields=["workload", "status"], name="line_workload_status")]

    def __str__(self) -> str:
        return f"{self.claim.reference} · {self.workload}"


class ReferenceCounter(models.Model):
    """Last reference number handed out per year; locked row keeps numbers gap-free."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Event(models.Model):
    """One link in a claim's chain of custody: append-only and hash-chained."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=40, choices=ClaimAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    actor_role = models.CharField(max_length=30, choices=ClaimRole.choices)
    from_status = models.CharField(max_length=30, blank=True, choices=Claim.Status.choices)
    to_status = models.CharField(max_length=30, blank=True, choices=Claim.Status.choices)
    changes = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["claim", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "seq"], name="one_event_per_claim_seq")
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}#{self.seq} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("Events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Events are append-only.")


class Comment(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The part the author played on the claim when writing (shown beside the comment).
    author_role = models.CharField(max_length=30, choices=ClaimRole.choices, blank=True)
    body = models.TextField(_("comment"), max_length=4000)
    internal = models.BooleanField(
        _("internal work note"), default=False, help_text=_("Seen by the claims team only.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.body[:40]}"


class Notification(models.Model):
    """An outbox row per recipient: in-app list and the email a worker sends after commit."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="notifications")
    subject = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"], name="one_notification_per_event_user"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(emailed_at__isnull=True),
                name="notification_unsent",
            ),
            # A person's list, newest first, and their unread count (a partner member hears
            # of every claim of the partner: hundreds of thousands of rows).
            models.Index(
                fields=["user", "-created_at", "-id"],
                include=["read_at"],
                name="notification_inbox",
            ),
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.subject
