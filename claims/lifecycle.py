"""The claim life cycle, in one place.

Every change of a claim's status goes through a function here. Each one locks the
customer row and then the claim row (always in that order, so evaluation, which
serialises per customer, cannot deadlock with a person acting on the claim), checks
the state it starts from and the actor's role against TRANSITIONS, saves, appends an
Event, and queues notifications to go out after the commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims.events import record_event
from claims.models import Claim, ClaimLine, Event, ReferenceCounter
from claims_portal.business_days import add_business_days
from claims_portal.roles import roles_for

S = Claim.Status


class ClaimError(Exception):
    """A life-cycle move that is not allowed; its message is shown to the person."""


class Role:
    CONTRIBUTOR = "customer_contributor"
    APPROVER = "customer_approver"
    PARTNER = "partner"
    CLAIMS_TEAM = "claims_team"
    SYSTEM = "system"


CUSTOMER = frozenset({Role.CONTRIBUTOR, Role.APPROVER})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    roles: frozenset[str]
    # None where the target depends on the outcome (evaluation, review decisions).
    target: str | None


TRANSITIONS: dict[str, Transition] = {
    "edit": Transition(
        frozenset({S.DRAFT, S.AWAITING_CUSTOMER_APPROVAL, S.RETURNED_TO_CUSTOMER}), CUSTOMER, None
    ),
    "route": Transition(frozenset({S.DRAFT}), CUSTOMER, S.AWAITING_CUSTOMER_APPROVAL),
    "sign": Transition(
        frozenset({S.DRAFT, S.AWAITING_CUSTOMER_APPROVAL}),
        frozenset({Role.APPROVER}),
        S.AWAITING_PARTNER,
    ),
    "resubmit": Transition(
        frozenset({S.RETURNED_TO_CUSTOMER}), frozenset({Role.APPROVER}), S.AWAITING_PARTNER
    ),
    "confirm": Transition(frozenset({S.AWAITING_PARTNER}), frozenset({Role.PARTNER}), S.EVALUATING),
    "return": Transition(
        frozenset({S.AWAITING_PARTNER}), frozenset({Role.PARTNER}), S.RETURNED_TO_CUSTOMER
    ),
    "evaluate": Transition(frozenset({S.EVALUATING}), frozenset({Role.SYSTEM}), None),
    "decide": Transition(frozenset({S.IN_REVIEW}), frozenset({Role.CLAIMS_TEAM}), None),
    "review_return": Transition(
        frozenset({S.IN_REVIEW}), frozenset({Role.CLAIMS_TEAM}), S.RETURNED_TO_CUSTOMER
    ),
    "withdraw": Transition(
        frozenset(
            {
                S.DRAFT,
                S.AWAITING_CUSTOMER_APPROVAL,
                S.AWAITING_PARTNER,
                S.RETURNED_TO_CUSTOMER,
                S.IN_REVIEW,
            }
        ),
        CUSTOMER | {Role.PARTNER},
        S.WITHDRAWN,
    ),
}

ACTION_LABELS = {
    "created": gettext_lazy("Created"),
    "edit": gettext_lazy("Edited"),
    "route": gettext_lazy("Sent to the approver"),
    "sign": gettext_lazy("Signed and submitted"),
    "resubmit": gettext_lazy("Corrected and resubmitted"),
    "confirm": gettext_lazy("Confirmed by the partner"),
    "return": gettext_lazy("Returned to the customer"),
    "evaluate": gettext_lazy("Checked automatically"),
    "decide": gettext_lazy("Decided by the claims team"),
    "review_return": gettext_lazy("Returned by the claims team"),
    "withdraw": gettext_lazy("Withdrawn"),
}

# Verbs for "can no longer be ..." messages.
_ACTION_VERBS = {
    "edit": gettext_lazy("edited"),
    "route": gettext_lazy("sent to the approver"),
    "sign": gettext_lazy("signed"),
    "resubmit": gettext_lazy("resubmitted"),
    "confirm": gettext_lazy("confirmed"),
    "return": gettext_lazy("returned"),
    "evaluate": gettext_lazy("checked"),
    "decide": gettext_lazy("decided"),
    "review_return": gettext_lazy("returned"),
    "withdraw": gettext_lazy("withdrawn"),
}


@dataclass(frozen=True)
class LineInput:
    workload_id: int
    target_start: datetime.date
    target_end: datetime.date
    seats: int
    survey_contact_name: str = ""
    survey_contact_email: str = ""


@dataclass(frozen=True)
class ClaimInput:
    survey_contact_mode: str
    survey_contact_name: str
    survey_contact_email: str
    lines: Sequence[LineInput]


def roles_on_claim(user, claim: Claim) -> set[str]:
    """The roles `user` holds on this particular claim."""
    if user is None:
        return {Role.SYSTEM}
    roles = roles_for(user)
    held: set[str] = set()
    if roles.customer_membership and roles.customer_membership.customer_id == claim.customer_id:
        held.add(Role.APPROVER if roles.customer_membership.is_approver else Role.CONTRIBUTOR)
    if roles.partner_membership and roles.partner_membership.partner_id == claim.partner_id:
        held.add(Role.PARTNER)
    if roles.is_claims_team:
        held.add(Role.CLAIMS_TEAM)
    return held


def can(user, claim: Claim, action: str) -> bool:
    """Whether `user` may take `action` on the claim as it stands (for showing buttons)."""
    transition = TRANSITIONS[action]
    return claim.status in transition.sources and bool(
        roles_on_claim(user, claim) & transition.roles
    )


def _lock(claim: Claim | int) -> Claim:
    from customers.models import Customer

    claim_id = claim if isinstance(claim, int) else claim.pk
    customer_id = Claim.objects.values_list("customer_id", flat=True).get(pk=claim_id)
    Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk").get()
    return Claim.objects.select_for_update().select_related("program", "partner").get(pk=claim_id)


def _authorise(claim: Claim, user, action: str) -> str:
    transition = TRANSITIONS[action]
    held = roles_on_claim(user, claim) & transition.roles
    if not held:
        raise ClaimError(_("You are not allowed to do that on claim %s.") % claim.reference)
    if claim.status not in transition.sources:
        raise ClaimError(
            _(
                "Claim %(ref)s is now “%(status)s”, so it can no longer be %(verb)s. "
                "Nothing was changed; the page shows its current state."
            )
            % {
                "ref": claim.reference,
                "status": claim.get_status_display(),
                "verb": _ACTION_VERBS[action],
            }
        )
    # Prefer the most specific role for the record.
    for role in (Role.APPROVER, Role.CONTRIBUTOR, Role.PARTNER, Role.CLAIMS_TEAM, Role.SYSTEM):
        if role in held:
            return role
    raise AssertionError("unreachable")


def _due(claim: Claim, status: str) -> datetime.datetime | None:
    now = timezone.now()
    program = claim.program
    days = {
        S.AWAITING_PARTNER: program.partner_confirm_days,
        S.IN_REVIEW: program.review_days,
        S.RETURNED_TO_CUSTOMER: program.correction_days,
    }.get(status)
    return add_business_days(now, days) if days is not None else None


def _move(
    claim: Claim,
    *,
    action: str,
    user,
    role: str,
    to_status: str,
    comment: str = "",
    changes: dict | None = None,
    extra_fields: Iterable[str] = (),
    notify: bool = True,
) -> Event:
    from_status = claim.status
    claim.status = to_status
    claim.due_at = _due(claim, to_status)
    if to_status in {S.APPROVED, S.PARTIALLY_APPROVED, S.REJECTED}:
        claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "due_at", "decided_at", "updated_at", *extra_fields])
    event = record_event(
        claim,
        action=action,
        user=user,
        role=role,
        from_status=from_status,
        to_status=to_status,
        changes=changes,
        comment=comment,
    )
    if notify:
        from claims.notifications import notify_parties

        notify_parties(claim, event)
    return event


def _next_reference(year: int) -> str:
    # The UPDATE takes the counter's row lock until commit, so two claims created
    # at once never share a number.
    ReferenceCounter.objects.get_or_create(year=year)
    ReferenceCounter.objects.filter(year=year).update(last=F("last") + 1)
    number = ReferenceCounter.objects.values_list("last", flat=True).get(year=year)
    return f"CLM-{year}-{number:06d}"


def _line_changes(claim: Claim, data: ClaimInput) -> dict:
    lines = [
        {
            "workload": line.workload_id,
            "target_start": line.target_start.isoformat(),
            "target_end": line.target_end.isoformat(),
            "seats": line.seats,
            "survey_contact": line.survey_contact_email,
        }
        for line in data.lines
    ]
    return {
        "survey_contact_mode": data.survey_contact_mode,
        "survey_contact_email": data.survey_contact_email,
        "lines": lines,
    }


def _write_lines(claim: Claim, data: ClaimInput) -> None:
    claim.lines.all().delete()
    ClaimLine.objects.bulk_create(
        ClaimLine(
            claim=claim,
            workload_id=line.workload_id,
            target_start=line.target_start,
            target_end=line.target_end,
            seats=line.seats,
            survey_contact_name=line.survey_contact_name,
            survey_contact_email=line.survey_contact_email,
        )
        for line in data.lines
    )


def create_claim(*, customer, partner, program, user, data: ClaimInput) -> Claim:
    """Start a draft claim for the customer with the partner, recorded as its first event."""
    if not data.lines:
        raise ClaimError(_("Pick at least one service."))
    with transaction.atomic():
        claim = Claim.objects.create(
            reference=_next_reference(timezone.now().year),
            customer=customer,
            partner=partner,
            program=program,
            created_by=user,
            survey_contact_mode=data.survey_contact_mode,
            survey_contact_name=data.survey_contact_name,
            survey_contact_email=data.survey_contact_email,
        )
        _write_lines(claim, data)
        held = roles_on_claim(user, claim) & CUSTOMER
        if not held:
            raise ClaimError(_("Only people of the customer organisation can start its claims."))
        record_event(
            claim,
            action="created",
            user=user,
            role=next(iter(held)),
            to_status=S.DRAFT,
            changes=_line_changes(claim, data),
        )
    return claim


def update_claim(claim: Claim, *, user, data: ClaimInput) -> Claim:
    """Replace the services and contacts of a claim the customer is still working on."""
    if not data.lines:
        raise ClaimError(_("Pick at least one service."))
    with transaction.atomic():
        claim = _lock(claim)
        role = _authorise(claim, user, "edit")
        claim.survey_contact_mode = data.survey_contact_mode
        claim.survey_contact_name = data.survey_contact_name
        claim.survey_contact_email = data.survey_contact_email
        claim.save(
            update_fields=[
                "survey_contact_mode",
                "survey_contact_name",
                "survey_contact_email",
                "updated_at",
            ]
        )
        _write_lines(claim, data)
        record_event(
            claim,
            action="edit",
            user=user,
            role=role,
            from_status=claim.status,
            to_status=claim.status,
            changes=_line_changes(claim, data),
        )
    return claim


def route_to_approver(claim: Claim, *, user, comment: str = "") -> Claim:
    """Hand a draft to the organisation's approver to sign."""
    with transaction.atomic():
        claim = _lock(claim)
        role = _authorise(claim, user, "route")
        _move(
            claim,
            action="route",
            user=user,
            role=role,
            to_status=S.AWAITING_CUSTOMER_APPROVAL,
            comment=comment,
        )
    return claim


