"""The claim life cycle, in one place.

Every change of a claim's status goes through a function here. Each one locks the
customer row and then the claim row (always in that order, so evaluation, which
serialises per customer, cannot deadlock with a person acting on the claim), checks
the state it starts from and the actor's role against TRANSITIONS, saves, appends an
Event, queues notifications to go out after the commit, and sends `claim_transitioned`
so other apps (the rule engine, the queue) do their part without this module knowing them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims import checks, clock
from claims.content import ClaimInput, LineInput, missing_for_submission, snapshot
from claims.events import record_event
from claims.models import Claim, ClaimAction, ClaimLine, ClaimRole, Event, ReferenceCounter
from claims.notifications import notify_parties
from claims.signals import claim_transitioned
from claims_portal.roles import CLAIMS_TEAM_GROUPS
from customers.models import Customer, CustomerMembership
from customers.services import OrganisationError, check_may_act_for, grant_associations
from partners.models import Partner, PartnerMembership, Program

S = Claim.Status
A = ClaimAction
R = ClaimRole


class ClaimError(Exception):
    """A life-cycle move that is not allowed; its message is shown to the person.

    `field` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


CUSTOMER = frozenset({R.CONTRIBUTOR, R.APPROVER})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    roles: frozenset[str]
    # None where the target depends on the outcome (evaluation, review decisions).
    target: str | None
    # For "Claim X is now …, so it can no longer be <verb>."
    verb: str | Promise

    def allows(self, status: str, roles: Iterable[str]) -> bool:
        return status in self.sources and bool(self.roles & set(roles))


TRANSITIONS: dict[ClaimAction, Transition] = {
    # A partner prepares a claim (custom SOW) for the customer's approver to review,
    # correct and sign: it starts awaiting the customer, never as anyone's draft.
    A.PREPARE: Transition(
        frozenset(),
        frozenset({R.PARTNER}),
        S.AWAITING_CUSTOMER_APPROVAL,
        gettext_lazy("prepared"),
    ),
    A.EDIT: Transition(
        frozenset({S.DRAFT, S.AWAITING_CUSTOMER_APPROVAL, S.RETURNED_TO_CUSTOMER}),
        CUSTOMER,
        None,
        gettext_lazy("edited"),
    ),
    A.ROUTE: Transition(
        frozenset({S.DRAFT}),
        CUSTOMER,
        S.AWAITING_CUSTOMER_APPROVAL,
        gettext_lazy("sent to the approver"),
    ),
    A.SIGN: Transition(
        frozenset({S.DRAFT, S.AWAITING_CUSTOMER_APPROVAL}),
        frozenset({R.APPROVER}),
        S.AWAITING_PARTNER,
        gettext_lazy("signed"),
    ),
    A.RESUBMIT: Transition(
        frozenset({S.RETURNED_TO_CUSTOMER}),
        frozenset({R.APPROVER}),
        S.AWAITING_PARTNER,
        gettext_lazy("resubmitted"),
    ),
    A.CONFIRM: Transition(
        frozenset({S.AWAITING_PARTNER}),
        frozenset({R.PARTNER}),
        S.EVALUATING,
        gettext_lazy("confirmed"),
    ),
    A.RETURN: Transition(
        frozenset({S.AWAITING_PARTNER}),
        frozenset({R.PARTNER}),
        S.RETURNED_TO_CUSTOMER,
        gettext_lazy("returned"),
    ),
    A.EVALUATE: Transition(
        frozenset({S.EVALUATING}), frozenset({R.SYSTEM}), None, gettext_lazy("checked")
    ),
    A.DECIDE: Transition(
        frozenset({S.IN_REVIEW}), frozenset({R.CLAIMS_TEAM}), None, gettext_lazy("decided")
    ),
    A.REVIEW_RETURN: Transition(
        frozenset({S.IN_REVIEW}),
        frozenset({R.CLAIMS_TEAM}),
        S.RETURNED_TO_CUSTOMER,
        gettext_lazy("returned"),
    ),
    A.REVIEW_RETURN_PARTNER: Transition(
        frozenset({S.IN_REVIEW}),
        frozenset({R.CLAIMS_TEAM}),
        S.AWAITING_PARTNER,
        gettext_lazy("returned"),
    ),
    # Not moves: entries in the claim's history, allowed only in these states.
    A.ASSIGN: Transition(
        frozenset({S.IN_REVIEW}),
        frozenset({R.CLAIMS_TEAM, R.SYSTEM}),
        None,
        gettext_lazy("assigned"),
    ),
    A.REMIND: Transition(
        clock.DEADLINE_STATES, frozenset({R.SYSTEM}), None, gettext_lazy("reminded")
    ),
    A.ESCALATE: Transition(
        clock.DEADLINE_STATES, frozenset({R.SYSTEM}), None, gettext_lazy("escalated")
    ),
    A.WITHDRAW: Transition(
        frozenset(
            {
                S.DRAFT,
                S.AWAITING_CUSTOMER_APPROVAL,
                S.AWAITING_PARTNER,
                S.RETURNED_TO_CUSTOMER,
                S.IN_REVIEW,
            }
        ),
        CUSTOMER | {R.PARTNER},
        # Withdrawn, or partially approved when a line was approved already (see withdraw()).
        None,
        gettext_lazy("withdrawn"),
    ),
}

