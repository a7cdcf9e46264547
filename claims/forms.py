from __future__ import annotations

import datetime

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from claims.lifecycle import ClaimInput, LineInput
from claims.models import Claim
from claims.services import OrganisationInput, Signature
from customers.models import Customer
from customers.services import (
    OrganisationError,
    domains_taken,
    normalise_tenant_id,
    parse_domains,
)
from partners.models import Partner, Workload

MAX_SEATS = 10_000_000


def normalise_partner_code(value: str) -> str:
    """A partner code as stored: capitals, without the spaces or dashes people type."""
    return "".join(ch for ch in value if not ch.isspace() and ch != "-").upper()


class PartnerCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Partner code"),
        # Room for the spaces and dashes people add when they copy a code.
        max_length=40,
        help_text=_("The short code your partner gave you, for example CONTOSO1."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner: Partner | None = None
        # Whether a partner was looked up and not found: what the rate limit counts.
        self.lookup_failed = False

    def clean_code(self) -> str:
        code = normalise_partner_code(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Enter the code your partner gave you."))
        partner = Partner.objects.filter(code=code).first()
        if partner is None:
            self.lookup_failed = True
            raise forms.ValidationError(
                _("No partner has the code %(code)s. Check the code your partner gave you."),
                code="unknown",
                params={"code": code},
            )
        if not partner.is_active:
            self.lookup_failed = True
            raise forms.ValidationError(
                _(
                    "%(name)s is not taking claims at the moment. Ask them for an up-to-date "
                    "code, or contact the partner program."
                ),
                code="suspended",
                params={"name": partner.name},
            )
        self.partner = partner
        return code


class OrganisationForm(forms.ModelForm):
    """Names the customer organisation the first time someone from it signs in."""

    domains = forms.CharField(
        label=_("Email domains"),
        max_length=2000,
        # Left empty: the domain of the person's own address.
        required=False,
        help_text=_(
            "Your organisation's email domains, separated by commas, such as contoso.com. "
            "Colleagues with an address at these domains can join; yours must be one of them."
        ),
    )

    class Meta:
        model = Customer
        fields = ["name", "tenant_id", "domains", "segment", "seats"]
        help_texts = {
            "tenant_id": _("Your tenant id (a GUID or your primary domain)."),
            "seats": _("How many licensed seats your organisation has."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seats"].validators.append(MaxValueValidator(MAX_SEATS))

    def to_input(self) -> OrganisationInput:
        data = self.cleaned_data
        return OrganisationInput(
            name=data["name"],
            tenant_id=data["tenant_id"],
            segment=data["segment"],
            seats=data["seats"],
            domains=tuple(data["domains"]),
        )

    def clean_tenant_id(self) -> str:
        try:
            tenant_id = normalise_tenant_id(self.cleaned_data["tenant_id"])
        except OrganisationError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if Customer.objects.filter(tenant_id__iexact=tenant_id).exists():
            raise forms.ValidationError(
                _(
                    "This tenant is already registered. Ask its approver to invite you from "
                    "its Organisation page, then open the invitation link."
                )
            )
        return tenant_id

    def clean_domains(self) -> list[str]:
        if not self.cleaned_data["domains"].strip():
            return []
        try:
            domains = parse_domains(self.cleaned_data["domains"])
        except OrganisationError as exc:
            raise forms.ValidationError(str(exc)) from exc
        taken = domains_taken(domains)
        if taken:
            raise forms.ValidationError(
                _(
                    "%(domains)s already belongs to an organisation registered here. Ask your "
                    "organisation's approver to invite you from its Organisation page."
                ),
                params={"domains": ", ".join(taken)},
            )
        return domains


class ClaimContactForm(forms.Form):
    survey_contact_mode = forms.ChoiceField(
        label=_("Survey contact"),
        choices=Claim.SurveyContactMode.choices,
        initial=Claim.SurveyContactMode.ONE_FOR_ALL,
        widget=forms.RadioSelect,
    )
    survey_contact_name = forms.CharField(label=_("Contact name"), max_length=120, required=False)
    survey_contact_email = forms.EmailField(label=_("Contact email"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("survey_contact_mode") == Claim.SurveyContactMode.ONE_FOR_ALL:
            if not data.get("survey_contact_name"):
                self.add_error("survey_contact_name", _("Name the survey contact."))
            if not data.get("survey_contact_email") and "survey_contact_email" not in self.errors:
                self.add_error("survey_contact_email", _("Give the survey contact's email."))
        return data


class LineForm(forms.Form):
    """One workload the customer may claim; ignored unless ticked."""

    selected = forms.BooleanField(required=False)
    target_start = forms.DateField(
        label=_("Target start"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    target_end = forms.DateField(
        label=_("Target end"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    seats = forms.IntegerField(
        label=_("Seats"),
        required=False,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SEATS)],
    )
    survey_contact_name = forms.CharField(label=_("Contact name"), max_length=120, required=False)
    survey_contact_email = forms.EmailField(label=_("Contact email"), required=False)

    def __init__(self, *args, workload: Workload, per_service_contact: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.workload = workload
        self.per_service_contact = per_service_contact

    def clean(self):
        data = super().clean()
        if not data.get("selected"):
            return data
        required = {
            "target_start": _("Give a target start date."),
            "target_end": _("Give a target end date."),
            "seats": _("Give the number of seats."),
        }
        if self.per_service_contact:
            required["survey_contact_name"] = _("Name the survey contact for this service.")
            required["survey_contact_email"] = _("Give the survey contact's email.")
        for name, message in required.items():
            if data.get(name) in (None, "") and name not in self.errors:
                self.add_error(name, message)
        start, end = data.get("target_start"), data.get("target_end")
        if start and end and end < start:
            self.add_error("target_end", _("The target end cannot be before the start."))
        if start and start < datetime.date(2000, 1, 1):
            self.add_error("target_start", _("Give a date from this century."))
        return data


class ClaimForm:
    """The contact form plus one LineForm per workload of the program, validated as one."""

    def __init__(self, workloads, data=None, initial_claim: Claim | None = None):
        self.is_bound = data is not None
        contact_initial = {}
        line_initial: dict[int, dict] = {}
        if initial_claim is not None:
            contact_initial = {
                "survey_contact_mode": initial_claim.survey_contact_mode,
                "survey_contact_name": initial_claim.survey_contact_name,
                "survey_contact_email": initial_claim.survey_contact_email,
            }
            for line in initial_claim.lines.all():
                line_initial[line.workload_id] = {
                    "selected": True,
                    "target_start": line.target_start,
                    "target_end": line.target_end,
                    "seats": line.seats,
                    "survey_contact_name": line.survey_contact_name,
                    "survey_contact_email": line.survey_contact_email,
                }
        self.contact = ClaimContactForm(data, initial=contact_initial, prefix="contact")
        mode = (data or {}).get("contact-survey_contact_mode") or contact_initial.get(
            "survey_contact_mode"
        )
        per_service = mode == Claim.SurveyContactMode.PER_SERVICE
        self.lines = [
            LineForm(
                data,
                prefix=f"w{workload.pk}",
                workload=workload,
                per_service_contact=per_service,
                initial=line_initial.get(workload.pk, {}),
            )
            for workload in workloads
        ]
        self.non_field_errors: list[str] = []

    def is_valid(self) -> bool:
        valid = self.contact.is_valid()
        # Every line is validated, not just up to the first bad one, so all errors show.
        line_results = [line.is_valid() for line in self.lines]
        valid = all(line_results) and valid
        if self.is_bound and not any(
            line.is_valid() and line.cleaned_data.get("selected") for line in self.lines
        ):
            if not any(line.errors for line in self.lines):
                self.non_field_errors.append(str(_("Pick at least one service to claim.")))
            valid = False
        return valid

    def to_input(self) -> ClaimInput:
        contact = self.contact.cleaned_data
        per_service = contact["survey_contact_mode"] == Claim.SurveyContactMode.PER_SERVICE
        return ClaimInput(
            survey_contact_mode=contact["survey_contact_mode"],
            survey_contact_name="" if per_service else contact["survey_contact_name"],
            survey_contact_email="" if per_service else contact["survey_contact_email"],
            lines=[
                LineInput(
                    workload_id=line.workload.pk,
                    target_start=line.cleaned_data["target_start"],
                    target_end=line.cleaned_data["target_end"],
                    seats=line.cleaned_data["seats"],
                    survey_contact_name=line.cleaned_data["survey_contact_name"]
                    if per_service
                    else "",
                    survey_contact_email=line.cleaned_data["survey_contact_email"]
                    if per_service
                    else "",
                )
                for line in self.lines
                if line.cleaned_data.get("selected")
            ],
        )


class SignForm(forms.Form):
    signed_name = forms.CharField(
        label=_("Your full name"),
        max_length=120,
        help_text=_("Typing your name signs this claim for your organisation."),
    )
    attest = forms.BooleanField(
        label=_("I confirm that I am authorised to sign for my organisation."),
        error_messages={"required": _("Confirm that you may sign for your organisation.")},
    )

    def to_signature(self) -> Signature:
        return Signature(
            name=self.cleaned_data["signed_name"], attested=self.cleaned_data["attest"]
        )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what needs correcting.")},
    )


class WithdrawForm(forms.Form):
    comment = forms.CharField(
        label=_("Withdraw the claim (optional reason)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
