"""Forms of the partner's workspace: preparing a claim, links, bulk confirm, team, profile."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from claims_portal.uploads import MB, ImageLimits, check_pdf, reencode_image
from customers.models import Customer
from customers.services import OrganisationError, domains_taken, parse_domains
from partners.models import PartnerMembership
from partners.prepare import OrganisationInput

SOW_MAX_BYTES = 10 * MB
LOGO_LIMITS = ImageLimits(max_bytes=2 * MB, max_pixels=4000 * 4000, max_side=512)
# At most this many claims are confirmed in one go (one transaction each).
BULK_MAX = 100
REFERENCE = re.compile(r"^CLM-[0-9]{4}-[0-9]{6,9}$")


class PrepareCustomerForm(forms.Form):
    """The customer organisation a claim is prepared for: one the portal knows, or a new one."""

    tenant_id = forms.CharField(
        label=_("Customer tenant id"),
        max_length=64,
        help_text=_(
            "If the organisation is in the portal already, the claim goes to it and the name "
            "and domain below are not used."
        ),
    )
    name = forms.CharField(label=_("Organisation name"), max_length=160)
    domain = forms.CharField(
        label=_("Organisation's email domain"),
        max_length=253,
        help_text=_("Whoever takes up the link signs in with an address at this domain."),
    )

    def clean_tenant_id(self) -> str:
        return self.cleaned_data["tenant_id"].strip().lower()

    def clean_domain(self) -> str:
        try:
            [domain] = parse_domains([self.cleaned_data["domain"]])
        except OrganisationError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return domain

    def clean(self):
        data = super().clean()
        tenant, domain = data.get("tenant_id"), data.get("domain")
        known = tenant and Customer.objects.filter(tenant_id__iexact=tenant).exists()
        if tenant and domain and not known and domains_taken([domain]):
            # A domain belongs to one organisation (customers.services): the partner names
            # that organisation by its tenant id instead.
            self.add_error(
                "domain",
                _(
                    "An organisation in the portal already uses %(domain)s. Give its tenant "
                    "id above (ask the customer for it)."
                )
                % {"domain": domain},
            )
        return data

    def to_input(self) -> OrganisationInput:
        data = self.cleaned_data
        return OrganisationInput(
            tenant_id=data["tenant_id"], name=data["name"].strip(), domain=data["domain"]
        )


class CustomSowForm(forms.Form):
    custom_sow = forms.FileField(
        label=_("Custom SOW (PDF, up to 10 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        error_messages={"required": _("Upload the custom SOW (a PDF).")},
    )
    customer_email = forms.EmailField(
        label=_("Email the link to (optional)"),
        required=False,
        help_text=_("The customer's approver. You can also copy the link and send it yourself."),
    )

    def clean_custom_sow(self):
        upload = self.cleaned_data["custom_sow"]
        check_pdf(upload, max_bytes=SOW_MAX_BYTES)
        return upload


class SendInviteForm(forms.Form):
    email = forms.EmailField(label=_("Customer's email"))


class BulkConfirmForm(forms.Form):
    """The references ticked in the list; each is confirmed on its own."""

    def __init__(self, data=None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.references: list[str] = []
        if data is not None:
            self.references = list(dict.fromkeys(data.getlist("claims")))

    def clean(self):
        if not self.references:
            raise forms.ValidationError(_("Tick the claims to confirm first."))
        if len(self.references) > BULK_MAX:
            raise forms.ValidationError(
                _("Confirm at most %(n)d claims at once.") % {"n": BULK_MAX}
            )
        bad = [ref for ref in self.references if not REFERENCE.match(ref)]
        if bad:
            raise forms.ValidationError(_("These are not claim references: %s") % ", ".join(bad))
        return super().clean()


class TeamInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=PartnerMembership.Role.choices,
        initial=PartnerMembership.Role.MEMBER,
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=PartnerMembership.Role.choices)


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=160)
    contact_email = forms.EmailField(
        label=_("Contact address"), help_text=_("Where customers and the vendor reach you.")
    )
    logo = forms.FileField(
        label=_("Logo (PNG or JPEG, up to 2 MB)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text=_("Shown to customers on your claim page; scaled to fit 512 pixels."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        return reencode_image(upload, limits=LOGO_LIMITS)
