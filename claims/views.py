"""Customer pages: enter a partner code, start and edit a claim, follow its progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from claims import lifecycle
from claims.forms import ClaimForm, CommentForm, OrganisationForm, PartnerCodeForm, SignForm
from claims.lifecycle import ClaimError
from claims.models import Claim
from claims.selectors import claims_for_customer, get_claim_for_customer
from claims_portal.access import customer_required
from claims_portal.listing import filtered_claims
from claims_portal.roles import roles_for
from customers.services import register_customer
from partners.models import Partner
from partners.selectors import current_program

EDITABLE = {
    Claim.Status.DRAFT,
    Claim.Status.AWAITING_CUSTOMER_APPROVAL,
    Claim.Status.RETURNED_TO_CUSTOMER,
}


def partner_code(request: HttpRequest) -> HttpResponse:
    form = PartnerCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return redirect("claim_start", form.partner.slug)
    return render(request, "partner_code.html", {"form": form})


def _submit(request: HttpRequest, claim: Claim, action: str, sign_form: SignForm) -> None:
    """Apply the button the customer pressed after saving the claim's content."""
    if action == "route":
        lifecycle.route_to_approver(claim, user=request.user)
        messages.success(request, _("Claim %s was sent to your approver.") % claim.reference)
    elif action == "sign":
        sign = (
            lifecycle.resubmit
            if claim.status == Claim.Status.RETURNED_TO_CUSTOMER
            else (lifecycle.sign_and_submit)
        )
        sign(
            claim,
            user=request.user,
            signed_name=sign_form.cleaned_data["signed_name"],
            attested=sign_form.cleaned_data["attest"],
        )
        messages.success(
            request,
            _("Claim %(ref)s was signed and sent to %(partner)s to confirm.")
            % {"ref": claim.reference, "partner": claim.partner.name},
        )
    else:
        messages.success(request, _("Claim %s was saved as a draft.") % claim.reference)


def _claim_form_page(
    request: HttpRequest, *, partner: Partner, program, claim: Claim | None
) -> HttpResponse:
    roles = roles_for(request.user)
    needs_organisation = not roles.is_customer
    workloads = list(program.workloads.filter(is_active=True).order_by("name"))
    data = request.POST if request.method == "POST" else None
    action = request.POST.get("action", "save")
    org_form = OrganisationForm(data, prefix="org") if needs_organisation else None
    form = ClaimForm(workloads, data=data, initial_claim=claim)
    sign_form = SignForm(data if action == "sign" else None, prefix="sign")
    can_sign = needs_organisation or roles.is_customer_approver

    if data is not None:
        valid = form.is_valid()
        if org_form is not None:
            valid = org_form.is_valid() and valid
        if action == "sign":
            if not can_sign:
                raise PermissionDenied
            valid = sign_form.is_valid() and valid
        if valid:
            try:
                with transaction.atomic():
                    if org_form is not None:
                        register_customer(user=request.user, **org_form.cleaned_data)
                        customer = roles_for(request.user).customer
                    else:
                        customer = roles.customer
                    if claim is None:
                        claim = lifecycle.create_claim(
                            customer=customer,
                            partner=partner,
                            program=program,
                            user=request.user,
                            data=form.to_input(),
                        )
                    else:
                        claim = lifecycle.update_claim(
                            claim, user=request.user, data=form.to_input()
                        )
                    _submit(request, claim, action, sign_form)
            except ClaimError as exc:
                # Roles cached inside the rolled-back transaction may name a customer
                # that no longer exists.
                request.user.__dict__.pop("_portal_roles", None)
                messages.error(request, str(exc))
            else:
                return redirect("customer_claim_detail", claim.reference)
        else:
            messages.error(request, _("Please correct the marked fields; nothing was lost."))

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
            "action": action,
        },
        status=400 if data is not None else 200,
    )


@login_required
def claim_start(request: HttpRequest, slug: str) -> HttpResponse:
    partner = get_object_or_404(Partner, slug=slug, is_active=True)
    roles = roles_for(request.user)
    if not roles.is_customer and (roles.is_partner or roles.is_claims_team):
        # Staff of a partner or the vendor never claim on a customer's behalf.
        raise PermissionDenied
    program = current_program(partner)
    if program is None:
        return render(request, "claims/no_program.html", {"partner": partner}, status=404)
    return _claim_form_page(request, partner=partner, program=program, claim=None)


@customer_required
def claim_edit(request: HttpRequest, reference: str) -> HttpResponse:
    claim = get_claim_for_customer(request.user, reference)
    if claim.status not in EDITABLE:
        messages.info(
            request,
            _("Claim %(ref)s is “%(status)s” and can no longer be changed.")
            % {"ref": claim.reference, "status": claim.get_status_display()},
        )
        return redirect("customer_claim_detail", claim.reference)
    return _claim_form_page(request, partner=claim.partner, program=claim.program, claim=claim)


@customer_required
def customer_claims(request: HttpRequest) -> HttpResponse:
    filter_form, claims = filtered_claims(request, claims_for_customer(request.user))
    page = Paginator(claims, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "claims/claim_list.html",
        {"page_obj": page, "filter_form": filter_form},
    )


@customer_required
def customer_claim_detail(request: HttpRequest, reference: str) -> HttpResponse:
    claim = get_claim_for_customer(request.user, reference)
    user = request.user
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": claim,
            "lines": list(claim.lines.all()),
            "events": list(claim.events.all()),
            "sign_form": SignForm(prefix="sign"),
            "withdraw_form": CommentForm(prefix="withdraw"),
            "can_edit": lifecycle.can(user, claim, "edit"),
            "can_sign": lifecycle.can(user, claim, "sign")
            or lifecycle.can(user, claim, "resubmit"),
            "can_route": lifecycle.can(user, claim, "route"),
            "can_withdraw": lifecycle.can(user, claim, "withdraw"),
        },
    )


@require_POST
@customer_required
def customer_claim_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    claim = get_claim_for_customer(request.user, reference)
    try:
        if action == "sign":
            form = SignForm(request.POST, prefix="sign")
            if not form.is_valid():
                for errors in form.errors.values():
                    for error in errors:
                        messages.error(request, error)
                return redirect("customer_claim_detail", claim.reference)
            _submit(request, claim, "sign", form)
        elif action == "route":
            _submit(request, claim, "route", SignForm())
        elif action == "withdraw":
            comment = request.POST.get("withdraw-comment", "")[:4000]
            lifecycle.withdraw(claim, user=request.user, comment=comment)
            messages.success(request, _("Claim %s was withdrawn.") % claim.reference)
        else:
            raise PermissionDenied
    except ClaimError as exc:
        messages.error(request, str(exc))
    return redirect("customer_claim_detail", claim.reference)
