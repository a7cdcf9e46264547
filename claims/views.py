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

from claims import checks, comments, content, history, lifecycle, selectors, services
from claims.content import input_of, snapshot
from claims.forms import (
    ClaimForm,
    OrganisationForm,
    PartnerCodeForm,
    RouteForm,
    SignForm,
    ThreadCommentForm,
    WithdrawForm,
    normalise_partner_code,
)
from claims.lifecycle import ClaimError
from claims.models import Claim, ClaimAction, ClaimLine, Event
from claims_portal.access import customer_required
from claims_portal.lists import Column, list_response
from claims_portal.ratelimit import Limit, client_address
from claims_portal.roles import Roles
from customers.models import Customer
from customers.selectors import current_associations
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
    # The comment thread: whether this audience reads internal notes (the claims team
    # only), its comment form, and the URL name of its comment action.
    internal_notes: ClassVar[bool] = False
    comment_form_class: ClassVar[type[ThreadCommentForm]] = ThreadCommentForm
    comment_url: ClassVar[str] = ""

    claim: Claim
    allowed_actions: frozenset[ClaimAction]
    lines: list[ClaimLine]
    events: list[Event]

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
        self.allowed_actions = lifecycle.allowed_actions(self.request.user, claim)
        self.lines = list(claim.lines.all())
        self.events = history.readable(claim, list(claim.events.all()), self.lines)
        context = {
            "claim": claim,
            "audience": self.audience,
            # Withdrawing such a claim leaves its approved services standing.
            "has_approved_lines": lifecycle.has_approved_lines(claim),
            "lines": self.lines,
            "events": self.events,
            "actions": {action.value: action in self.allowed_actions for action in ClaimAction},
            "comments": list(comments.thread(claim, internal_notes=self.internal_notes)),
            "comment_form": self.comment_form_class(prefix="comment"),
            "comment_url": self.comment_url,
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
    # Where on the claim's page to land afterwards ("comments" for #comments).
    anchor: ClassVar[str] = ""

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
        target = reverse(self.detail_url, args=[claim.reference])
        return redirect(f"{target}#{self.anchor}" if self.anchor else target)


class CommentView(ClaimActionView):
    """Add to the claim's comment thread; each audience's page subclasses it with its own."""

    form_name = "comment_form"
    success_message = gettext_lazy("Your comment on claim %(ref)s was added.")
    invalid_message = gettext_lazy(
        "The comment was not added: see below (at most 4,000 characters); what you typed is kept."
    )
    anchor = "comments"

    def get_form(self) -> forms.Form | None:
        return self.comment_form_class(self.request.POST, prefix="comment")

    def perform(self, form: forms.Form | None) -> Claim:
        assert isinstance(form, ThreadCommentForm)
        comments.add_comment(
            self.claim,
            user=self.request.user,  # type: ignore[arg-type]
            body=form.cleaned_data["body"],
            internal=form.internal,
        )
        return self.claim


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


def _intent(data: Any) -> services.Intent:
    try:
        return services.Intent(data.get("action", "save"))
    except ValueError:
        return services.Intent.SAVE


def _claim_form_page(
    request: HttpRequest,
    *,
    partner: Partner,
    program: Any,
    claim: Claim | None,
    locked: bool = False,
) -> HttpResponse:
    """The claim form. Whatever goes wrong, the page comes back with everything typed."""
    roles: Roles = request.roles  # type: ignore[attr-defined]
    workloads = list(program.workloads.filter(is_active=True).order_by("name"))
    data = request.POST if request.method == "POST" else None
    intent = _intent(data) if data is not None else services.Intent.SAVE
    org_form = None
    customer = claim.customer if claim is not None else roles.customer
    if customer is None:
        own_domain = email_domain(request.user.email or "")  # type: ignore[union-attr]
        org_form = OrganisationForm(data, prefix="org", initial={"domains": own_domain})
        public_sector = (data or {}).get("org-segment") == Customer.Segment.PUBLIC_SECTOR
    else:
        public_sector = customer.is_public_sector
    asks_public_sector = public_sector or org_form is not None
    form = ClaimForm(
        program,
        workloads,
        data=data,
        initial_claim=claim,
        questions=list(program.public_sector_fields.all()) if asks_public_sector else [],
        public_sector=public_sector,
        complete=intent.needs_complete_claim,
    )
    sign_form = SignForm(data if intent == services.Intent.SIGN else None, prefix="sign")
    can_sign = lifecycle.may_sign_as(services.role_for_new_claim(roles))
    status = 200

    if data is not None and locked:
        assert claim is not None
        if form.is_valid() and snapshot(form.to_input()) == snapshot(input_of(claim)):
            messages.info(
                request,
                _("Claim %(ref)s was saved already; it is now “%(status)s”.")
                % {"ref": claim.reference, "status": claim.get_status_display()},
            )
            return _saved(request, form, claim, services.Intent.SAVE)
        messages.warning(
            request,
            _(
                "Claim %(ref)s is now “%(status)s”, so it can no longer be changed. What you "
                "typed is below, not saved: add anything that matters as a comment on the claim."
            )
            % {"ref": claim.reference, "status": claim.get_status_display()},
        )
        status = 409
    elif data is not None:
        if intent == services.Intent.SIGN and not can_sign:
            raise PermissionDenied
        valid = form.is_valid()
        if org_form is not None:
            valid = org_form.is_valid() and valid
        if intent == services.Intent.SIGN:
            valid = sign_form.is_valid() and valid
        status = 400
        if not valid:
            messages.error(request, _("Please correct the marked fields; nothing was lost."))
            if not form.meta.is_valid():
                form.refresh_meta(claim)
        else:
            try:
                claim = services.save_claim(
                    user=request.user,  # type: ignore[arg-type]
                    partner=partner,
                    program=program,
                    data=form.to_input(),
                    intent=intent,
                    claim=claim,
                    customer=roles.customer,
                    organisation=org_form.to_input() if org_form is not None else None,
                    signature=sign_form.to_signature() if intent == services.Intent.SIGN else None,
                    form_token=form.form_token if claim is None else None,
                    expected_version=form.version if claim is not None else None,
                    message=form.message,
                )
            except services.AlreadySaved as exc:
                # A double click: the first click saved it; nothing is made twice.
                messages.info(request, str(exc))
                return _saved(request, form, exc.claim, services.Intent.SAVE)
            except lifecycle.StaleClaim as exc:
                messages.warning(request, str(exc))
                assert claim is not None
                claim = selectors.get_claim_for_customer(roles, claim.reference)
                if not lifecycle.can(request.user, claim, ClaimAction.EDIT):
                    return _no_longer_editable(request, claim)
                form.refresh_meta(claim)
                status = 409
            except ClaimError as exc:
                if exc.field in sign_form.fields:
                    sign_form.add_error(exc.field, str(exc))
                org_field = (exc.field or "").removeprefix("org-")
                if org_form is not None and org_field in org_form.fields:
                    org_form.add_error(org_field, str(exc))
                messages.error(request, str(exc))
                if claim is not None:
                    # The claim may have moved on (signed by someone else): say so, keep
                    # what was typed, and let a second save apply to the claim as it is.
                    claim = selectors.get_claim_for_customer(roles, claim.reference)
                    status = 409
                form.refresh_meta(claim)
            else:
                messages.success(request, _success_message(claim, intent))
                return _saved(request, form, claim, intent)

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
            "asks_public_sector": asks_public_sector,
            "locked": locked,
            "returned_by": _return_event(claim) if claim is not None else None,
        },
        status=status,
    )