# The most specific role first, for the record.
_ROLE_PRECEDENCE = (R.APPROVER, R.CONTRIBUTOR, R.PARTNER, R.CLAIMS_TEAM, R.SYSTEM)


# --- Who may do what ------------------------------------------------------------------


def roles_on_claim(user: User | None, claim: Claim) -> frozenset[ClaimRole]:
    """The roles `user` holds on this particular claim, read in one query."""
    if user is None:
        return frozenset({R.SYSTEM})
    if not user.is_authenticated:
        return frozenset()
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            customer_role=Subquery(
                CustomerMembership.objects.filter(
                    user=OuterRef("pk"), customer_id=claim.customer_id
                ).values("role")[:1]
            ),
            partner=Exists(
                PartnerMembership.objects.filter(user=OuterRef("pk"), partner_id=claim.partner_id)
            ),
            claims_team=Exists(
                Group.objects.filter(user=OuterRef("pk"), name__in=CLAIMS_TEAM_GROUPS)
            ),
        )
        .values("customer_role", "partner", "claims_team")
        .first()
    )
    if row is None:
        return frozenset()
    held: set[ClaimRole] = set()
    if row["customer_role"] == CustomerMembership.Role.APPROVER:
        held.add(R.APPROVER)
    elif row["customer_role"] is not None:
        held.add(R.CONTRIBUTOR)
    if row["partner"]:
        held.add(R.PARTNER)
    if row["claims_team"]:
        held.add(R.CLAIMS_TEAM)
    return frozenset(held)


def allowed_actions(user: User | None, claim: Claim) -> frozenset[ClaimAction]:
    """The actions `user` may take on the claim as it stands (for showing buttons)."""
    held = roles_on_claim(user, claim)
    return frozenset(
        action
        for action, transition in TRANSITIONS.items()
        if transition.allows(claim.status, held)
    )


def can(user: User | None, claim: Claim, action: ClaimAction) -> bool:
    return action in allowed_actions(user, claim)


def may_sign_as(role: ClaimRole) -> bool:
    """Whether someone in `role` signs claims (for a claim that does not exist yet)."""
    return role in TRANSITIONS[A.SIGN].roles


def _authorise(claim: Claim, user: User | None, action: ClaimAction) -> ClaimRole:
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
                "verb": transition.verb,
            }
        )
    chosen = next(role for role in _ROLE_PRECEDENCE if role in held)
    if chosen in CUSTOMER and user is not None:
        _check_acts_for_customer(user, claim)
    return chosen


