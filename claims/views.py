"""Claim pages: the shared base for every audience, and the customer's own pages.

Each page fetches the claim through the scoped selector of its audience (another
organisation's claim is a 404, the wrong kind of account a 403). Each action is a small
view that calls one service and turns its `ClaimError` into a message; when something is
wrong, the page is shown again with what was typed still in the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_http_methods

from claims import lifecycle, selectors, services
from claims.forms import (
    ClaimForm,
    OrganisationForm,
    PartnerCodeForm,
    SignForm,
    WithdrawForm,
    normalise_partner_code,
)
from claims.lifecycle import ClaimError
from claims.models import Claim, ClaimAction
from claims_portal.access import customer_required
from claims_portal.lists import Column, list_response
from claims_portal.ratelimit import Limit, client_address
from claims_portal.roles import Roles
from customers.services import email_domain
from partners.models import Partner
from partners.selectors import current_programs

# --- Shared base for every audience -----------------------------------------------------


class ClaimPage(LoginRequiredMixin, View):
    """One claim as an audience sees it."""

    allowed: ClassVar[Callable[[Roles], bool]]
    selector: ClassVar[Callable[[Roles, str], Claim]]
    template_name: ClassVar[str]
    detail_url: ClassVar[str]
    # Whose words the page speaks in (the clock says "your organisation" or the name).
    audience: ClassVar[str] = "customer"

    claim: Claim

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not type(self).allowed(request.roles):  # type: ignore[attr-defined]
            raise PermissionDenied
        self.claim = type(self).selector(request.roles, kwargs["reference"])  # type: ignore[attr-defined]
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_page()

    def forms(self) -> dict[str, forms.Form]:
        """The unbound forms the page offers; an action passes its bound one instead."""
        return {}

    def extra_context(self) -> dict[str, Any]:
        return {}

    def render_page(
        self, *, bound: dict[str, forms.Form] | None = None, status: int = 200
    ) -> HttpResponse:
        claim = self.claim
        allowed = lifecycle.allowed_actions(self.request.user, claim)
        context = {
            "claim": claim,
            "audience": self.audience,
            "lines": list(claim.lines.all()),
            "events": list(claim.events.all()),
            "actions": {action.value: action in allowed for action in ClaimAction},
            # Withdrawing such a claim leaves its approved services standing.
            "has_approved_lines": lifecycle.has_approved_lines(claim),
            **self.forms(),
            **self.extra_context(),
            **(bound or {}),
        }
        return render(self.request, self.template_name, context, status=status)


class ClaimActionView(ClaimPage):
    """One action on a claim: validate its form, call one service, say what happened."""

    http_method_names = ["post"]
    form_class: ClassVar[type[forms.Form] | None] = None
    # The context name of the form on the page; also its field prefix.
    form_name: ClassVar[str] = ""
    success_message: ClassVar[str | Promise] = ""
    invalid_message: ClassVar[str | Promise] = gettext_lazy(
        "Please correct the marked fields; nothing was lost."
    )

    def get_form(self) -> forms.Form | None:
        if self.form_class is None:
            return None
        return self.form_class(self.request.POST, prefix=self.form_name.removesuffix("_form"))

    def perform(self, form: forms.Form | None) -> Claim:
        raise NotImplementedError

    def get_success_message(self, claim: Claim) -> str:
        return str(self.success_message) % {"ref": claim.reference}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        if form is not None and not form.is_valid():
            messages.error(request, str(self.invalid_message))
            return self.render_page(bound={self.form_name: form}, status=400)
        try:
            claim = self.perform(form)
        except ClaimError as exc:
            messages.error(request, str(exc))
            if form is not None and exc.field in form.fields:
                # A rule about what was typed: the field says so, the claim is unchanged.
                form.add_error(exc.field, str(exc))
                return self.render_page(bound={self.form_name: form}, status=400)
            # Someone else moved the claim on: show it as it is now, the form as typed.
            self.claim = type(self).selector(request.roles, self.claim.reference)  # type: ignore[attr-defined]
            bound = {self.form_name: form} if form is not None else None
            return self.render_page(bound=bound, status=409)
        messages.success(request, self.get_success_message(claim))
        return redirect(self.detail_url, claim.reference)


# --- Starting and editing a claim --------------------------------------------------------


# A visitor may try this many codes (or unknown partner addresses) per window; enough for
# typing mistakes, far too few to walk through the codes.
PARTNER_CODE_LIMIT = Limit("partner-code", attempts=10, window=15 * 60)


def _too_many_codes(request: HttpRequest) -> HttpResponse:
    typed = str(request.POST.get("code", ""))[:40]
    form = PartnerCodeForm(initial={"code": typed})
    return render(request, "partner_code.html", {"form": form, "limited": True}, status=429)


@require_http_methods(["GET", "POST"])
def partner_code(request: HttpRequest) -> HttpResponse:
    form = PartnerCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        client = client_address(request)
        if PARTNER_CODE_LIMIT.exceeded(client):
            return _too_many_codes(request)
        if form.is_valid():
            assert form.partner is not None
            return redirect("claim_start", form.partner.slug)
        if form.lookup_failed:
            PARTNER_CODE_LIMIT.hit(client)
        status = 400
    return render(request, "partner_code.html", {"form": form}, status=status)


def _find_partner(typed: str) -> Partner | None:
    """The partner at /c/<typed>/: by its slug, forgiving case and spaces, or by its code."""
    slug = "".join(typed.split()).lower()
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None:
        code = normalise_partner_code(typed)
        partner = Partner.objects.filter(code=code).first() if code else None
    return partner


def _claim_form_page(
    request: HttpRequest, *, partner: Partner, program: Any, claim: Claim | None
) -> HttpResponse:
    roles: Roles = request.roles  # type: ignore[attr-defined]
    workloads = list(program.workloads.filter(is_active=True).order_by("name"))
    data = request.POST if request.method == "POST" else None
    intent = services.Intent.SAVE
    if data is not None:
        try:
            intent = services.Intent(data.get("action", "save"))
        except ValueError:
            intent = services.Intent.SAVE
    org_form = None
    if roles.customer_membership is None:
        own_domain = email_domain(request.user.email or "")  # type: ignore[union-attr]
        org_form = OrganisationForm(data, prefix="org", initial={"domains": own_domain})
    form = ClaimForm(workloads, data=data, initial_claim=claim)
    sign_form = SignForm(data if intent == services.Intent.SIGN else None, prefix="sign")
    can_sign = lifecycle.may_sign_as(services.role_for_new_claim(roles))
    status = 200

    if data is not None:
        if intent == services.Intent.SIGN and not can_sign:
            raise PermissionDenied
        valid = form.is_valid()
        if org_form is not None:
            valid = org_form.is_valid() and valid
        if intent == services.Intent.SIGN:
            valid = sign_form.is_valid() and valid
        if valid:
            try:
                claim = services.save_claim(
                    user=request.user,
                    partner=partner,
                    program=program,
                    data=form.to_input(),
                    intent=intent,
                    claim=claim,
                    customer=roles.customer,
                    organisation=org_form.to_input() if org_form is not None else None,
                    signature=sign_form.to_signature() if intent == services.Intent.SIGN else None,
                )
            except ClaimError as exc:
                if exc.field in sign_form.fields:
                    sign_form.add_error(exc.field, str(exc))
                org_field = (exc.field or "").removeprefix("org-")
                if org_form is not None and org_field in org_form.fields:
                    org_form.add_error(org_field, str(exc))
                messages.error(request, str(exc))
            else:
                messages.success(request, _success_message(claim, intent))
                return redirect("customer_claim_detail", claim.reference)
        else:
            messages.error(request, _("Please correct the marked fields; nothing was lost."))
        status = 400

    return render(
        request,
        "claims/claim_form.html",
        {
            "partner": partner,
            "program": program,
            "claim": claim,
            "org_form": org_form,
            "form": form,
            "sign_form": sign_form,
            "can_sign": can_sign,
            "can_route": claim is None or claim.status == Claim.Status.DRAFT,
        },
        status=status,
    )


def _success_message(claim: Claim, intent: services.Intent) -> str:
    if intent == services.Intent.ROUTE:
        return _("Claim %s was sent to your approver.") % claim.reference
    if intent == services.Intent.SIGN:
        return _("Claim %(ref)s was signed and sent to %(partner)s to confirm.") % {
            "ref": claim.reference,
            "partner": claim.partner.name,
        }
    return _("Claim %s was saved as a draft.") % claim.reference


@require_http_methods(["GET", "POST"])
def claim_start(request: HttpRequest, slug: str) -> HttpResponse:
    """The partner's claim URL: the claim form, or which program when several are current."""
    return _claim_entry(request, slug, None)


