from __future__ import annotations

import uuid

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.content import MAX_SEATS, ClaimInput, LineInput, date_problems
from claims.lifecycle import last_version
from claims.models import Claim, ClaimLine
from claims.services import OrganisationInput, Signature
from customers.models import Customer
from customers.services import (
    OrganisationError,
    domains_taken,
    normalise_tenant_id,
    parse_domains,
)
from partners.models import Partner, Program, Workload


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


_PHONE = RegexValidator(
    r"^\+?[0-9 ()./-]{5,40}$", _("Enter a phone number, such as +44 20 7946 0958.")
)


class ClaimContactForm(forms.Form):
    survey_contact_mode = forms.ChoiceField(
        label=_("Survey contact"),
        choices=Claim.SurveyContactMode.choices,
        initial=Claim.SurveyContactMode.ONE_FOR_ALL,
        widget=forms.RadioSelect,
    )
    survey_contact_name = forms.CharField(label=_("Contact name"), max_length=120, required=False)
    survey_contact_email = forms.EmailField(label=_("Contact email"), required=False)
    survey_contact_phone = forms.CharField(
        label=_("Contact phone"), max_length=40, required=False, validators=[_PHONE]
    )

    def __init__(self, *args, complete: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # Routing and signing need a complete claim; a draft may be saved half done.
        self.complete = complete

    def clean(self):
        data = super().clean()
        one = data.get("survey_contact_mode") == Claim.SurveyContactMode.ONE_FOR_ALL
        if self.complete and one:
            if not data.get("survey_contact_name") and "survey_contact_name" not in self.errors:
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
        label=_("Target completion"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    seats = forms.IntegerField(
        label=_("Seats"),
        required=False,
        validators=[
            MinValueValidator(1, _("Give at least 1 seat.")),
            MaxValueValidator(MAX_SEATS, _("Give at most 10,000,000 seats.")),
        ],
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1}),
    )
    survey_contact_name = forms.CharField(label=_("Contact name"), max_length=120, required=False)
    survey_contact_email = forms.EmailField(label=_("Contact email"), required=False)
    survey_contact_phone = forms.CharField(
        label=_("Contact phone"), max_length=40, required=False, validators=[_PHONE]
    )

    def __init__(
        self,
        *args,
        workload: Workload,
        program: Program,
        per_service_contact: bool,
        saved: ClaimLine | None = None,
        offered: bool = True,
        complete: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.workload = workload
        self.program = program
        self.per_service_contact = per_service_contact
        self.saved = saved
        self.offered = offered
        self.complete = complete
        # Labels name the service, so each field is told apart by a screen reader too.
        for name in ("target_start", "target_end", "seats"):
            self.fields[name].widget.attrs["aria-describedby"] = f"{self.prefix}-title"

    @property
    def approved(self) -> bool:
        return self.saved is not None and self.saved.status == ClaimLine.Status.APPROVED

    def clean(self):
        data = super().clean()
        if not data.get("selected"):
            return data
        if not self.offered:
            self.add_error(
                "selected",
                _("%(service)s is no longer offered in this program; untick it to go on.")
                % {"service": self.workload.name},
            )
            return data
        if self.complete:
            required = {
                "target_start": _("Give a target start date."),
                "target_end": _("Give a target completion date."),
                "seats": _("Give the number of seats."),
            }
            if self.per_service_contact:
                required["survey_contact_name"] = _("Name the survey contact for this service.")
                required["survey_contact_email"] = _("Give the survey contact's email.")
            for name, message in required.items():
                if data.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, message)
        start, end = data.get("target_start"), data.get("target_end")
        # A start that was saved before may have passed since; only a newly typed one must
        # not be in the past.
        unchanged = self.saved is not None and self.saved.target_start == start
        problems = date_problems(
            start, end, self.program, today=None if unchanged else timezone.localdate()
        )
        for name, message in problems.items():
            if name not in self.errors:
                self.add_error(name, message)
        return data