def _saved(
    request: HttpRequest, form: ClaimForm, claim: Claim, intent: services.Intent
) -> HttpResponse:
    # The browser keeps a copy of the form until the server has it (claim_form.js): the
    # claim's page tells it which copy it may now forget.
    token = form.meta.data.get("form_token") if form.meta.is_bound else None
    if token:
        request.session["claim_form_saved"] = str(token)[:64]
    target = reverse("customer_claim_detail", args=[claim.reference])
    if intent == services.Intent.REVIEW:
        target += "#sign"
    return redirect(target)


def _no_longer_editable(request: HttpRequest, claim: Claim) -> HttpResponse:
    messages.info(
        request,
        _("Claim %(ref)s is “%(status)s” and can no longer be changed.")
        % {"ref": claim.reference, "status": claim.get_status_display()},
    )
    return redirect("customer_claim_detail", claim.reference)


def _return_event(claim: Claim) -> Event | None:
    """The return that sent the claim back to the customer, while it is theirs to correct."""
    if claim.status != Claim.Status.RETURNED_TO_CUSTOMER:
        return None
    return (
        Event.objects.filter(
            claim=claim, action__in=[ClaimAction.RETURN, ClaimAction.REVIEW_RETURN]
        )
        .order_by("-seq")
        .first()
    )


