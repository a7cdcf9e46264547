"""The partner dashboard: claims submitted to the partner, confirm or return them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from claims import lifecycle
from claims.forms import CommentForm
from claims.lifecycle import ClaimError
from claims.models import Claim
from claims.selectors import claims_for_partner, get_claim_for_partner, partner_status_counts
from claims_portal.access import partner_required
from claims_portal.listing import filtered_claims
from claims_portal.roles import roles_for


@partner_required
def dashboard(request: HttpRequest) -> HttpResponse:
    claims = claims_for_partner(request.user)
    counts = partner_status_counts(request.user)
    filter_form, listed = filtered_claims(request, claims)
    page = Paginator(listed, 25).get_page(request.GET.get("page"))
    status_cards = [
        (status, label, counts.get(status, 0))
        for status, label in Claim.Status.choices
        if status not in (Claim.Status.DRAFT, Claim.Status.AWAITING_CUSTOMER_APPROVAL)
    ]
    partner = roles_for(request.user).partner
    return render(
        request,
        "partners/dashboard.html",
        {
            "partner": partner,
            "status_cards": status_cards,
            "awaiting": counts.get(Claim.Status.AWAITING_PARTNER, 0),
            "page_obj": page,
            "filter_form": filter_form,
            "claim_url": request.build_absolute_uri(f"/c/{partner.slug}/"),
        },
    )


@partner_required
def claim_detail(request: HttpRequest, reference: str) -> HttpResponse:
    claim = get_claim_for_partner(request.user, reference)
    user = request.user
    return render(
        request,
        "partners/claim_detail.html",
        {
            "claim": claim,
            "lines": list(claim.lines.all()),
            "events": list(claim.events.all()),
            "return_form": CommentForm(prefix="return"),
            "can_confirm": lifecycle.can(user, claim, "confirm"),
            "can_return": lifecycle.can(user, claim, "return"),
            "can_withdraw": lifecycle.can(user, claim, "withdraw"),
        },
    )


@require_POST
@partner_required
def claim_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    claim = get_claim_for_partner(request.user, reference)
    try:
        if action == "confirm":
            lifecycle.confirm_claim(claim, user=request.user)
            messages.success(
                request,
                _("Claim %s is confirmed. It is being checked against your SOW catalog now.")
                % claim.reference,
            )
        elif action == "return":
            form = CommentForm(request.POST, prefix="return")
            if not form.is_valid():
                messages.error(request, _("Say what needs correcting before returning the claim."))
                return redirect("partner_claim_detail", claim.reference)
            lifecycle.return_to_customer(
                claim, user=request.user, comment=form.cleaned_data["comment"]
            )
            messages.success(request, _("Claim %s was returned to the customer.") % claim.reference)
        elif action == "withdraw":
            lifecycle.withdraw(claim, user=request.user)
            messages.success(request, _("Claim %s was withdrawn.") % claim.reference)
        else:
            raise PermissionDenied
    except ClaimError as exc:
        messages.error(request, str(exc))
    return redirect("partner_claim_detail", claim.reference)