def _sign(claim: Claim, *, action: str, user, signed_name: str, attested: bool) -> Claim:
    signed_name = signed_name.strip()
    if not attested:
        raise ClaimError(_("Confirm that you may sign for your organisation."))
    if not signed_name:
        raise ClaimError(_("Type your full name to sign."))
    with transaction.atomic():
        claim = _lock(claim)
        role = _authorise(claim, user, action)
        now = timezone.now()
        claim.signed_by = user
        claim.signed_name = signed_name
        claim.signed_at = now
        claim.submitted_at = now
        _move(
            claim,
            action=action,
            user=user,
            role=role,
            to_status=S.AWAITING_PARTNER,
            changes={"signed_name": signed_name, "signed_by": user.email or user.get_username()},
            extra_fields=["signed_by", "signed_name", "signed_at", "submitted_at"],
        )
    return claim


def sign_and_submit(claim: Claim, *, user, signed_name: str, attested: bool) -> Claim:
    """The customer approver signs the claim and submits it to the partner."""
    return _sign(claim, action="sign", user=user, signed_name=signed_name, attested=attested)


def resubmit(claim: Claim, *, user, signed_name: str, attested: bool) -> Claim:
    """The approver signs again and resubmits a claim that was returned for corrections."""
    return _sign(claim, action="resubmit", user=user, signed_name=signed_name, attested=attested)