def _check_acts_for_customer(user: User, claim: Claim) -> None:
    """Someone acts for an organisation only with a verified email at one of its domains."""
    try:
        check_may_act_for(user, claim.customer)
    except OrganisationError as exc:
        raise ClaimError(str(exc)) from exc


# --- Locking and moving ---------------------------------------------------------------


def lock_claim(claim: Claim | int) -> Claim:
    """Lock the claim's customer, then the claim, and return the claim as it is now.

    The caller is inside `transaction.atomic()`. Only the claim row is locked, not the
    program or partner rows it is read with (`of=("self",)`), so actions on claims of
    one program do not queue behind each other.
    """
    claim_id = claim if isinstance(claim, int) else claim.pk
    # One statement finds the claim's customer and locks it.
    locked = (
        Customer.objects.select_for_update()
        .filter(pk=Subquery(Claim.objects.filter(pk=claim_id).values("customer_id")))
        .values_list("pk")
        .first()
    )
    if locked is None:
        raise Claim.DoesNotExist(f"No claim {claim_id}")
    return (
        Claim.objects.select_for_update(of=("self",))
        .select_related("program", "partner")
        .get(pk=claim_id)
    )


def _move(
    claim: Claim,
    *,
    action: ClaimAction,
    user: User | None,
    role: ClaimRole,
    to_status: str,
    comment: str = "",
    changes: dict | None = None,
    extra_fields: Iterable[str] = (),
) -> Event:
    from_status = claim.status
    claim.status = to_status
    clock_fields = clock.wind(claim, from_status=from_status, to_status=to_status)
    if to_status in {S.APPROVED, S.PARTIALLY_APPROVED, S.REJECTED}:
        claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "decided_at", "updated_at", *clock_fields, *extra_fields])
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
    notify_parties(claim, event)
    claim_transitioned.send(sender=Claim, claim=claim, event=event)
    return event


# --- The customer's content -----------------------------------------------------------


def _next_reference(year: int) -> str:
    # The UPDATE takes the counter's row lock until commit, so two claims created
    # at once never share a number.
    ReferenceCounter.objects.get_or_create(year=year)
    ReferenceCounter.objects.filter(year=year).update(last=F("last") + 1)
    number = ReferenceCounter.objects.values_list("last", flat=True).get(year=year)
    return f"CLM-{year}-{number:06d}"


_LINE_FIELDS = (
    "target_start",
    "target_end",
    "seats",
    "survey_contact_name",
    "survey_contact_email",
    "survey_contact_phone",
)
_CLAIM_FIELDS = (
    "survey_contact_mode",
    "survey_contact_name",
    "survey_contact_email",
    "survey_contact_phone",
    "public_sector_details",
)


class StaleClaim(ClaimError):
    """The claim changed since the person loaded the form they are saving."""


def _check_workloads(claim: Claim, data: ClaimInput, existing: Iterable[int]) -> None:
    # A workload the form never offered (another program's, or one switched off) can only
    # come from a forged or stale form. One the claim already has may stay as it is.
    wanted = {line.workload_id for line in data.lines} - set(existing)
    if not wanted:
        return
    offered = set(
        claim.program.workloads.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True)
    )
    if wanted - offered:
        raise ClaimError(
            _("A service you picked is not offered in %(program)s. Reload the form and pick again.")
            % {"program": claim.program.name}
        )


def last_version(claim: Claim) -> int:
    """The claim's version as a form carries it: the number of its latest event."""
    seq = Event.objects.filter(claim=claim).order_by("-seq").values_list("seq", flat=True).first()
    return seq or 0