@require_http_methods(["GET", "POST"])
def claim_start_in_program(request: HttpRequest, slug: str, program_slug: str) -> HttpResponse:
    """A claim in one named program (a short program beside the annual one)."""
    return _claim_entry(request, slug, program_slug)


def _claim_entry(request: HttpRequest, slug: str, program_slug: str | None) -> HttpResponse:
    client = client_address(request)
    if PARTNER_CODE_LIMIT.exceeded(client):
        return _too_many_codes(request)
    partner = _find_partner(slug)
    if partner is None:
        PARTNER_CODE_LIMIT.hit(client)
        return render(request, "claims/partner_unavailable.html", {"typed": slug[:60]}, status=404)
    if partner.slug != slug:
        query = request.META.get("QUERY_STRING", "")
        if program_slug is None:
            target = reverse("claim_start", args=[partner.slug])
        else:
            target = reverse("claim_start_in_program", args=[partner.slug, program_slug])
        return redirect(f"{target}?{query}" if query else target)
    if not partner.is_active:
        return render(request, "claims/partner_unavailable.html", {"partner": partner}, status=404)
    roles: Roles = request.roles  # type: ignore[attr-defined]
    if request.user.is_authenticated and (
        not roles.is_customer and (roles.is_partner or roles.is_claims_team)
    ):
        # Staff of a partner or the vendor never claim on a customer's behalf.
        raise PermissionDenied
    programs = current_programs(partner)
    if program_slug is not None:
        program = next((p for p in programs if p.slug == program_slug), None)
        if program is None:
            return render(
                request,
                "claims/no_program.html",
                {"partner": partner, "program_slug": program_slug},
                status=404,
            )
    elif not programs:
        return render(request, "claims/no_program.html", {"partner": partner}, status=404)
    elif len(programs) > 1:
        return render(
            request, "claims/choose_program.html", {"partner": partner, "programs": programs}
        )
    else:
        program = programs[0]
    if not request.user.is_authenticated:
        if request.method == "POST":
            # The session ended while the form was open; the browser kept what was typed
            # (static/js/claim_form.js) and offers it back once the person is signed in.
            return redirect_to_login(request.get_full_path())
        return render(
            request, "claims/partner_landing.html", {"partner": partner, "program": program}
        )
    return _claim_form_page(request, partner=partner, program=program, claim=None)


