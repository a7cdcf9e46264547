"""The partner's workspace: the dashboard, one claim, claims it prepares, its team and profile.

Every page is reached through the partner's scoped selectors (another partner's claim,
member or invitation is a 404); members act on claims, admins also manage the team and
the profile (a member gets 403 there).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from claims import lifecycle, selectors
from claims.forms import ClaimForm, CommentForm
from claims.lifecycle import ClaimError
from claims.models import Claim
from claims.services import AlreadySaved
from claims.views import (
    WITHDRAWN_BUT_APPROVED,
    ClaimActionView,
    ClaimPage,
    CommentView,
    CustomerClaimPage,
)
from claims_portal.access import partner_required, role_required
from claims_portal.audit import history
from claims_portal.lists import Column, LargeListPaginator, list_response
from claims_portal.roles import Roles
from claims_portal.uploads import private_storage, serve_private
from partners import invites, team
from partners.forms import (
    BulkConfirmForm,
    CustomSowForm,
    PrepareCustomerForm,
    ProfileForm,
    RoleForm,
    SendInviteForm,
    TeamInviteForm,
)
from partners.models import PartnerInvitation, PartnerMembership
from partners.prepare import prepare_for_customer
from partners.selectors import current_program, current_programs, recent_customers

partner_admin_required = role_required(lambda roles: roles.is_partner_admin)

# The CSV reads plain values (claims.selectors.partner_export_rows), a chunk at a time.
# "Custom SOW" says SOW where the claim carries one, the same in every language.
PARTNER_COLUMNS = [
    Column(gettext_lazy("Reference"), lambda r: r["reference"]),
    Column(gettext_lazy("Status"), lambda r: r["status_label"]),
    Column(gettext_lazy("Customer"), lambda r: r["customer__name"]),
    Column(gettext_lazy("Tenant"), lambda r: r["customer__tenant_id"]),
    Column(gettext_lazy("Program"), lambda r: r["program__name"]),
    Column(gettext_lazy("Services"), lambda r: r["services"]),
    Column(gettext_lazy("Custom SOW"), lambda r: "SOW" if r["custom_sow"] else ""),
    Column(gettext_lazy("Submitted"), lambda r: r["submitted_at"]),
    Column(gettext_lazy("Due"), lambda r: r["due_at"]),
    Column(gettext_lazy("Decided"), lambda r: r["decided_at"]),
]

# The cards above the list: every status a claim can have once it is the partner's.
_CARD_STATUSES = [
    (status, label) for status, label in Claim.Status.choices if status != Claim.Status.DRAFT
]


def _roles(request: HttpRequest) -> Roles:
    return request.roles  # type: ignore[attr-defined]


# --- The dashboard ------------------------------------------------------------------------


@partner_required
def dashboard(request: HttpRequest) -> HttpResponseBase:
    roles = _roles(request)
    partner = roles.partner
    assert partner is not None
    overview = selectors.partner_overview(roles)
    counts = overview.counts
    filterset = selectors.partner_claim_list(roles, filters=request.GET)
    # The cards count every claim, and each status: a list filtered by status alone (or
    # not at all) takes its length from them instead of counting 55,000 rows again.
    active = filterset.active_filters()
    known: int | None = None
    if not active:
        known = overview.total
    elif set(active) == {"status"}:
        known = counts.get(active["status"], 0)
    return list_response(
        request,
        filterset,
        template="partners/dashboard.html",
        columns=PARTNER_COLUMNS,
        filename=f"claims-{partner.slug}",
        paginator_class=lambda qs, per_page: LargeListPaginator(qs, per_page, count=known),
        export=selectors.partner_export_rows,
        context={
            "partner": partner,
            "status_cards": [
                (status, label, counts.get(status, 0)) for status, label in _CARD_STATUSES
            ],
            "awaiting": counts.get(Claim.Status.AWAITING_PARTNER, 0),
            "usage": overview.usage,
            "claim_url": request.build_absolute_uri(f"/c/{partner.slug}/"),
        },
    )


def _back_to_list(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("partner_dashboard")


@require_POST
@partner_required
def bulk_confirm(request: HttpRequest) -> HttpResponse:
    """Confirm the ticked claims one by one (each its own transition); say which did not move."""
    form = BulkConfirmForm(request.POST)
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        return _back_to_list(request)
    roles = _roles(request)
    found = {
        claim.reference: claim
        for claim in selectors.claims_for_partner(roles).filter(reference__in=form.references)
    }
    confirmed: list[str] = []
    refused: list[str] = []
    for reference in form.references:
        claim = found.get(reference)
        if claim is None:
            refused.append(_("%s: no such claim of yours.") % reference)
            continue
        try:
            lifecycle.confirm_claim(claim, user=request.user)  # type: ignore[arg-type]
        except ClaimError as exc:
            refused.append(str(exc))
        else:
            confirmed.append(reference)
    if confirmed:
        messages.success(
            request,
            ngettext(
                "Confirmed %(n)d claim: %(refs)s. It is being checked against your SOW catalog.",
                "Confirmed %(n)d claims: %(refs)s. They are being checked against your SOW "
                "catalog.",
                len(confirmed),
            )
            % {"n": len(confirmed), "refs": ", ".join(confirmed)},
        )
    if refused:
        messages.warning(
            request,
            ngettext(
                "%(n)d claim was not confirmed: %(why)s",
                "%(n)d claims were not confirmed: %(why)s",
                len(refused),
            )
            % {"n": len(refused), "why": " ".join(refused)},
        )
    return _back_to_list(request)


# --- One claim ------------------------------------------------------------------------------


class PartnerClaimPage(ClaimPage):
    allowed = staticmethod(lambda roles: roles.is_partner)
    selector = staticmethod(selectors.get_claim_for_partner)
    template_name = "partners/claim_detail.html"
    detail_url = "partner_claim_detail"
    audience = "partner"
    comment_url = "partner_claim_comment"

    def forms(self) -> dict[str, forms.Form]:
        invite = self._invite
        return {
            "return_form": CommentForm(prefix="return"),
            "send_form": SendInviteForm(
                prefix="send",
                initial={
                    "email": (invite.email if invite else "") or self.claim.survey_contact_email
                },
            ),
        }

    @property
    def _invite(self):
        if not hasattr(self, "_live_invite"):
            self._live_invite = (
                invites.live_invite(self.claim) if self.claim.partner_prepared else None
            )
        return self._live_invite

    def extra_context(self) -> dict[str, Any]:
        invite = self._invite
        url = ""
        if invite is not None:
            url = self.request.build_absolute_uri(
                reverse("claim_invite", args=[invites.token_for(invite)])
            )
        return {
            "invite": invite,
            "invite_url": url,
            "invite_expired": invite is not None and invite.expires_at <= timezone.now(),
            "waiting_for_customer": self.claim.partner_prepared
            and self.claim.status == Claim.Status.AWAITING_CUSTOMER_APPROVAL,
        }


class ConfirmView(ClaimActionView, PartnerClaimPage):
    success_message = gettext_lazy(
        "Claim %(ref)s is confirmed. It is being checked against your SOW catalog now."
    )

    def perform(self, form: forms.Form | None) -> Claim:
        return lifecycle.confirm_claim(self.claim, user=self.request.user)  # type: ignore[arg-type]


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
            self.claim,
            user=self.request.user,  # type: ignore[arg-type]
            comment=form.cleaned_data["comment"],
        )


class WithdrawView(ClaimActionView, PartnerClaimPage):
    success_message = gettext_lazy("Claim %(ref)s was withdrawn.")

    def get_success_message(self, claim: Claim) -> str:
        if claim.status == Claim.Status.PARTIALLY_APPROVED:
            return str(WITHDRAWN_BUT_APPROVED) % {"ref": claim.reference}
        return super().get_success_message(claim)

    def perform(self, form: forms.Form | None) -> Claim:
        return lifecycle.withdraw(self.claim, user=self.request.user)  # type: ignore[arg-type]


class PartnerCommentView(CommentView, PartnerClaimPage):
    pass


class IssueInviteView(ClaimActionView, PartnerClaimPage):
    success_message = gettext_lazy(
        "A new link to claim %(ref)s is below; the earlier link no longer works."
    )

    def perform(self, form: forms.Form | None) -> Claim:
        invites.issue_invite(self.claim, user=self.request.user)  # type: ignore[arg-type]
        return self.claim


class RevokeInviteView(ClaimActionView, PartnerClaimPage):
    success_message = gettext_lazy(
        "The link to claim %(ref)s no longer works. Issue a new one when you are ready."
    )

    def perform(self, form: forms.Form | None) -> Claim:
        invites.revoke_invite(self.claim, user=self.request.user)  # type: ignore[arg-type]
        return self.claim


class SendInviteView(ClaimActionView, PartnerClaimPage):
    form_class = SendInviteForm
    form_name = "send_form"
    success_message = gettext_lazy("The link to claim %(ref)s is on its way by email.")
    invalid_message = gettext_lazy("Give the customer's email address; nothing was sent.")

    def perform(self, form: forms.Form | None) -> Claim:
        assert form is not None
        invites.send_invite(
            self.claim,
            user=self.request.user,  # type: ignore[arg-type]
            email=form.cleaned_data["email"],
        )
        return self.claim


# --- The custom SOW, for each party ---------------------------------------------------------


def _sow(claim: Claim) -> FileResponse:
    if not claim.custom_sow:
        raise Http404("This claim has no custom SOW")
    return serve_private(
        private_storage(),
        claim.custom_sow.name,
        download_name=f"{claim.reference}-custom-sow.pdf",
        content_type="application/pdf",
    )


class PartnerSowView(PartnerClaimPage):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _sow(self.claim)


class CustomerSowView(CustomerClaimPage):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _sow(self.claim)


# --- Preparing a claim for a customer --------------------------------------------------------


@partner_required
def prepare(request: HttpRequest) -> HttpResponse:
    roles = _roles(request)
    partner = roles.partner
    assert partner is not None
    programs = current_programs(partner)
    program = current_program(partner, request.GET.get("program"))
    if program is None:
        # None current (404), or several and none chosen yet: the partner picks one.
        return render(
            request,
            "partners/no_program.html",
            {"partner": partner, "programs": programs},
            status=200 if programs else 404,
        )
    workloads = list(program.workloads.filter(is_active=True).order_by("name"))
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    org_form = PrepareCustomerForm(data, prefix="org")
    # Complete: the customer's approver checks and signs what the partner filled in.
    claim_form = ClaimForm(program, workloads, data=data, complete=True)
    sow_form = CustomSowForm(data, files, prefix="sow")
    status = 200
    if data is not None:
        valid = [org_form.is_valid(), claim_form.is_valid(), sow_form.is_valid()]
        if all(valid):
            try:
                claim, invite = prepare_for_customer(
                    partner=partner,
                    program=program,
                    user=request.user,  # type: ignore[arg-type]
                    organisation=org_form.to_input(),
                    data=claim_form.to_input(),
                    custom_sow=sow_form.cleaned_data["custom_sow"],
                    email=sow_form.cleaned_data["customer_email"],
                    form_token=claim_form.form_token,
                )
            except AlreadySaved as exc:
                # A double click: the first click prepared it; nothing is made twice.
                messages.info(request, _("Claim %s was prepared already.") % exc.claim.reference)
                return redirect("partner_claim_detail", exc.claim.reference)
            except ClaimError as exc:
                messages.error(request, str(exc))
                claim_form.refresh_meta(None)
            else:
                if invite.send_requested_at:
                    text = _("Claim %(ref)s is prepared and its link was emailed to %(to)s.")
                else:
                    text = _("Claim %(ref)s is prepared. Copy its link below and send it.")
                messages.success(request, text % {"ref": claim.reference, "to": invite.email})
                return redirect("partner_claim_detail", claim.reference)
        else:
            messages.error(
                request,
                _(
                    "Please correct the marked fields; nothing was saved. Choose the SOW file "
                    "again: browsers do not keep a chosen file."
                ),
            )
        status = 400
    return render(
        request,
        "partners/prepare.html",
        {
            "partner": partner,
            "program": program,
            "org_form": org_form,
            "form": claim_form,
            "sow_form": sow_form,
            "recent_customers": recent_customers(partner),
        },
        status=status,
    )


# --- The customer opens the link ---------------------------------------------------------------


_INVITE_STATUS = {
    invites.InviteState.ALTERED: 400,
    invites.InviteState.USED: 410,
    invites.InviteState.EXPIRED: 410,
    invites.InviteState.REVOKED: 410,
    invites.InviteState.CLOSED: 410,
}


def claim_invite(request: HttpRequest, token: str) -> HttpResponse:
    """`/i/<token>/`: what the link is for, and the way in for the right person."""
    opened = invites.open_token(token)
    invite, claim = opened.invite, opened.claim
    user = request.user
    context: dict[str, Any] = {"opened": opened, "claim": claim, "token": token}
    if opened.state != invites.InviteState.VALID:
        if (
            claim is not None
            and user.is_authenticated
            and opened.state in (invites.InviteState.USED, invites.InviteState.CLOSED)
            and _roles(request).customer_membership is not None
            and _roles(request).customer_membership.customer_id == claim.customer_id  # type: ignore[union-attr]
        ):
            # The customer's own people may follow an old link to their claim.
            return redirect("customer_claim_detail", claim.reference)
        context["message"] = invites.state_message(opened.state)
        return render(request, "partners/invite.html", context, status=_INVITE_STATUS[opened.state])
    assert invite is not None and claim is not None
    context["login_url"] = _with_next(reverse("account_login"), request.path)
    context["signup_url"] = _with_next(reverse("account_signup"), request.path)
    if not user.is_authenticated:
        return render(request, "partners/invite.html", context)
    try:
        invites.check_invitee(invite, user)  # type: ignore[arg-type]
    except invites.InviteRefused as exc:
        context["refusal"] = str(exc)
        return render(request, "partners/invite.html", context, status=403)
    if request.method == "POST":
        try:
            claim = invites.accept_invite(invite, user=user)  # type: ignore[arg-type]
        except invites.InviteRefused as exc:
            context["refusal"] = str(exc)
            return render(request, "partners/invite.html", context, status=409)
        messages.success(
            request,
            _(
                "Claim %(ref)s from %(partner)s is open for you. Check it, correct it if "
                "needed, and sign it."
            )
            % {"ref": claim.reference, "partner": claim.partner.name},
        )
        return redirect("customer_claim_detail", claim.reference)
    context["can_accept"] = True
    return render(request, "partners/invite.html", context)


def _with_next(url: str, path: str) -> str:
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: path})}"


# --- The team --------------------------------------------------------------------------------


def _membership(roles: Roles, pk: int) -> PartnerMembership:
    return get_object_or_404(
        PartnerMembership.objects.select_related("user", "partner"),
        pk=pk,
        partner_id=roles.partner_membership.partner_id,  # type: ignore[union-attr]
    )


def _team_page(
    request: HttpRequest, *, invite_form: TeamInviteForm | None = None, status: int = 200
) -> HttpResponse:
    roles = _roles(request)
    partner = roles.partner
    assert partner is not None
    members = list(partner.memberships.select_related("user").order_by("-role", "user__email"))
    open_invitations = list(
        partner.invitations.filter(accepted_at=None, revoked_at=None).select_related("invited_by")
    )
    return render(
        request,
        "partners/team.html",
        {
            "partner": partner,
            "members": members,
            "invitations": open_invitations,
            "is_admin": roles.is_partner_admin,
            "invite_form": invite_form or TeamInviteForm(),
            "role_choices": PartnerMembership.Role.choices,
            "history": list(history(partner).order_by("-seq")[:20]),
        },
        status=status,
    )


@partner_required
def team_page(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


@require_POST
@partner_admin_required
def team_invite(request: HttpRequest) -> HttpResponse:
    form = TeamInviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the marked fields; nothing was sent."))
        return _team_page(request, invite_form=form, status=400)
    try:
        team.invite_member(
            partner=_roles(request).partner,  # type: ignore[arg-type]
            user=request.user,  # type: ignore[arg-type]
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except team.TeamError as exc:
        messages.error(request, str(exc))
        return _team_page(request, invite_form=form, status=409)
    messages.success(
        request,
        _("An invitation is on its way to %s. The link works for 7 days.")
        % form.cleaned_data["email"],
    )
    return redirect("partner_team")


@require_POST
@partner_admin_required
def team_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(_roles(request), pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose member or admin."))
        return _team_page(request, status=400)
    try:
        membership = team.set_role(
            membership,
            user=request.user,  # type: ignore[arg-type]
            role=form.cleaned_data["role"],
        )
    except team.TeamError as exc:
        messages.error(request, str(exc))
        return _team_page(request, status=409)
    messages.success(
        request,
        _("%(email)s is now %(role)s.")
        % {"email": membership.user.email, "role": membership.get_role_display()},
    )
    return redirect("partner_team")


@require_POST
@partner_admin_required
def team_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(_roles(request), pk)
    email = membership.user.email
    try:
        team.remove_member(membership, user=request.user)  # type: ignore[arg-type]
    except team.TeamError as exc:
        messages.error(request, str(exc))
        return _team_page(request, status=409)
    if membership.user_id == request.user.pk:
        return redirect("home")
    messages.success(request, _("%s was removed from the team and signed out everywhere.") % email)
    return redirect("partner_team")


@require_POST
@partner_admin_required
def team_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(
        PartnerInvitation,
        pk=pk,
        partner_id=_roles(request).partner_membership.partner_id,  # type: ignore[union-attr]
    )
    try:
        team.revoke_invitation(invitation, user=request.user)  # type: ignore[arg-type]
    except team.TeamError as exc:
        messages.error(request, str(exc))
        return _team_page(request, status=409)
    messages.success(request, _("The invitation to %s was withdrawn.") % invitation.email)
    return redirect("partner_team")


def team_join(request: HttpRequest, token: str) -> HttpResponse:
    """The invited person's way in: sign in or sign up with the invited address, then join."""
    opened = team.open_token(token)
    invitation = opened.invitation
    context: dict[str, Any] = {"opened": opened, "invitation": invitation}
    if opened.state != team.InvitationState.VALID:
        context["message"] = team.state_message(opened.state)
        status = 400 if opened.state == team.InvitationState.ALTERED else 410
        return render(request, "partners/join.html", context, status=status)
    assert invitation is not None
    context["login_url"] = _with_next(reverse("account_login"), request.path)
    context["signup_url"] = _with_next(reverse("account_signup"), request.path)
    if not request.user.is_authenticated:
        return render(request, "partners/join.html", context)
    try:
        team.check_invitee(invitation, request.user)  # type: ignore[arg-type]
        if request.method == "POST":
            team.accept_invitation(invitation, user=request.user)  # type: ignore[arg-type]
            messages.success(request, _("Welcome to the team of %s.") % invitation.partner.name)
            return redirect("partner_dashboard")
    except team.TeamError as exc:
        context["refusal"] = str(exc)
        return render(request, "partners/join.html", context, status=403)
    context["can_accept"] = True
    return render(request, "partners/join.html", context)


# --- The profile -----------------------------------------------------------------------------


@partner_required
def profile(request: HttpRequest) -> HttpResponse:
    roles = _roles(request)
    partner = roles.partner
    assert partner is not None
    if request.method == "POST":
        if not roles.is_partner_admin:
            raise PermissionDenied
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                team.update_profile(
                    partner,
                    user=request.user,  # type: ignore[arg-type]
                    name=form.cleaned_data["name"],
                    contact_email=form.cleaned_data["contact_email"],
                    logo=form.cleaned_data["logo"],
                    remove_logo=form.cleaned_data["remove_logo"],
                )
            except team.TeamError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Your profile was saved."))
                return redirect("partner_profile")
        else:
            messages.error(request, _("Please correct the marked fields; nothing was saved."))
        status = 400
    else:
        form = ProfileForm(initial={"name": partner.name, "contact_email": partner.contact_email})
        status = 200
    return render(
        request,
        "partners/profile.html",
        {"partner": partner, "form": form, "is_admin": roles.is_partner_admin},
        status=status,
    )