def _write_lines(claim: Claim, data: ClaimInput) -> None:
    """Bring the claim's lines in line with `data`, keeping each line's id.

    Decisions point at lines, so a line is updated in place, never replaced. A line the
    customer drops is deleted only when nothing was decided on it; a checked line is kept
    as "removed" with its decisions. An approved line is final: it cannot change.
    """
    existing = {line.workload_id: line for line in claim.lines.select_related("workload")}
    _check_workloads(claim, data, existing)
    wanted = {line.workload_id: line for line in data.lines}
    for workload_id, line in existing.items():
        if line.status != ClaimLine.Status.APPROVED:
            continue
        new = wanted.get(workload_id)
        if new is None or any(getattr(new, f) != getattr(line, f) for f in _LINE_FIELDS):
            raise ClaimError(
                _("%s is approved already, so it can no longer be changed or removed.")
                % line.workload.name
            )
    for workload_id, line in existing.items():
        if workload_id in wanted or line.status == ClaimLine.Status.REMOVED:
            continue
        if line.decisions.exists():
            line.status = ClaimLine.Status.REMOVED
            line.save(update_fields=["status"])
        else:
            line.delete()
    for workload_id, new in wanted.items():
        current = existing.get(workload_id)
        if current is None:
            ClaimLine.objects.create(claim=claim, workload_id=workload_id, **_line_values(new))
            continue
        if current.status == ClaimLine.Status.APPROVED:
            continue
        for name, value in _line_values(new).items():
            setattr(current, name, value)
        if current.status == ClaimLine.Status.REMOVED:
            current.status = ClaimLine.Status.PENDING
        current.save(update_fields=[*_LINE_FIELDS, "status"])


def _line_values(line: LineInput) -> dict:
    return {name: getattr(line, name) for name in _LINE_FIELDS}


def create_claim(
    *,
    customer: Customer,
    partner: Partner,
    program: Program,
    user: User,
    data: ClaimInput,
    form_token: uuid.UUID | None = None,
) -> Claim:
    """Start a draft claim for the customer with the partner, recorded as its first event.

    `form_token` identifies the form it came from: a form submitted twice makes one claim
    (the database refuses the second; see `claims.services.save_claim`).
    """
    if not data.lines:
        raise ClaimError(_("Pick at least one service."))
    with transaction.atomic():
        claim = Claim.objects.create(
            form_token=form_token,
            reference=_next_reference(timezone.now().year),
            customer=customer,
            partner=partner,
            program=program,
            # Read afresh: the rules as they are at this moment, not as a page loaded them.
            program_rules=Program.objects.get(pk=program.pk).rules.as_snapshot(),
            created_by=user,
            survey_contact_mode=data.survey_contact_mode,
            survey_contact_name=data.survey_contact_name,
            survey_contact_email=data.survey_contact_email,
            survey_contact_phone=data.survey_contact_phone,
            public_sector_details=dict(data.public_sector_details),
        )
        held = roles_on_claim(user, claim) & CUSTOMER
        if not held:
            raise ClaimError(_("Only people of the customer organisation can start its claims."))
        _check_acts_for_customer(user, claim)
        _write_lines(claim, data)
        record_event(
            claim,
            action=A.CREATE,
            user=user,
            role=next(role for role in _ROLE_PRECEDENCE if role in held),
            to_status=S.DRAFT,
            changes=snapshot(data),
        )
    return claim


def prepare_claim(
    *,
    customer: Customer,
    partner: Partner,
    program: Program,
    user: User,
    data: ClaimInput,
    custom_sow: str,
    form_token: uuid.UUID | None = None,
) -> Claim:
    """The partner prepares a claim with its custom SOW for the customer to review and sign.

    `custom_sow` is the name of the checked document already in private storage
    (claims_portal.uploads). The claim waits for the customer's approver from the start.
    `form_token` identifies the form, as for `create_claim`: submitted twice, one claim.
    """
    if not data.lines:
        raise ClaimError(_("Pick at least one service."))
    if not custom_sow:
        raise ClaimError(_("Upload the custom SOW (a PDF)."), field="custom_sow")
    transition = TRANSITIONS[A.PREPARE]
    assert transition.target is not None
    with transaction.atomic():
        claim = Claim(
            form_token=form_token,
            customer=customer,
            partner=partner,
            program=program,
            program_rules=Program.objects.get(pk=program.pk).rules.as_snapshot(),
            created_by=user,
            survey_contact_mode=data.survey_contact_mode,
            survey_contact_name=data.survey_contact_name,
            survey_contact_email=data.survey_contact_email,
            survey_contact_phone=data.survey_contact_phone,
            public_sector_details=dict(data.public_sector_details),
            custom_sow=custom_sow,
            partner_prepared=True,
            status=transition.target,
        )
        held = roles_on_claim(user, claim) & transition.roles
        if not held:
            raise ClaimError(_("Only people of the partner can prepare its claims."))
        claim.reference = _next_reference(timezone.now().year)
        claim.save()
        _write_lines(claim, data)
        event = record_event(
            claim,
            action=A.PREPARE,
            user=user,
            role=next(role for role in _ROLE_PRECEDENCE if role in held),
            to_status=claim.status,
            changes={**snapshot(data), "custom_sow": True},
        )
        notify_parties(claim, event)
        claim_transitioned.send(sender=Claim, claim=claim, event=event)
    return claim


