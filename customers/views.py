"""The customer's organisation page (members, roles, invitations) and its associations.

Approvers change members; contributors see the same page without the controls (and get a
403 if they post). Each change is one small view that calls one service and turns its
OrganisationError into a message; on a mistake the page is shown again with what was typed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from claims_portal.access import customer_required, role_required
from claims_portal.lists import Column, list_response
from claims_portal.roles import Roles
from customers import selectors, services
from customers.forms import InvitationForm, InviteForm, MemberForm, MemberRoleForm
from customers.models import CustomerMembership
from customers.services import OrganisationError
from customers.tokens import INVITATION_DAYS

approver_required = role_required(lambda roles: roles.is_customer_approver)


def _organisation_page(
    request: HttpRequest, *, bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    roles: Roles = request.roles  # type: ignore[attr-defined]
    customer = roles.customer
    assert customer is not None
    invitations = list(selectors.open_invitations(roles))
    for invitation in invitations:
        invitation.expired = selectors.is_expired(invitation)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "customer": customer,
        "domains": services.domains_of(customer),
        "members": list(selectors.members(roles)),
        "invitations": invitations,
        "history": selectors.membership_history(roles),
        "can_manage": roles.is_customer_approver,
        "invite_form": InviteForm(prefix="invite"),
        "invitation_days": INVITATION_DAYS,
        "role_choices": CustomerMembership.Role.choices,
        **(bound or {}),
    }
    return render(request, "customers/organisation.html", context, status=status)


@customer_required
def organisation(request: HttpRequest) -> HttpResponse:
    return _organisation_page(request)


def _refused(request: HttpRequest, exc: OrganisationError, form: forms.Form, name: str):
    messages.error(request, str(exc))
    if exc.field in form.fields:
        form.add_error(exc.field, str(exc))
    return _organisation_page(request, bound={name: form}, status=400)


@require_POST
@approver_required
def invite(request: HttpRequest) -> HttpResponse:
    roles: Roles = request.roles  # type: ignore[attr-defined]
    form = InviteForm(request.POST, prefix="invite")
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields; nothing was lost."))
        return _organisation_page(request, bound={"invite_form": form}, status=400)
    assert roles.customer is not None
    try:
        invitation = services.invite_member(
            roles.customer,
            user=request.user,  # type: ignore[arg-type]
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except OrganisationError as exc:
        return _refused(request, exc, form, "invite_form")
    messages.success(
        request,
        _("An invitation is on its way to %(email)s. The link works for %(days)d days.")
        % {"email": invitation.email, "days": INVITATION_DAYS},
    )
    return redirect("organisation")


@require_POST
@approver_required
def revoke_invitation(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST)
    if not form.is_valid():
        raise Http404("No such invitation")  # only a forged form lacks the hidden field
    invitation = selectors.get_open_invitation(request.roles, form.cleaned_data["invitation"])  # type: ignore[attr-defined]
    try:
        services.revoke_invitation(invitation, user=request.user)  # type: ignore[arg-type]
    except OrganisationError as exc:
        messages.error(request, str(exc))
        return _organisation_page(request, status=409)
    messages.success(
        request, _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email}
    )
    return redirect("organisation")


@require_POST
@approver_required
def resend_invitation(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST)
    if not form.is_valid():
        raise Http404("No such invitation")
    roles: Roles = request.roles  # type: ignore[attr-defined]
    invitation = selectors.get_open_invitation(roles, form.cleaned_data["invitation"])
    try:
        services.invite_member(
            invitation.customer,
            user=request.user,  # type: ignore[arg-type]
            email=invitation.email,
            role=invitation.role,
        )
    except OrganisationError as exc:
        messages.error(request, str(exc))
        return _organisation_page(request, status=409)
    messages.success(
        request, _("The invitation to %(email)s was sent again.") % {"email": invitation.email}
    )
    return redirect("organisation")


@require_POST
@approver_required
def change_role(request: HttpRequest) -> HttpResponse:
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return _organisation_page(request, status=400)
    member = selectors.get_member(request.roles, form.cleaned_data["member"])  # type: ignore[attr-defined]
    try:
        member = services.change_role(
            member,
            user=request.user,  # type: ignore[arg-type]
            role=form.cleaned_data["role"],
        )
    except OrganisationError as exc:
        messages.error(request, str(exc))
        return _organisation_page(request, status=409)
    messages.success(
        request,
        _("%(email)s is now %(role)s.")
        % {"email": member.user.email, "role": member.get_role_display().lower()},
    )
    return redirect("organisation")


@require_POST
@approver_required
def remove_member(request: HttpRequest) -> HttpResponse:
    form = MemberForm(request.POST)
    if not form.is_valid():
        raise Http404("No such member")
    member = selectors.get_member(request.roles, form.cleaned_data["member"])  # type: ignore[attr-defined]
    email = member.user.email
    try:
        services.remove_member(member, user=request.user)  # type: ignore[arg-type]
    except OrganisationError as exc:
        messages.error(request, str(exc))
        return _organisation_page(request, status=409)
    messages.success(
        request,
        _("%(email)s was removed from the organisation; their access has ended.")
        % {"email": email},
    )
    if member.user_id == request.user.pk:
        return redirect("home")
    return redirect("organisation")


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    """The invited colleague's page: who invites them, and a button to join."""
    try:
        invitation = services.invitation_from_token(token)
    except OrganisationError as exc:
        return render(request, "customers/join.html", {"problem": str(exc)}, status=400)
    context: dict[str, Any] = {"invitation": invitation, "customer": invitation.customer}
    if not request.user.is_authenticated:
        context["next"] = request.get_full_path()
        return render(request, "customers/join.html", context)
    if request.method == "POST":
        try:
            services.accept_invitation(token, user=request.user)  # type: ignore[arg-type]
        except OrganisationError as exc:
            messages.error(request, str(exc))
            context["refused"] = str(exc)
            return render(request, "customers/join.html", context, status=409)
        messages.success(
            request,
            _("Welcome to %(org)s. You can now see and work on its claims.")
            % {"org": invitation.customer.name},
        )
        return redirect("customer_claims")
    return render(request, "customers/join.html", context)


# --- Associations ------------------------------------------------------------------------

ASSOCIATION_COLUMNS = [
    Column(gettext_lazy("Service"), lambda a: a.workload.name),
    Column(gettext_lazy("Partner of record"), lambda a: a.partner.name),
    Column(gettext_lazy("Since"), lambda a: a.since),
    Column(gettext_lazy("Active usage %"), lambda a: a.active_usage_pct),
    Column(gettext_lazy("Usage growth %"), lambda a: a.usage_growth_pct),
    Column(gettext_lazy("Usage updated"), lambda a: a.usage_updated_at),
    Column(
        gettext_lazy("Granted by claim"),
        lambda a: a.source_claim.reference if a.source_claim else "",
    ),
]


@customer_required
def associations(request: HttpRequest) -> HttpResponse:
    return list_response(
        request,
        selectors.association_list(request.roles, filters=request.GET),  # type: ignore[attr-defined]
        template="customers/associations.html",
        columns=ASSOCIATION_COLUMNS,
        filename="associations",
    )