@customer_required
def claim_edit(request: HttpRequest, reference: str) -> HttpResponse:
    claim = selectors.get_claim_for_customer(request.roles, reference)  # type: ignore[attr-defined]
    if not lifecycle.can(request.user, claim, ClaimAction.EDIT):
        messages.info(
            request,
            _("Claim %(ref)s is “%(status)s” and can no longer be changed.")
            % {"ref": claim.reference, "status": claim.get_status_display()},
        )
        return redirect("customer_claim_detail", claim.reference)
    return _claim_form_page(request, partner=claim.partner, program=claim.program, claim=claim)


# --- The customer's list and claim page --------------------------------------------------

CUSTOMER_COLUMNS = [
    Column(gettext_lazy("Reference"), lambda c: c.reference),
    Column(gettext_lazy("Status"), lambda c: c.get_status_display()),
    Column(gettext_lazy("Partner"), lambda c: c.partner.name),
    Column(gettext_lazy("Program"), lambda c: c.program.name),
    Column(gettext_lazy("Services"), lambda c: c.line_count),
    Column(gettext_lazy("Created"), lambda c: c.created_at),
    Column(gettext_lazy("Submitted"), lambda c: c.submitted_at),
    Column(gettext_lazy("Due"), lambda c: c.due_at),
    Column(gettext_lazy("Decided"), lambda c: c.decided_at),
]


@customer_required
def customer_claims(request: HttpRequest) -> HttpResponse:
    filterset = selectors.customer_claim_list(request.roles, filters=request.GET)  # type: ignore[attr-defined]
    return list_response(
        request,
        filterset,
        template="claims/claim_list.html",
        columns=CUSTOMER_COLUMNS,
        filename="claims",
    )


class CustomerClaimPage(ClaimPage):
    allowed = staticmethod(lambda roles: roles.is_customer)
    selector = staticmethod(selectors.get_claim_for_customer)
    template_name = "claims/claim_detail.html"
    detail_url = "customer_claim_detail"

    def forms(self) -> dict[str, forms.Form]:
        return {
            "sign_form": SignForm(prefix="sign"),
            "withdraw_form": WithdrawForm(prefix="withdraw"),
        }


class CustomerSignView(ClaimActionView, CustomerClaimPage):
    form_class = SignForm
    form_name = "sign_form"
    success_message = gettext_lazy("Claim %(ref)s was signed and sent to the partner to confirm.")

    def perform(self, form: forms.Form | None) -> Claim:
        assert isinstance(form, SignForm)
        return services.submit_claim(
            self.claim, user=self.request.user, signature=form.to_signature()
        )


class CustomerRouteView(ClaimActionView, CustomerClaimPage):
    success_message = gettext_lazy("Claim %(ref)s was sent to your approver.")

    def perform(self, form: forms.Form | None) -> Claim:
        return lifecycle.route_to_approver(self.claim, user=self.request.user)


WITHDRAWN_BUT_APPROVED = gettext_lazy(
    "The services of claim %(ref)s not yet decided were withdrawn; "
    "those already approved stay approved."
)


class CustomerWithdrawView(ClaimActionView, CustomerClaimPage):
    form_class = WithdrawForm
    form_name = "withdraw_form"
    success_message = gettext_lazy("Claim %(ref)s was withdrawn.")

    def get_success_message(self, claim: Claim) -> str:
        if claim.status == Claim.Status.PARTIALLY_APPROVED:
            return str(WITHDRAWN_BUT_APPROVED) % {"ref": claim.reference}
        return super().get_success_message(claim)

    def perform(self, form: forms.Form | None) -> Claim:
        assert form is not None
        return lifecycle.withdraw(
            self.claim, user=self.request.user, comment=form.cleaned_data["comment"]
        )