def update_claim(
    claim: Claim, *, user: User, data: ClaimInput, expected_version: int | None = None
) -> Claim:
    """Change the services and contacts of a claim the customer is still working on.

    `expected_version` is the version the person's form was loaded at (`last_version`):
    when someone changed the claim since, StaleClaim says who, and nothing is saved.
    """
    if not data.lines:
        raise ClaimError(_("Pick at least one service."))
    with transaction.atomic():
        claim = lock_claim(claim)
        role = _authorise(claim, user, A.EDIT)
        if expected_version is not None:
            latest = Event.objects.filter(claim=claim).order_by("-seq").first()
            if latest is not None and latest.seq != expected_version:
                raise StaleClaim(
                    _(
                        "%(who)s changed claim %(ref)s at %(when)s, after you opened it. "
                        "Your version is below, unsaved: check it against the claim and save "
                        "again."
                    )
                    % {
                        "who": latest.actor_label,
                        "ref": claim.reference,
                        "when": timezone.localtime(latest.created_at).strftime("%H:%M"),
                    }
                )
        claim.survey_contact_mode = data.survey_contact_mode
        claim.survey_contact_name = data.survey_contact_name
        claim.survey_contact_email = data.survey_contact_email
        claim.survey_contact_phone = data.survey_contact_phone
        claim.public_sector_details = dict(data.public_sector_details)
        claim.save(update_fields=[*_CLAIM_FIELDS, "updated_at"])
        _write_lines(claim, data)
        record_event(
            claim,
            action=A.EDIT,
            user=user,
            role=role,
            from_status=claim.status,
            to_status=claim.status,
            changes=snapshot(data),
        )
    return claim


def _require_complete(claim: Claim) -> None:
    missing = missing_for_submission(claim)
    if missing:
        raise ClaimError(
            _("Claim %(ref)s is not complete yet: %(missing)s")
            % {"ref": claim.reference, "missing": " ".join(missing)}
        )


# --- Transitions ----------------------------------------------------------------------


def route_to_approver(claim: Claim, *, user: User, comment: str = "") -> Claim:
    """Hand a draft to the organisation's approver to sign."""
    with transaction.atomic():
        claim = lock_claim(claim)
        role = _authorise(claim, user, A.ROUTE)
        _require_complete(claim)
        _move(
            claim,
            action=A.ROUTE,
            user=user,
            role=role,
            to_status=S.AWAITING_CUSTOMER_APPROVAL,
            comment=comment,
        )
    return claim


