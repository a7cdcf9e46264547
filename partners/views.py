"""The partner dashboard: claims submitted to the partner, confirm or return them."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from claims import lifecycle, selectors
from claims.forms import CommentForm
from claims.models import Claim
from claims.views import WITHDRAWN_BUT_APPROVED, ClaimActionView, ClaimPage, CommentView
from claims_portal.access import partner_required
from claims_portal.lists import Column, list_response
from claims_portal.roles import Roles

PARTNER_COLUMNS = [
    Column(gettext_lazy("Reference"), lambda c: c.reference),
    Column(gettext_lazy("Status"), lambda c: c.get_status_display()),
    Column(gettext_lazy("Customer"), lambda c: c.customer.name),
    Column(gettext_lazy("Tenant"), lambda c: c.customer.tenant_id),
    Column(gettext_lazy("Program"), lambda c: c.program.name),
    Column(gettext_lazy("Services"), lambda c: c.line_count),
    Column(gettext_lazy("Submitted"), lambda c: c.submitted_at),
    Column(gettext_lazy("Due"), lambda c: c.due_at),
    Column(gettext_lazy("Decided"), lambda c: c.decided_at),
]

# The cards above the list: every status a claim can have once it reaches the partner.
_CARD_STATUSES = [
    (status, label)
    for status, label in Claim.Status.choices
    if status not in (Claim.Status.DRAFT, Claim.Status.AWAITING_CUSTOMER_APPROVAL)
]


@partner_required
def dashboard(request: HttpRequest) -> HttpResponse:
    roles: Roles = request.roles  # type: ignore[attr-defined]
    counts = selectors.partner_status_counts(roles)
    partner = roles.partner
    assert partner is not None
    return list_response(
        request,
        selectors.partner_claim_list(roles, filters=request.GET),
        template="partners/dashboard.html",
        columns=PARTNER_COLUMNS,
        filename=f"claims-{partner.slug}",
        context={
            "partner": partner,
            "status_cards": [
                (status, label, counts.get(status, 0)) for status, label in _CARD_STATUSES
            ],
            "awaiting": counts.get(Claim.Status.AWAITING_PARTNER, 0),
            "claim_url": request.build_absolute_uri(f"/c/{partner.slug}/"),
        },
    )


class PartnerClaimPage(ClaimPage):
    allowed = staticmethod(lambda roles: roles.is_partner)
    selector = staticmethod(selectors.get_claim_for_partner)
    template_name = "partners/claim_detail.html"
    detail_url = "partner_claim_detail"
    audience = "partner"
    comment_url = "partner_claim_comment"

    def forms(self) -> dict[str, forms.Form]:
        return {"return_form": CommentForm(prefix="return")}


class ConfirmView(ClaimActionView, PartnerClaimPage):
    success_message = gettext_lazy(
        "Claim %(ref)s is confirmed. It is being checked against your SOW catalog now."
    )

    def perform(self, form: forms.Form | None) -> Claim:
        return lifecycle.confirm_claim(self.claim, user=self.request.user)


class ReturnView(ClaimActionView, PartnerClaimPage):
    form_class = CommentForm
    form_name = "return_form"
    success_message = gettext_lazy("Claim %(ref)s was returned to the customer.")
    invalid_message = gettext_lazy(
        "Say what needs correcting (at most 4,000 characters) before returning the claim; "
        "what you typed is kept below."
    )

    def perform(self, form: forms.Form | None) -> Claim:
        assert form is not None
        return lifecycle.return_to_customer(
            self.claim, user=self.request.user, comment=form.cleaned_data["comment"]
        )


class WithdrawView(ClaimActionView, PartnerClaimPage):
    success_message = gettext_lazy("Claim %(ref)s was withdrawn.")

    def get_success_message(self, claim: Claim) -> str:
        if claim.status == Claim.Status.PARTIALLY_APPROVED:
            return str(WITHDRAWN_BUT_APPROVED) % {"ref": claim.reference}
        return super().get_success_message(claim)

    def perform(self, form: forms.Form | None) -> Claim:
        return lifecycle.withdraw(self.claim, user=self.request.user)


class PartnerCommentView(CommentView, PartnerClaimPage):
    pass