def _success_message(claim: Claim, intent: services.Intent) -> str:
    if intent == services.Intent.REVIEW:
        return (
            _("Claim %s was saved. Check what will happen to each service below, then sign.")
            % claim.reference
        )
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
        if request.method == "POST":
            # Sent from a form opened before the claim moved on (or a second click on
            # "sign"): what was typed comes back, unsaved, never silently dropped.
            return _claim_form_page(
                request, partner=claim.partner, program=claim.program, claim=claim, locked=True
            )
        return _no_longer_editable(request, claim)
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
    comment_url = "customer_claim_comment"

    def forms(self) -> dict[str, forms.Form]:
        return {
            "sign_form": SignForm(prefix="sign"),
            "withdraw_form": WithdrawForm(prefix="withdraw"),
            "route_form": RouteForm(prefix="route"),
        }

    def extra_context(self) -> dict[str, Any]:
        claim, actions = self.claim, self.allowed_actions
        signing = ClaimAction.SIGN in actions or ClaimAction.RESUBMIT in actions
        editing = ClaimAction.EDIT in actions
        missing = content.missing_for_submission(claim, self.lines) if (signing or editing) else []
        context: dict[str, Any] = {
            "signing": signing,
            "missing": missing,
            "returned_by": _return_event(claim),
            # After a save, the browser may forget its copy of that form (claim_form.js).
            "saved_form_token": self.request.session.pop("claim_form_saved", ""),
            "recorded_check": checks.recorded(claim),
        }
        if claim.status == Claim.Status.AWAITING_CUSTOMER_APPROVAL:
            route, changed = history.changes_since_routing(claim, self.events, self.lines)
            context.update(routed_by=route, changed_since_routing=changed)
        if signing and not missing:
            # The same rules the workers will run, as a dry run (registered by approvals).
            context["check"] = checks.dry_run(claim)
        if signing:
            context["associations"] = current_associations(claim.customer_id)
        return context


class CustomerSignView(ClaimActionView, CustomerClaimPage):
    form_class = SignForm
    form_name = "sign_form"
    success_message = gettext_lazy("Claim %(ref)s was signed and sent to the partner to confirm.")

    def perform(self, form: forms.Form | None) -> Claim:
        assert isinstance(form, SignForm)
        return services.submit_claim(
            self.claim,
            user=self.request.user,  # type: ignore[arg-type]
            signature=form.to_signature(),
        )


class CustomerRouteView(ClaimActionView, CustomerClaimPage):
    form_class = RouteForm
    form_name = "route_form"
    success_message = gettext_lazy("Claim %(ref)s was sent to your approver.")

    def perform(self, form: forms.Form | None) -> Claim:
        assert form is not None
        return lifecycle.route_to_approver(
            self.claim,
            user=self.request.user,  # type: ignore[arg-type]
            comment=form.cleaned_data["message"].strip(),
        )


WITHDRAWN_BUT_APPROVED = gettext_lazy(
    "The services of claim %(ref)s not yet decided were withdrawn; "
    "those already approved stay approved."
)


class CustomerWithdrawView(ClaimActionView, CustomerClaimPage):
    form_class = WithdrawForm
    form_name = "withdraw_form"
    success_message = gettext_lazy("Claim %(ref)s was withdrawn.")
    invalid_message = gettext_lazy(
        "Say why the claim is withdrawn (at most 4,000 characters); it was not withdrawn."
    )

    def get_success_message(self, claim: Claim) -> str:
        if claim.status == Claim.Status.PARTIALLY_APPROVED:
            return str(WITHDRAWN_BUT_APPROVED) % {"ref": claim.reference}
        return super().get_success_message(claim)

    def perform(self, form: forms.Form | None) -> Claim:
        assert form is not None
        return lifecycle.withdraw(
            self.claim,
            user=self.request.user,  # type: ignore[arg-type]
            comment=form.cleaned_data["comment"].strip(),
        )


class CustomerCommentView(CommentView, CustomerClaimPage):
    pass