def _sign(
    claim: Claim, *, action: ClaimAction | None, user: User, signed_name: str, attested: bool
) -> Claim:
    signed_name = signed_name.strip()
    if not attested:
        raise ClaimError(_("Confirm that you may sign for your organisation."), field="attest")
    if not signed_name:
        raise ClaimError(_("Type your full name to sign."), field="signed_name")
    with transaction.atomic():
        claim = lock_claim(claim)
        if action is None:
            # Decided on the claim as it is now, under its lock.
            returned = claim.status == S.RETURNED_TO_CUSTOMER
            action = A.RESUBMIT if returned else A.SIGN
        role = _authorise(claim, user, action)
        _require_complete(claim)
        # What the check before signing says now, under the lock, is what is being signed.
        check = checks.dry_run(claim)
        now = timezone.now()
        claim.signed_by = user
        claim.signed_name = signed_name
        claim.signed_at = now
        claim.submitted_at = now
        claim.signing_check = check.as_dict() if check is not None else {}
        changes: dict[str, object] = {
            "signed_name": signed_name,
            "signed_by": user.email or user.get_username(),
        }
        if check is not None:
            changes["check"] = {
                "passes": [line.workload for line in check.lines if line.passed],
                "to_review": {line.workload: list(line.codes) for line in check.to_review},
            }
        _move(
            claim,
            action=action,
            user=user,
            role=role,
            to_status=S.AWAITING_PARTNER,
            changes=changes,
            extra_fields=["signed_by", "signed_name", "signed_at", "submitted_at", "signing_check"],
        )
    return claim


def sign_and_submit(claim: Claim, *, user: User, signed_name: str, attested: bool) -> Claim:
    """The customer approver signs the claim and submits it to the partner."""
    return _sign(claim, action=A.SIGN, user=user, signed_name=signed_name, attested=attested)


def resubmit(claim: Claim, *, user: User, signed_name: str, attested: bool) -> Claim:
    """The approver signs again and resubmits a claim that was returned for corrections."""
    return _sign(claim, action=A.RESUBMIT, user=user, signed_name=signed_name, attested=attested)


def submit(claim: Claim, *, user: User, signed_name: str, attested: bool) -> Claim:
    """The approver signs: a first submission, or a resubmission after a return."""
    return _sign(claim, action=None, user=user, signed_name=signed_name, attested=attested)


def confirm_claim(claim: Claim, *, user: User, comment: str = "") -> Claim:
    """The partner confirms; the rule check runs in a worker once this commits."""
    with transaction.atomic():
        claim = lock_claim(claim)
        role = _authorise(claim, user, A.CONFIRM)
        _move(
            claim, action=A.CONFIRM, user=user, role=role, to_status=S.EVALUATING, comment=comment
        )
    return claim


def _require_comment(comment: str) -> str:
    comment = comment.strip()
    if not comment:
        raise ClaimError(
            _("Say what needs correcting, so the customer knows what to change."), field="comment"
        )
    return comment


def return_to_customer(claim: Claim, *, user: User, comment: str) -> Claim:
    """The partner returns the claim to the customer for corrections."""
    comment = _require_comment(comment)
    with transaction.atomic():
        claim = lock_claim(claim)
        role = _authorise(claim, user, A.RETURN)
        _move(
            claim,
            action=A.RETURN,
            user=user,
            role=role,
            to_status=S.RETURNED_TO_CUSTOMER,
            comment=comment,
        )
    return claim


def return_from_review(claim: Claim, *, user: User, comment: str) -> Claim:
    """The claims team returns a queued claim to the customer for corrections."""
    comment = _require_comment(comment)
    with transaction.atomic():
        claim = lock_claim(claim)
        role = _authorise(claim, user, A.REVIEW_RETURN)
        # Lines already approved keep their approval and association; only the
        # exceptions go back to the customer.
        claim.lines.filter(status=ClaimLine.Status.IN_REVIEW).update(
            status=ClaimLine.Status.PENDING
        )
        _move(
            claim,
            action=A.REVIEW_RETURN,
            user=user,
            role=role,
            to_status=S.RETURNED_TO_CUSTOMER,
            comment=comment,
        )
    return claim


