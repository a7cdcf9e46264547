"""The claims team's exception queue, its claim pages and decisions, one view per action."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from approvals import assignment, selectors, services
from approvals.assignment import BulkResult
from approvals.filters import QUEUE_VIEWS
from approvals.forms import (
    AssignForm,
    BulkAssignForm,
    BulkRejectForm,
    BulkSelectionForm,
    ReturnToPartnerForm,
    ReviewDecisionForm,
)
from approvals.models import RejectionReason, ReviewTask
from approvals.rules import reason_label
from claims import lifecycle
from claims.forms import ClaimsTeamCommentForm, CommentForm
from claims.models import Claim, ClaimLine
from claims.selectors import get_claim_for_claims_team
from claims.views import ClaimActionView, ClaimPage, CommentView
from claims_portal.access import claims_team_required
from claims_portal.lists import Column, LargeListPaginator, list_response
from claims_portal.roles import Roles


@lru_cache(maxsize=512)
def _label(kind: str, value: str, language: str | None) -> str:
    # A CSV of the queue has hundreds of thousands of rows and a handful of labels:
    # translate each once per language, not once per cell.
    if kind == "status":
        return str(Claim.Status(value).label) if value in Claim.Status.values else value
    return reason_label(value)


def _reasons_text(task: ReviewTask) -> str:
    language = get_language()
    return "; ".join(
        f"{r['workload']}: {', '.join(_label('reason', c, language) for c in r['codes'])}"
        for r in task.reasons
    )


QUEUE_COLUMNS = [
    Column(gettext_lazy("Reference"), lambda t: t.claim.reference),
    Column(
        gettext_lazy("Claim status"), lambda t: _label("status", t.claim.status, get_language())
    ),
    Column(gettext_lazy("Customer"), lambda t: t.claim.customer.name),
    Column(gettext_lazy("Partner"), lambda t: t.claim.partner.name),
    Column(gettext_lazy("Program"), lambda t: t.claim.program.name),
    Column(gettext_lazy("Reasons"), _reasons_text),
    Column(gettext_lazy("Assignee"), lambda t: t.assignee.email if t.assignee else ""),
    Column(gettext_lazy("In queue since"), lambda t: t.created_at),
    Column(gettext_lazy("Due"), lambda t: t.due_at),
    Column(gettext_lazy("Closed"), lambda t: t.closed_at),
    Column(gettext_lazy("Closed by"), lambda t: t.closed_by.email if t.closed_by else ""),
]


def _roles(request: HttpRequest) -> Roles:
    return request.roles  # type: ignore[attr-defined,no-any-return]


def _queue_page(
    request: HttpRequest, *, bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    roles = _roles(request)
    members = assignment.claims_team_members() if roles.is_claims_lead else []
    filterset = selectors.review_task_list(roles, filters=request.GET)
    context: dict[str, Any] = {
        "counts": selectors.queue_counts(roles, now=filterset.now),
        "current_view": filterset.current_view,
        "views": QUEUE_VIEWS,
        "assign_form": AssignForm(members=members, prefix="bulk") if members else None,
        "reject_form": BulkRejectForm(prefix="bulk"),
        "picked": request.POST.getlist("bulk-claims") if request.method == "POST" else [],
        **(bound or {}),
    }
    response = list_response(
        request,
        filterset,
        template="approvals/queue.html",
        columns=QUEUE_COLUMNS,
        filename="queue",
        context=context,
        paginator_class=LargeListPaginator,
    )
    if status != 200:
        response.status_code = status
    return response  # type: ignore[return-value]


@claims_team_required
def queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request)


def _back_to_queue(request: HttpRequest) -> HttpResponse:
    query = request.GET.urlencode()
    return redirect(reverse("review_queue") + (f"?{query}" if query else ""))


def _report(request: HttpRequest, result: BulkResult, done: str, **names: str) -> None:
    if result.done:
        messages.success(
            request, done % {"n": len(result.done), "refs": ", ".join(result.done), **names}
        )
    for reference, why in result.refused:
        messages.error(
            request, _("%(ref)s was left as it was: %(why)s") % {"ref": reference, "why": why}
        )


def _bulk_claims(request: HttpRequest, form: BulkSelectionForm) -> list[Claim]:
    return selectors.claims_by_reference(_roles(request), form.cleaned_data["claims"])


@require_POST
@claims_team_required
def bulk_assign(request: HttpRequest) -> HttpResponse:
    roles = _roles(request)
    if not roles.is_claims_lead:
        raise PermissionDenied  # reviewers take items one by one; leads hand them out
    members = assignment.claims_team_members()
    form = BulkAssignForm(request.POST, members=members, prefix="bulk")
    if not form.is_valid():
        messages.error(request, _("Pick the claims and whom to assign them to; nothing was lost."))
        return _queue_page(request, bound={"assign_form": form}, status=400)
    to = form.cleaned_data["assignee"]
    result = assignment.assign_many(_bulk_claims(request, form), to=to, by=request.user)  # type: ignore[arg-type]
    who = to.email if to else _("nobody (unassigned)")
    _report(request, result, _("%(n)d claims assigned to %(who)s: %(refs)s."), who=who)
    return _back_to_queue(request)


@require_POST
@claims_team_required
def bulk_approve(request: HttpRequest) -> HttpResponse:
    form = BulkSelectionForm(request.POST, prefix="bulk")
    if not form.is_valid():
        messages.error(request, _("Tick the claims to approve."))
        return _queue_page(request, status=400)
    result = services.decide_many(_bulk_claims(request, form), user=request.user, approve=True)  # type: ignore[arg-type]
    _report(request, result, _("Approved every service in review on %(n)d claims: %(refs)s."))
    return _back_to_queue(request)


@require_POST
@claims_team_required
def bulk_reject(request: HttpRequest) -> HttpResponse:
    form = BulkRejectForm(request.POST, prefix="bulk")
    if not form.is_valid():
        messages.error(
            request, _("Tick the claims and pick the reason for rejecting; nothing was lost.")
        )
        return _queue_page(request, bound={"reject_form": form}, status=400)
    result = services.decide_many(
        _bulk_claims(request, form),
        user=request.user,  # type: ignore[arg-type]
        approve=False,
        reason=form.cleaned_data["reason"],
        note=form.cleaned_data["note"],
    )
    _report(request, result, _("Rejected every service in review on %(n)d claims: %(refs)s."))
    return _back_to_queue(request)


# --- One claim ---------------------------------------------------------------------------


class ReviewClaimPage(ClaimPage):
    allowed = staticmethod(lambda roles: roles.is_claims_team)
    selector = staticmethod(get_claim_for_claims_team)
    template_name = "approvals/claim_detail.html"
    detail_url = "review_claim_detail"
    audience = "claims_team"
    internal_notes = True
    comment_form_class = ClaimsTeamCommentForm
    comment_url = "review_claim_comment"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Outside the claims team a review URL names nothing: not even whether it exists.
        if request.user.is_authenticated and not _roles(request).is_claims_team:
            raise Http404("No such claim")
        return super().dispatch(request, *args, **kwargs)

    def _pending(self) -> list[ClaimLine]:
        return [line for line in self.claim.lines.all() if line.status == line.Status.IN_REVIEW]

    def forms(self) -> dict[str, forms.Form]:
        roles = _roles(self.request)
        members = assignment.claims_team_members() if roles.is_claims_lead else []
        return {
            "form": ReviewDecisionForm(lines=self._pending()),
            "return_form": CommentForm(prefix="return"),
            "partner_form": ReturnToPartnerForm(prefix="partner"),
            "assign_form": AssignForm(members=members, prefix="assign") if members else None,  # type: ignore[dict-item]
        }

    def extra_context(self) -> dict[str, Any]:
        lines = list(self.claim.lines.all())
        task = selectors.open_task_for(self.claim)
        roles = _roles(self.request)
        return {
            "task": task,
            "is_lead": roles.is_claims_lead,
            "may_take": task is not None
            and task.assignee_id != self.request.user.pk
            and (task.assignee_id is None or roles.is_claims_lead),
            "may_release": task is not None and task.assignee_id == self.request.user.pk,
            "conflicts": selectors.conflicts(self.claim, lines),
            "line_rows": selectors.line_rows(lines),
        }


class DecideView(ClaimActionView, ReviewClaimPage):
    form_name = "form"
    success_message = gettext_lazy("Decision on claim %(ref)s recorded.")

    def get_form(self) -> forms.Form | None:
        # The form's fields are the lines in review, known only once the claim is loaded.
        return ReviewDecisionForm(self.request.POST, lines=self._pending())

    def perform(self, form: forms.Form | None) -> Claim:
        assert isinstance(form, ReviewDecisionForm)
        return services.decide_review(
            self.claim,
            user=self.request.user,  # type: ignore[arg-type]
            verdicts=form.verdicts(),
            comment=form.cleaned_data["comment"],
        )

    def render_page(
        self, *, bound: dict[str, forms.Form] | None = None, status: int = 200
    ) -> HttpResponse:
        if status == 409:
            # Someone decided first: show this reviewer what they typed, to compare or reuse.
            bound = {**(bound or {}), "unsaved": self._typed()}  # type: ignore[dict-item]
        return super().render_page(bound=bound, status=status)

    def _typed(self) -> dict[str, Any]:
        post = self.request.POST
        lines = {line.pk: line for line in self.claim.lines.all()}
        reasons = {str(r.pk): r.label for r in RejectionReason.objects.all()}
        typed = []
        for line_id, line in lines.items():
            choice = post.get(f"line_{line_id}")
            if choice:
                typed.append(
                    {
                        "service": line.workload.name,
                        "choice": choice,
                        "reason": reasons.get(post.get(f"reason_{line_id}", ""), ""),
                        "note": post.get(f"note_{line_id}", ""),
                    }
                )
        return {"lines": typed, "comment": post.get("comment", "")}


class ReviewReturnView(ClaimActionView, ReviewClaimPage):
    form_class = CommentForm
    form_name = "return_form"
    success_message = gettext_lazy("Claim %(ref)s was returned to the customer.")
    invalid_message = gettext_lazy(
        "Say what needs correcting (at most 4,000 characters) before returning the claim; "
        "what you typed is kept below."
    )

    def perform(self, form: forms.Form | None) -> Claim:
        assert form is not None
        return lifecycle.return_from_review(
            self.claim,
            user=self.request.user,  # type: ignore[arg-type]
            comment=form.cleaned_data["comment"],
        )


class ReviewReturnPartnerView(ClaimActionView, ReviewClaimPage):
    form_class = ReturnToPartnerForm
    form_name = "partner_form"
    success_message = gettext_lazy("Claim %(ref)s was returned to the partner.")
    invalid_message = gettext_lazy(
        "Say what the partner needs to do (at most 4,000 characters); what you typed is kept below."
    )

    def perform(self, form: forms.Form | None) -> Claim:
        assert form is not None
        return lifecycle.return_to_partner(
            self.claim,
            user=self.request.user,  # type: ignore[arg-type]
            comment=form.cleaned_data["comment"],
        )


class TakeView(ClaimActionView, ReviewClaimPage):
    success_message = gettext_lazy("Claim %(ref)s is yours now.")

    def perform(self, form: forms.Form | None) -> Claim:
        assignment.take(self.claim, user=self.request.user)  # type: ignore[arg-type]
        return self.claim


class ReleaseView(ClaimActionView, ReviewClaimPage):
    success_message = gettext_lazy("Claim %(ref)s is back in the unassigned items.")

    def perform(self, form: forms.Form | None) -> Claim:
        assignment.assign(self.claim, to=None, by=self.request.user)  # type: ignore[arg-type]
        return self.claim


class AssignView(ClaimActionView, ReviewClaimPage):
    form_name = "assign_form"
    success_message = gettext_lazy("Claim %(ref)s was assigned.")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        roles = _roles(request) if request.user.is_authenticated else None
        if roles is not None and roles.is_claims_team and not roles.is_claims_lead:
            raise PermissionDenied  # a reviewer takes or gives back, never hands out
        return super().dispatch(request, *args, **kwargs)

    def get_form(self) -> forms.Form | None:
        return AssignForm(
            self.request.POST, members=assignment.claims_team_members(), prefix="assign"
        )

    def perform(self, form: forms.Form | None) -> Claim:
        assert form is not None
        assignment.assign(
            self.claim,
            to=form.cleaned_data["assignee"],
            by=self.request.user,  # type: ignore[arg-type]
        )
        return self.claim


@login_required
def sow_document(request: HttpRequest, reference: str) -> FileResponse:
    """The claim's custom SOW, for the claims team (never a public media URL)."""
    claim = get_claim_for_claims_team(_roles(request), reference)  # 404 outside the team
    if not claim.custom_sow:
        raise Http404("No custom SOW on this claim")
    try:
        handle = claim.custom_sow.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The document is missing from storage") from exc
    name = claim.custom_sow.name.rsplit("/", 1)[-1]
    return FileResponse(handle, as_attachment=True, filename=f"{claim.reference}-{name}")


class ReviewCommentView(CommentView, ReviewClaimPage):
    success_message = gettext_lazy("Added to the comments of claim %(ref)s.")
