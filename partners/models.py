from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from claims_portal.business_days import Calendar
from claims_portal.uploads import image_storage, logo_upload_to

partner_code_validator = RegexValidator(
    r"^[A-Z0-9]{4,12}$", _("A partner code is 4 to 12 capital letters or digits.")
)


@dataclass(frozen=True)
class ProgramRules:
    """The rules of a program a claim was created under (a claim keeps its own copy).

    An administrator may change a program's rules at any time; a claim already started is
    checked and timed by the rules it was created under, so its outcome does not move
    under the parties' feet: the checks (minimum seats, claim limit, public sector), the
    SLA days and reminder lead, and the calendar its deadlines count on. A rule the
    snapshot lacks (added after the claim was created) is read from the program as it is.
    """

    min_seats: int
    claim_limit_per_partner: int | None
    public_sector_requires_authorisation: bool
    partner_confirm_days: int
    review_days: int
    correction_days: int
    reminder_days: int
    calendar_country: str
    calendar_subdivision: str
    # The program's extra closed days (ISO dates) when the claim was created; None for a
    # claim from before they were kept, which follows the program's (read when needed).
    closed_days: tuple[str, ...] | None

    # Plain fields of Program, copied as they are (a new period takes these too).
    PROGRAM_FIELDS = (
        "min_seats",
        "claim_limit_per_partner",
        "public_sector_requires_authorisation",
        "partner_confirm_days",
        "review_days",
        "correction_days",
        "reminder_days",
        "calendar_country",
        "calendar_subdivision",
    )

    @staticmethod
    def _closed_days(program: Program) -> tuple[str, ...]:
        return tuple(d.isoformat() for d in program.closed_days.values_list("date", flat=True))

    @classmethod
    def of(cls, program: Program) -> ProgramRules:
        values = {name: getattr(program, name) for name in cls.PROGRAM_FIELDS}
        return cls(**values, closed_days=cls._closed_days(program))

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any], program: Program) -> ProgramRules:
        values = {name: snapshot.get(name, getattr(program, name)) for name in cls.PROGRAM_FIELDS}
        closed = snapshot.get("closed_days")
        return cls(**values, closed_days=tuple(closed) if closed is not None else None)

    def as_snapshot(self) -> dict[str, Any]:
        closed = None if self.closed_days is None else list(self.closed_days)
        return {**asdict(self), "closed_days": closed}

    def calendar(self, program: Program) -> Calendar:
        closed = self.closed_days if self.closed_days is not None else self._closed_days(program)
        return Calendar(
            self.calendar_country,
            self.calendar_subdivision,
            (datetime.date.fromisoformat(day) for day in closed),
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
    # The calendar deadlines count on (claims_portal.business_days.Calendar).
    calendar_country = models.CharField(
        _("public holidays of (country)"),
        max_length=3,
        blank=True,
        help_text=_(
            "ISO code such as GB, US or DE; its public holidays are closed days. "
            "Empty: Monday to Friday, no holidays."
        ),
    )
    calendar_subdivision = models.CharField(
        _("region"),
        max_length=10,
        blank=True,
        help_text=_("Optional region of the country, such as ENG, CA or BY."),
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("remind before a deadline (business days)"),
        default=1,
        help_text=_("0: no reminder, only the escalation once a deadline has passed."),
    )
    invite_valid_days = models.PositiveSmallIntegerField(
        _("invite links valid for (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("How long a link to a claim a partner prepared stays valid."),
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

    @property
    def rules(self) -> ProgramRules:
        return ProgramRules.of(self)

    def clean(self) -> None:
        super().clean()
        self.calendar_country = self.calendar_country.strip().upper()
        self.calendar_subdivision = self.calendar_subdivision.strip().upper()
        supported = holidays.list_supported_countries()
        if self.calendar_country and self.calendar_country not in supported:
            raise ValidationError(
                {"calendar_country": _("The holidays calendar has no country with this code.")}
            )
        if self.calendar_subdivision:
            if not self.calendar_country:
                raise ValidationError({"calendar_subdivision": _("Pick the country first.")})
            if self.calendar_subdivision not in supported[self.calendar_country]:
                raise ValidationError(
                    {
                        "calendar_subdivision": _("%(country)s has no region %(region)s.")
                        % {"country": self.calendar_country, "region": self.calendar_subdivision}
                    }
                )

    def calendar(self) -> Calendar:
        """The program's business calendar: weekend, public holidays, extra closed days."""
        closed = self.closed_days.values_list("date", flat=True)
        return Calendar(self.calendar_country, self.calendar_subdivision, closed)


class ClosedDay(models.Model):
    """A day the program's deadlines do not count, beyond weekends and public holidays."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="closed_days")
    date = models.DateField(_("date"))
    name = models.CharField(_("why"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("closed day")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "date"],
                name="one_closed_day_per_program_date",
                violation_error_message=_("This day is closed already."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class PublicSectorField(models.Model):
    """An extra question a public-sector customer answers on a claim in this program."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="public_sector_fields"
    )
    key = models.SlugField(_("key"), max_length=40, help_text=_("Stays the same when relabelled."))
    label = models.CharField(_("label"), max_length=120)
    help_text = models.CharField(_("help text"), max_length=240, blank=True)
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("public-sector field")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "key"],
                name="one_public_sector_field_per_key",
                violation_error_message=_("The program has a field with this key already."),
            )
        ]

    def __str__(self) -> str:
        return self.label


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
    # Always a PNG the portal re-encoded (claims_portal.uploads.reencode_image).
    logo = models.ImageField(
        _("logo"), upload_to=logo_upload_to, storage=image_storage, blank=True, max_length=200
    )
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
    notes = models.TextField(_("notes"), blank=True)
    # Passive approval reads a catalog only once it is approved; every edit withdraws the
    # approval (partners.services.catalog_edited), so what was approved is what counts.
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("approved by"),
    )
    # Counts edits, so an approval given on a page is refused when the catalog changed since.
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)
    copied_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="copies",
        verbose_name=_("copied from"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

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

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None


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


class ClaimInvite(models.Model):
    """A link the partner sends a customer to open a claim it prepared (`/i/<token>/`).

    The token is signed (partners.invites) and names this row and its nonce, so it is
    bound to one claim; it stops working when it expires, is revoked or has been used.
    """

    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="invites")
    nonce = models.CharField(max_length=32, unique=True, editable=False)
    email = models.EmailField(_("customer's email"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    # The partner asked the portal to email the link; a worker sends it and sets sent_at.
    send_requested_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim"],
                condition=Q(revoked_at__isnull=True, used_at__isnull=True),
                name="one_live_invite_per_claim",
            )
        ]

    def __str__(self) -> str:
        return f"Invite to {self.claim_id} ({self.email or 'no email'})"


class PartnerInvitation(models.Model):
    """An invitation to join a partner's team, accepted through a signed, expiring link."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    role = models.CharField(
        _("role"),
        max_length=10,
        choices=PartnerMembership.Role.choices,
        default=PartnerMembership.Role.MEMBER,
    )
    nonce = models.CharField(max_length=32, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    send_requested_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "partner",
                Lower("email"),
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_partner_email",
                violation_error_message=_("This address already has an open invitation."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.partner}"
