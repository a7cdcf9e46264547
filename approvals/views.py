"""The claims team's exception queue and decisions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from approvals.forms import ReviewDecisionForm
from approvals.rules import REASON_LABELS
from approvals.selectors import open_review_tasks
from approvals.services import decide_review
from claims import lifecycle
from claims.forms import CommentForm
from claims.lifecycle import ClaimError
from claims.models import ClaimLine
from claims.selectors import get_claim_for_claims_team
from claims_portal.access import claims_team_required


@claims_team_required
def queue(request: HttpRequest) -> HttpResponse:
    tasks = open_review_tasks(request.user, mine=request.GET.get("mine") == "1")
    page = Paginator(tasks, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "approvals/queue.html",
        {"page_obj": page, "mine": request.GET.get("mine") == "1", "reason_labels": REASON_LABELS},
    )


def _render_detail(request, claim, form, status=200):
    task = claim.review_tasks.filter(state="open").first()
    return render(
        request,
        "approvals/claim_detail.html",
        {
            "claim": claim,
            "lines": list(claim.lines.all()),
            "events": list(claim.events.all()),
            "task": task,
            "form": form,
            "return_form": CommentForm(prefix="return"),
            "can_decide": lifecycle.can(request.user, claim, "decide"),
            "reason_labels": REASON_LABELS,
        },
        status=status,
    )


@claims_team_required
def claim_detail(request: HttpRequest, reference: str) -> HttpResponse:
    claim = get_claim_for_claims_team(request.user, reference)
    pending = [line for line in claim.lines.all() if line.status == ClaimLine.Status.IN_REVIEW]
    form = ReviewDecisionForm(request.POST or None, lines=pending)
    if request.method == "POST":
        if form.is_valid():
            try:
                decide_review(
                    claim,
                    user=request.user,
                    line_approvals=form.line_approvals(),
                    comment=form.cleaned_data["comment"],
                )
            except ClaimError as exc:
                messages.error(request, str(exc))
                return _render_detail(request, claim, form, status=409)
            messages.success(request, _("Decision on claim %s recorded.") % claim.reference)
            return redirect("review_claim_detail", claim.reference)
        messages.error(request, _("Please correct the marked fields; nothing was lost."))
        return _render_detail(request, claim, form, status=400)
    return _render_detail(request, claim, form)


@require_POST
@claims_team_required
def claim_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    claim = get_claim_for_claims_team(request.user, reference)
    if action != "return":
        raise PermissionDenied
    form = CommentForm(request.POST, prefix="return")
    if not form.is_valid():
        messages.error(request, _("Say what needs correcting before returning the claim."))
        return redirect("review_claim_detail", claim.reference)
    try:
        lifecycle.return_from_review(claim, user=request.user, comment=form.cleaned_data["comment"])
        messages.success(request, _("Claim %s was returned to the customer.") % claim.reference)
    except ClaimError as exc:
        messages.error(request, str(exc))
    return redirect("review_claim_detail", claim.reference)