def confirm_claim(claim: Claim, *, user, comment: str = "") -> Claim:
    """The partner confirms; the rule check runs in a worker once this commits."""
    with transaction.atomic():
        claim = _lock(claim)
        role = _authorise(claim, user, "confirm")
        _move(
            claim, action="confirm", user=user, role=role, to_status=S.EVALUATING, comment=comment
        )
        from approvals.tasks import evaluate_claim

        claim_id = claim.pk
        transaction.on_commit(lambda: evaluate_claim.delay(claim_id))
    return claim


def _require_comment(comment: str) -> str:
    comment = comment.strip()
    if not comment:
        raise ClaimError(_("Say what needs correcting, so the customer knows what to change."))
    return comment


def return_to_customer(claim: Claim, *, user, comment: str) -> Claim:
    """The partner returns the claim to the customer for corrections."""
    comment = _require_comment(comment)
    with transaction.atomic():
        claim = _lock(claim)
        role = _authorise(claim, user, "return")
        _move(
            claim,
            action="return",
            user=user,
            role=role,
            to_status=S.RETURNED_TO_CUSTOMER,
            comment=comment,
        )
    return claim


def return_from_review(claim: Claim, *, user, comment: str) -> Claim:
    """The claims team returns a queued claim to the customer for corrections."""
    comment = _require_comment(comment)
    with transaction.atomic():
        claim = _lock(claim)
        role = _authorise(claim, user, "review_return")
        # Lines already approved keep their approval and association; only the
        # exceptions go back to the customer.
        claim.lines.filter(status=ClaimLine.Status.IN_REVIEW).update(
            status=ClaimLine.Status.PENDING
        )
        _move(
            claim,
            action="review_return",
            user=user,
            role=role,
            to_status=S.RETURNED_TO_CUSTOMER,
            comment=comment,
        )
        _close_review_tasks(claim)
    return claim


