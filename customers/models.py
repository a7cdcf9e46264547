from __future__ import annotations

from django.conf import settings
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
    """The customer organisation (its tenant)."""

    class Segment(models.TextChoices):
        COMMERCIAL = "commercial", _("Commercial")
        PUBLIC_SECTOR = "public_sector", _("Public sector")
        EDUCATION = "education", _("Education")

    name = models.CharField(_("organisation name"), max_length=160)
    tenant_id = models.CharField(_("tenant id"), max_length=64, unique=True)
    verified_domains = models.TextField(
        _("verified domains"), blank=True, help_text=_("One domain per line.")
    )
    segment = models.CharField(
        _("segment"), max_length=20, choices=Segment.choices, default=Segment.COMMERCIAL
    )
    seats = models.PositiveIntegerField(_("seats"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public_sector(self) -> bool:
        return self.segment == self.Segment.PUBLIC_SECTOR


class CustomerMembership(models.Model):
    class Role(models.TextChoices):
        CONTRIBUTOR = "contributor", _("Contributor")
        APPROVER = "approver", _("Approver")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_membership"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        _("role"), max_length=12, choices=Role.choices, default=Role.CONTRIBUTOR
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} @ {self.customer} ({self.get_role_display()})"

    @property
    def is_approver(self) -> bool:
        return self.role == self.Role.APPROVER


class Association(models.Model):
    """Who is partner of record for one customer workload, and since when."""

    class Origin(models.TextChoices):
        # Granted by a claim, or entered by an administrator: the portal's own record.
        PORTAL = "portal", _("Portal")
        # Imported from the vendor's partner system, which may later move or end it.
        PARTNER_SYSTEM = "partner_system", _("Vendor's partner system")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="associations")
    workload = models.ForeignKey(
        "partners.Workload", on_delete=models.PROTECT, related_name="associations"
    )
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="associations"
    )
    since = models.DateField(_("since"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    source_claim = models.ForeignKey(
        "claims.Claim",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="associations",
    )
    active_usage_pct = models.DecimalField(
        _("active usage %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    usage_growth_pct = models.DecimalField(
        _("usage growth % (window)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    usage_updated_at = models.DateTimeField(_("usage updated"), null=True, blank=True)
    # db_default too: rows written by SQL (the benchmark filler, fixtures) are the portal's.
    origin = models.CharField(
        _("origin"),
        max_length=20,
        choices=Origin.choices,
        default=Origin.PORTAL,
        db_default=Origin.PORTAL,
    )

    class Meta:
        ordering = ["customer", "workload", "-since"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "workload"],
                condition=Q(ended_on__isnull=True),
                name="one_active_association_per_customer_workload",
                violation_error_message=_("This workload already has a partner of record."),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("since")),
                name="association_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["partner", "ended_on"], name="assoc_partner_active")]

    def __str__(self) -> str:
        return f"{self.customer} · {self.workload} → {self.partner}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class UsageSnapshot(models.Model):
    """One day's usage of one customer workload, as the vendor's partner system reported it.

    Imported on a schedule (claims_portal.partner_system); eligibility rules for moving a
    workload read the series (usage threshold, no growth over a window).
    """

    # Written a million rows at a time by the partner-system import, which joins the
    # customers and workloads it names and takes the KEY SHARE lock a foreign key's trigger
    # would take, once per customer instead of once per row: so no constraint in the
    # database (it tripled the import's time), and no index of its own for the customer
    # (the unique index starts with it). Deletes still cascade / protect through Django.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="usage",
        db_index=False,
        db_constraint=False,
    )
    workload = models.ForeignKey(
        "partners.Workload", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    date = models.DateField(_("date"))
    active_users = models.PositiveIntegerField(_("active users"))
    licensed_seats = models.PositiveIntegerField(_("licensed seats"))
    active_usage_pct = models.DecimalField(
        _("active usage %"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    imported_at = models.DateTimeField(_("imported"), auto_now=True)

    class Meta:
        verbose_name = _("usage snapshot")
        ordering = ["customer", "workload", "-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "workload", "date"], name="one_usage_snapshot_per_day"
            ),
            models.CheckConstraint(
                condition=Q(active_usage_pct__gte=0) & Q(active_usage_pct__lte=100),
                name="usage_pct_between_0_and_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.workload_id} {self.date}: {self.active_usage_pct}%"


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

    OPEN_STATUSES = (Status.OPEN, Status.AWAITING_RESPONSE, Status.IN_REVIEW)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Invitation(models.Model):
    """A colleague invited by email to join the organisation; joins through a signed link."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    role = models.CharField(
        _("role"),
        max_length=12,
        choices=CustomerMembership.Role.choices,
        default=CustomerMembership.Role.CONTRIBUTOR,
    )
    # Part of the signed token: a link stays tied to this invitation and no other.
    nonce = models.CharField(max_length=32, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "customer",
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.customer}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None
