"""The claims team's exception queue and decisions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from approvals import selectors
from approvals.forms import ReviewDecisionForm
from approvals.models import ReviewTask
from approvals.rules import reason_label
from approvals.services import decide_review
from claims import lifecycle
from claims.forms import CommentForm
from claims.models import Claim, ClaimLine
from claims.selectors import get_claim_for_claims_team
from claims.views import ClaimActionView, ClaimPage
from claims_portal.access import claims_team_required
from claims_portal.lists import Column, list_response

QUEUE_COLUMNS = [
    Column(gettext_lazy("Reference"), lambda t: t.claim.reference),
    Column(gettext_lazy("Customer"), lambda t: t.claim.customer.name),
    Column(gettext_lazy("Partner"), lambda t: t.claim.partner.name),
    Column(gettext_lazy("Program"), lambda t: t.claim.program.name),
    Column(
        gettext_lazy("Reasons"),
        lambda t: "; ".join(
            f"{r['workload']}: {', '.join(reason_label(c) for c in r['codes'])}" for r in t.reasons
        ),
    ),
    Column(gettext_lazy("Assignee"), lambda t: t.assignee.email if t.assignee else ""),
    Column(gettext_lazy("In queue since"), lambda t: t.created_at),
    Column(gettext_lazy("Due"), lambda t: t.due_at),
]


@claims_team_required
def queue(request: HttpRequest) -> HttpResponse:
    return list_response(
        request,
        selectors.review_task_list(request.roles, filters=request.GET),  # type: ignore[attr-defined]
        template="approvals/queue.html",
        columns=QUEUE_COLUMNS,
        filename="queue",
    )


class ReviewClaimPage(ClaimPage):
    allowed = staticmethod(lambda roles: roles.is_claims_team)
    selector = staticmethod(get_claim_for_claims_team)
    template_name = "approvals/claim_detail.html"
    detail_url = "review_claim_detail"

    def _pending(self) -> list[ClaimLine]:
        return [line for line in self.claim.lines.all() if line.status == line.Status.IN_REVIEW]

    def forms(self) -> dict[str, forms.Form]:
        return {
            "form": ReviewDecisionForm(lines=self._pending()),
            "return_form": CommentForm(prefix="return"),
        }

    def extra_context(self) -> dict[str, Any]:
        return {"task": self.claim.review_tasks.filter(state=ReviewTask.State.OPEN).first()}


class DecideView(ClaimActionView, ReviewClaimPage):
    form_name = "form"
    success_message = gettext_lazy("Decision on claim %(ref)s recorded.")

    def get_form(self) -> forms.Form | None:
        # The form's fields are the lines in review, known only once the claim is loaded.
        return ReviewDecisionForm(self.request.POST, lines=self._pending())

    def perform(self, form: forms.Form | None) -> Claim:
        assert isinstance(form, ReviewDecisionForm)
        return decide_review(
            self.claim,
            user=self.request.user,
            line_approvals=form.line_approvals(),
            comment=form.cleaned_data["comment"],
        )


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
            self.claim, user=self.request.user, comment=form.cleaned_data["comment"]
        )