def withdraw(claim: Claim, *, user, comment: str = "") -> Claim:
    """The customer or the partner withdraws the claim before it is decided."""
    with transaction.atomic():
        claim = _lock(claim)
        role = _authorise(claim, user, "withdraw")
        _move(
            claim, action="withdraw", user=user, role=role, to_status=S.WITHDRAWN, comment=comment
        )
        _close_review_tasks(claim)
    return claim


def _close_review_tasks(claim: Claim) -> None:
    from approvals.models import ReviewTask

    ReviewTask.objects.filter(claim=claim, state=ReviewTask.State.OPEN).update(
        state=ReviewTask.State.DONE, closed_at=timezone.now()
    )


def _final_status(lines: Iterable[ClaimLine]) -> str:
    statuses = {line.status for line in lines}
    if statuses == {ClaimLine.Status.APPROVED}:
        return S.APPROVED
    if ClaimLine.Status.APPROVED in statuses:
        return S.PARTIALLY_APPROVED
    return S.REJECTED


def complete_evaluation(claim_id: int, *, evaluate_line) -> Claim | None:
    """Record the rule check: passing lines are approved at once, the rest go to review.

    `evaluate_line(claim, line)` runs inside the lock and returns whether it passed; it
    is where approvals records the Decision and grants the association. Returns None
    when the claim is no longer being checked (a redelivered task).
    """
    with transaction.atomic():
        claim = _lock(claim_id)
        if claim.status != S.EVALUATING:
            return None
        role = _authorise(claim, None, "evaluate")
        lines = list(claim.lines.select_related("workload"))
        results = {}
        for line in lines:
            # A line approved in an earlier round (before a return) stays approved.
            passed = line.status == ClaimLine.Status.APPROVED or evaluate_line(claim, line)
            line.status = ClaimLine.Status.APPROVED if passed else ClaimLine.Status.IN_REVIEW
            line.save(update_fields=["status"])
            results[line.workload.code] = "approved" if passed else "in_review"
        to_status = (
            S.APPROVED
            if all(line.status == ClaimLine.Status.APPROVED for line in lines)
            else S.IN_REVIEW
        )
        _move(
            claim,
            action="evaluate",
            user=None,
            role=role,
            to_status=to_status,
            changes={"lines": results},
        )
    return claim


def decide(
    claim: Claim, *, user, line_approvals: Mapping[int, bool], comment: str = "", grant
) -> Claim:
    """The claims team approves or rejects each line in review; `grant` creates associations."""
    with transaction.atomic():
        claim = _lock(claim)
        role = _authorise(claim, user, "decide")
        lines = list(claim.lines.select_related("workload"))
        pending = [line for line in lines if line.status == ClaimLine.Status.IN_REVIEW]
        missing = [line.workload.name for line in pending if line.pk not in line_approvals]
        if missing:
            raise ClaimError(
                _("Decide every service in review (missing: %s).") % ", ".join(missing)
            )
        if not any(line_approvals[line.pk] for line in pending) and not comment.strip():
            raise ClaimError(_("Give the reason when rejecting, for the customer and partner."))
        results = {}
        for line in pending:
            approved = bool(line_approvals[line.pk])
            line.status = ClaimLine.Status.APPROVED if approved else ClaimLine.Status.REJECTED
            line.save(update_fields=["status"])
            if approved:
                grant(claim, line, user)
            results[line.workload.code] = line.status
        _move(
            claim,
            action="decide",
            user=user,
            role=role,
            to_status=_final_status(lines),
            comment=comment.strip(),
            changes={"lines": results},
        )
        _close_review_tasks(claim)
    return claim