def return_to_partner(claim: Claim, *, user: User, comment: str) -> Claim:
    """The claims team sends a queued claim back to the partner (to confirm it again).

    The team's clock stops while the partner (or, should the partner return it, the
    customer) has the claim, and resumes when it is back in the queue.
    """
    comment = comment.strip()
    if not comment:
        raise ClaimError(
            _("Say what the partner needs to do, so they know what to change."), field="comment"
        )
    with transaction.atomic():
        claim = lock_claim(claim)
        role = _authorise(claim, user, A.REVIEW_RETURN_PARTNER)
        claim.lines.filter(status=ClaimLine.Status.IN_REVIEW).update(
            status=ClaimLine.Status.PENDING
        )
        _move(
            claim,
            action=A.REVIEW_RETURN_PARTNER,
            user=user,
            role=role,
            to_status=S.AWAITING_PARTNER,
            comment=comment,
        )
    return claim


def note_assignment(
    claim: Claim,
    *,
    user: User | None,
    assignee: User | None,
    previous: User | None,
    rule: str = "",
) -> Event:
    """Record that the claim's queue item changed hands; the caller holds `lock_claim`.

    `user` None is the automatic assignment (`rule` names the rule that chose).
    The new assignee hears of it, unless they took it themselves.
    """
    role = _authorise(claim, user, A.ASSIGN)
    changes: dict[str, str] = {
        "assignee": _person(assignee),
        "previous": _person(previous),
    }
    if rule:
        changes["rule"] = rule
    event = record_event(
        claim,
        action=A.ASSIGN,
        user=user,
        role=role,
        from_status=claim.status,
        to_status=claim.status,
        changes=changes,
    )
    if assignee is not None and assignee != user:
        notify_parties(claim, event, recipients=[assignee.pk])
    return event


def note_deadline(
    claim: Claim, *, action: ClaimAction, recipients: Iterable[int], changes: dict
) -> Event:
    """Record a reminder or an escalation (beat, as the system); the caller holds the lock."""
    assert action in (A.REMIND, A.ESCALATE)
    role = _authorise(claim, None, action)
    event = record_event(
        claim,
        action=action,
        user=None,
        role=role,
        from_status=claim.status,
        to_status=claim.status,
        changes=changes,
    )
    notify_parties(claim, event, recipients=recipients)
    return event


def _person(user: User | None) -> str:
    return (user.email or user.get_username()) if user is not None else ""


def withdraw(claim: Claim, *, user: User, comment: str = "") -> Claim:
    """The customer or the partner withdraws every service of the claim not yet decided.

    Decisions are per line, and a claim may be withdrawn only before a decision: a service
    already approved is decided, so it stands with its association, and a claim that has one
    ends partially approved instead of withdrawn. A withdrawn claim never leaves a partner
    of record behind.
    """
    with transaction.atomic():
        claim = lock_claim(claim)
        role = _authorise(claim, user, A.WITHDRAW)
        lines = _live_lines(claim)
        undecided = [line for line in lines if line.status != ClaimLine.Status.APPROVED]
        _set_line_status(undecided, ClaimLine.Status.WITHDRAWN)
        if len(undecided) < len(lines):
            to_status = S.PARTIALLY_APPROVED
            changes: dict | None = {"lines": {line.workload.code: line.status for line in lines}}
        else:
            to_status, changes = S.WITHDRAWN, None
        _move(
            claim,
            action=A.WITHDRAW,
            user=user,
            role=role,
            to_status=to_status,
            comment=comment,
            changes=changes,
        )
    return claim


def has_approved_lines(claim: Claim) -> bool:
    """Whether a service of the claim is approved already (withdrawing would leave it)."""
    return any(line.status == ClaimLine.Status.APPROVED for line in claim.lines.all())


def _set_line_status(lines: Sequence[ClaimLine], status: str) -> None:
    if not lines:
        return
    ClaimLine.objects.filter(pk__in=[line.pk for line in lines]).update(status=status)
    for line in lines:
        line.status = status


def _grant(claim: Claim, lines: Sequence[ClaimLine]) -> None:
    grant_associations(
        customer_id=claim.customer_id,
        workload_ids=[line.workload_id for line in lines],
        partner_id=claim.partner_id,
        source_claim=claim,
    )


def _live_lines(claim: Claim) -> list[ClaimLine]:
    return list(claim.lines.exclude(status=ClaimLine.Status.REMOVED).select_related("workload"))


