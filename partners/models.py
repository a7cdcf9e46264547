from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

partner_code_validator = RegexValidator(
    r"^[A-Z0-9]{4,12}$", _("A partner code is 4 to 12 capital letters or digits.")
)


class Program(models.Model):
    """A partner program for one period, with the rules its claims are checked against."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    logo = models.ImageField(_("logo"), upload_to="programs/", blank=True)
    workloads = models.ManyToManyField(
        "partners.Workload", related_name="programs", blank=True, verbose_name=_("workloads")
    )
    min_seats = models.PositiveIntegerField(_("minimum seats"), default=0)
    claim_limit_per_partner = models.PositiveIntegerField(
        _("claim limit per partner"),
        null=True,
        blank=True,
        help_text=_("Approved claims a partner may hold in this program; empty for no limit."),
    )
    public_sector_requires_authorisation = models.BooleanField(
        _("public-sector claims need an authorised partner"), default=True
    )
    partner_confirm_days = models.PositiveSmallIntegerField(
        _("partner confirms within (business days)"), default=5
    )
    review_days = models.PositiveSmallIntegerField(
        _("claims team decides within (business days)"), default=5
    )
    correction_days = models.PositiveSmallIntegerField(
        _("customer corrects within (business days)"), default=10
    )

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="program_end_after_start",
                violation_error_message=_("A program cannot end before it starts."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def is_current(self, on: datetime.date) -> bool:
        return self.start_date <= on <= self.end_date


class Workload(models.Model):
    """A service a partner can deliver, such as Exchange Online or Intune."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Partner(models.Model):
    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("URL slug"), max_length=60, unique=True)
    code = models.CharField(
        _("partner code"), max_length=12, unique=True, validators=[partner_code_validator]
    )
    partner_id = models.CharField(_("partner id"), max_length=40, unique=True)
    logo = models.ImageField(_("logo"), upload_to="partners/", blank=True)
    contact_email = models.EmailField(_("contact address"))
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Untick to suspend the partner.")
    )
    public_sector_authorised = models.BooleanField(_("public-sector authorised"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.code = self.code.upper()
        super().save(*args, **kwargs)


class PartnerMembership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Partner member")
        ADMIN = "admin", _("Partner admin")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_membership"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} @ {self.partner} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class SowCatalog(models.Model):
    """The partner's pre-approved standard SOW items for one program period."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="catalogs")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="catalogs")
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("SOW catalog")
        verbose_name_plural = _("SOW catalogs")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "program"],
                name="one_catalog_per_partner_program",
                violation_error_message=_("This partner already has a catalog for the program."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.program}"


class SowCatalogItem(models.Model):
    catalog = models.ForeignKey(SowCatalog, on_delete=models.CASCADE, related_name="items")
    workload = models.ForeignKey(Workload, on_delete=models.PROTECT, related_name="+")
    max_seats = models.PositiveIntegerField(
        _("maximum seats"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("SOW catalog item")
        constraints = [
            models.UniqueConstraint(
                fields=["catalog", "workload"], name="one_item_per_catalog_workload"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="catalog_item_dates_ordered",
                violation_error_message=_("An item cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.workload)

    def covers(self, on: datetime.date) -> bool:
        if self.valid_from and on < self.valid_from:
            return False
        return not (self.valid_until and on > self.valid_until)


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