class PublicSectorForm(forms.Form):
    """The extra questions the program asks public-sector customers (set in admin)."""

    def __init__(self, *args, questions=(), complete: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        self.complete = complete
        for question in self.questions:
            self.fields[question.key] = forms.CharField(
                label=question.label,
                help_text=question.help_text,
                max_length=500,
                required=False,
            )

    def clean(self):
        data = super().clean()
        if self.complete:
            for question in self.questions:
                if (
                    question.required
                    and not data.get(question.key)
                    and question.key not in self.errors
                ):
                    self.add_error(question.key, _("This is required for public-sector claims."))
        return data

    def details(self) -> dict[str, dict]:
        return {
            q.key: {
                "label": q.label,
                "required": q.required,
                "value": self.cleaned_data.get(q.key, ""),
            }
            for q in self.questions
        }


class ClaimMetaForm(forms.Form):
    """Hidden fields that keep what is typed safe: which form, which version of the claim."""

    # Missing in a form posted by a script: accepted, without the double-submit guard.
    form_token = forms.UUIDField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    message = forms.CharField(
        label=_("Message to your approver (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ClaimForm:
    """The claim form: contacts, one LineForm per workload, public-sector details, and the
    hidden fields, validated as one. `complete` asks for everything routing and signing need.
    `questions`: the program's public-sector fields (partners.models.PublicSectorField).
    """

    def __init__(
        self,
        program: Program,
        workloads,
        data=None,
        initial_claim: Claim | None = None,
        *,
        questions=(),
        public_sector: bool = False,
        complete: bool = False,
    ):
        self.is_bound = data is not None
        self.program = program
        contact_initial: dict = {}
        line_initial: dict[int, dict] = {}
        saved_lines: dict[int, ClaimLine] = {}
        details: dict = {}
        if initial_claim is not None:
            contact_initial = {
                "survey_contact_mode": initial_claim.survey_contact_mode,
                "survey_contact_name": initial_claim.survey_contact_name,
                "survey_contact_email": initial_claim.survey_contact_email,
                "survey_contact_phone": initial_claim.survey_contact_phone,
            }
            details = {
                key: item.get("value", "")
                for key, item in initial_claim.public_sector_details.items()
            }
            for line in initial_claim.lines.all():
                saved_lines[line.workload_id] = line
                if line.status == ClaimLine.Status.REMOVED:
                    continue
                line_initial[line.workload_id] = {
                    "selected": True,
                    "target_start": line.target_start,
                    "target_end": line.target_end,
                    "seats": line.seats,
                    "survey_contact_name": line.survey_contact_name,
                    "survey_contact_email": line.survey_contact_email,
                    "survey_contact_phone": line.survey_contact_phone,
                }
        self.contact = ClaimContactForm(
            data, initial=contact_initial, prefix="contact", complete=complete
        )
        mode = (data or {}).get("contact-survey_contact_mode") or contact_initial.get(
            "survey_contact_mode"
        )
        per_service = mode == Claim.SurveyContactMode.PER_SERVICE
        offered = {w.pk for w in workloads}
        # A service the claim has but the program no longer offers stays visible, so it is
        # never dropped silently.
        shown = list(workloads) + [
            line.workload
            for workload_id, line in saved_lines.items()
            if workload_id not in offered and workload_id in line_initial
        ]
        self.lines = [
            LineForm(
                data,
                prefix=f"w{workload.pk}",
                workload=workload,
                program=program,
                per_service_contact=per_service,
                saved=saved_lines.get(workload.pk),
                offered=workload.pk in offered,
                complete=complete,
                initial=line_initial.get(workload.pk, {}),
            )
            for workload in shown
        ]
        # The questions show to public-sector customers (and to a newcomer, for when they
        # name a public-sector organisation); they are kept and required only for the former.
        self.public_sector = public_sector
        self.details = PublicSectorForm(
            data,
            prefix="ps",
            questions=questions,
            complete=complete and public_sector,
            initial=details,
        )
        self.meta = ClaimMetaForm(
            data,
            initial={
                "form_token": uuid.uuid4(),
                "version": last_version(initial_claim) if initial_claim else None,
            },
        )
        self.non_field_errors: list[str] = []

    def is_valid(self) -> bool:
        # Every part is validated, not just up to the first bad one, so all errors show.
        results = [self.contact.is_valid(), self.details.is_valid()]
        results += [line.is_valid() for line in self.lines]
        valid = all(results)
        if self.is_bound and not self.meta.is_valid():
            self.non_field_errors.append(
                str(_("This form was out of date. Check what you typed below and save again."))
            )
            valid = False
        if self.is_bound and not any(
            line.is_valid() and line.cleaned_data.get("selected") for line in self.lines
        ):
            if not any(line.errors for line in self.lines):
                self.non_field_errors.append(str(_("Pick at least one service to claim.")))
            valid = False
        return valid

    def refresh_meta(self, claim: Claim | None) -> None:
        """After a stale save or a forged token: a fresh token and the claim's version now."""
        message = self.meta.data.get("message", "") if self.meta.is_bound else ""
        self.meta = ClaimMetaForm(
            initial={
                "form_token": uuid.uuid4(),
                "version": last_version(claim) if claim else None,
                "message": message,
            }
        )

    @property
    def form_token(self) -> uuid.UUID | None:
        return (
            self.meta.cleaned_data.get("form_token") if hasattr(self.meta, "cleaned_data") else None
        )

    @property
    def version(self) -> int | None:
        return self.meta.cleaned_data.get("version") if hasattr(self.meta, "cleaned_data") else None

    @property
    def message(self) -> str:
        return (
            self.meta.cleaned_data.get("message", "") if hasattr(self.meta, "cleaned_data") else ""
        )

    def to_input(self) -> ClaimInput:
        contact = self.contact.cleaned_data
        per_service = contact["survey_contact_mode"] == Claim.SurveyContactMode.PER_SERVICE

        def own(line: LineForm, name: str) -> str:
            return line.cleaned_data[name] if per_service else ""

        return ClaimInput(
            survey_contact_mode=contact["survey_contact_mode"],
            survey_contact_name="" if per_service else contact["survey_contact_name"],
            survey_contact_email="" if per_service else contact["survey_contact_email"],
            survey_contact_phone="" if per_service else contact["survey_contact_phone"],
            public_sector_details=self.details.details() if self.public_sector else {},
            lines=[
                LineInput(
                    workload_id=line.workload.pk,
                    target_start=line.cleaned_data["target_start"],
                    target_end=line.cleaned_data["target_end"],
                    seats=line.cleaned_data["seats"],
                    survey_contact_name=own(line, "survey_contact_name"),
                    survey_contact_email=own(line, "survey_contact_email"),
                    survey_contact_phone=own(line, "survey_contact_phone"),
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
        label=_("Why are you withdrawing the claim?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the claim is withdrawn, for the partner's record.")},
    )


class RouteForm(forms.Form):
    message = forms.CharField(
        label=_("Message to your approver (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ThreadCommentForm(forms.Form):
    """A comment on the claim, for all its parties."""

    body = forms.CharField(
        label=_("Add a comment"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the comment first.")},
    )

    @property
    def internal(self) -> bool:
        return False


class ClaimsTeamCommentForm(ThreadCommentForm):
    """The claims team's comment form: a comment for the parties, or an internal note."""

    is_internal = forms.BooleanField(
        label=_("Internal note: seen by the claims team only"),
        required=False,
        initial=True,
    )

    @property
    def internal(self) -> bool:
        return bool(self.cleaned_data.get("is_internal"))