def _final_status(lines: Iterable[ClaimLine]) -> str:
    statuses = {line.status for line in lines}
    if statuses == {ClaimLine.Status.APPROVED}:
        return S.APPROVED
    if ClaimLine.Status.APPROVED in statuses:
        return S.PARTIALLY_APPROVED
    return S.REJECTED


def lines_to_evaluate(claim: Claim) -> list[ClaimLine]:
    """The lines a rule check looks at: all but those the customer removed."""
    return _live_lines(claim)


def record_evaluation(
    claim: Claim,
    *,
    passed: Mapping[int, bool],
    lines: Sequence[ClaimLine] | None = None,
    rule_set: str = "",
) -> Claim:
    """Record the rule check of a claim locked with `lock_claim` and found `evaluating`.

    `passed` maps each line id to whether every rule passed. Passing lines are approved
    at once and their associations granted; the rest go to review. A line approved in an
    earlier round (before a return) stays approved. `lines` are the claim's live lines when
    the caller has them already; `rule_set` is recorded in the history.
    """
    role = _authorise(claim, None, A.EVALUATE)
    lines = list(lines) if lines is not None else _live_lines(claim)
    undecided = [line for line in lines if line.status != ClaimLine.Status.APPROVED]
    approved = [line for line in undecided if passed.get(line.pk)]
    _set_line_status(approved, ClaimLine.Status.APPROVED)
    _set_line_status(
        [line for line in undecided if not passed.get(line.pk)], ClaimLine.Status.IN_REVIEW
    )
    _grant(claim, approved)
    to_status = (
        S.APPROVED
        if all(line.status == ClaimLine.Status.APPROVED for line in lines)
        else S.IN_REVIEW
    )
    changes: dict = {"lines": {line.workload.code: str(line.status) for line in lines}}
    if rule_set:
        changes["rule_set"] = rule_set
    _move(
        claim,
        action=A.EVALUATE,
        user=None,
        role=role,
        to_status=to_status,
        changes=changes,
    )
    return claim


def decide(
    claim: Claim,
    *,
    user: User,
    line_approvals: Mapping[int, bool],
    comment: str = "",
    line_reasons: Mapping[int, str] | None = None,
) -> Claim:
    """The claims team approves or rejects each line in review; any rejection needs a reason.

    The reason of a rejected line is its entry in `line_reasons` or else the comment.
    """
    comment = comment.strip()
    line_reasons = {pk: text.strip() for pk, text in (line_reasons or {}).items() if text.strip()}
    with transaction.atomic():
        claim = lock_claim(claim)
        role = _authorise(claim, user, A.DECIDE)
        lines = _live_lines(claim)
        pending = [line for line in lines if line.status == ClaimLine.Status.IN_REVIEW]
        missing = [line.workload.name for line in pending if line.pk not in line_approvals]
        if missing:
            raise ClaimError(
                _("Decide every service in review (missing: %s).") % ", ".join(missing)
            )
        unexplained = [
            line
            for line in pending
            if not line_approvals[line.pk] and line.pk not in line_reasons and not comment
        ]
        if unexplained:
            raise ClaimError(_("Give the reason for rejecting, for both parties."), field="comment")
        approved = [line for line in pending if line_approvals[line.pk]]
        _set_line_status(approved, ClaimLine.Status.APPROVED)
        _set_line_status(
            [line for line in pending if not line_approvals[line.pk]], ClaimLine.Status.REJECTED
        )
        _grant(claim, approved)
        results = {line.workload.code: str(line.status) for line in pending}
        reasons = {
            line.workload.code: line_reasons[line.pk]
            for line in pending
            if not line_approvals[line.pk] and line.pk in line_reasons
        }
        changes: dict = {"lines": results}
        if reasons:
            changes["reasons"] = reasons
        _move(
            claim,
            action=A.DECIDE,
            user=user,
            role=role,
            to_status=_final_status(lines),
            comment=comment,
            changes=changes,
        )
    return claim
