"""What a customer does with the claim form, each as one service over the life cycle."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from claims import lifecycle
from claims.lifecycle import ClaimError, ClaimInput
from claims.models import Claim, ClaimRole
from claims_portal.roles import Roles
from customers.models import Customer
from customers.services import OrganisationError, register_customer
from partners.models import Partner, Program


class Intent(StrEnum):
    """The button the customer pressed under the claim form."""

    SAVE = "save"
    # Save, then open the claim's page: the check before signing, and the signature.
    REVIEW = "review"
    ROUTE = "route"
    SIGN = "sign"

    @property
    def needs_complete_claim(self) -> bool:
        return self in (Intent.REVIEW, Intent.ROUTE, Intent.SIGN)


class AlreadySaved(ClaimError):
    """The same claim form was submitted again (a double click): its claim exists."""

    def __init__(self, claim: Claim) -> None:
        super().__init__(_("Claim %s was saved already.") % claim.reference)
        self.claim = claim


@dataclass(frozen=True)
class Signature:
    name: str
    attested: bool


@dataclass(frozen=True)
class OrganisationInput:
    name: str
    tenant_id: str
    segment: str
    seats: int
    domains: tuple[str, ...] = ()


def role_for_new_claim(roles: Roles) -> ClaimRole:
    """The role someone would hold on a claim they start now.

    The first person of an organisation registers it and becomes its approver.
    """
    if roles.customer_membership is None or roles.is_customer_approver:
        return ClaimRole.APPROVER
    return ClaimRole.CONTRIBUTOR


def start_claim(
    *,
    user: User,
    partner: Partner,
    program: Program,
    data: ClaimInput,
    customer: Customer | None = None,
    organisation: OrganisationInput | None = None,
    form_token: uuid.UUID | None = None,
) -> Claim:
    """A new draft; registers the person's organisation first when they name one."""
    with transaction.atomic():
        if organisation is not None:
            try:
                customer = register_customer(
                    user=user,
                    name=organisation.name,
                    tenant_id=organisation.tenant_id,
                    segment=organisation.segment,
                    seats=organisation.seats,
                    domains=organisation.domains,
                )
            except OrganisationError as exc:
                raise ClaimError(str(exc), field=f"org-{exc.field}" if exc.field else None) from exc
        if customer is None:
            raise ClaimError(_("Name your organisation first."))
        return lifecycle.create_claim(
            customer=customer,
            partner=partner,
            program=program,
            user=user,
            data=data,
            form_token=form_token,
        )


def submit_claim(claim: Claim, *, user: User, signature: Signature) -> Claim:
    """The approver signs: a first submission, or a resubmission after a return."""
    return lifecycle.submit(
        claim, user=user, signed_name=signature.name, attested=signature.attested
    )


def _claim_of_form(form_token: uuid.UUID, user: User) -> Claim | None:
    return Claim.objects.filter(form_token=form_token, created_by=user).first()


def save_claim(
    *,
    user: User,
    partner: Partner,
    program: Program,
    data: ClaimInput,
    intent: Intent,
    claim: Claim | None = None,
    customer: Customer | None = None,
    organisation: OrganisationInput | None = None,
    signature: Signature | None = None,
    form_token: uuid.UUID | None = None,
    expected_version: int | None = None,
    message: str = "",
) -> Claim:
    """Save the claim form and do what its button asked, all or nothing.

    A new claim's form carries `form_token`: submitted twice (a double click, a reload),
    the second finds the first's claim and raises AlreadySaved; it never makes two.
    An edit carries `expected_version`, so a change by someone else is never overwritten.
    """
    used = ClaimError(
        _("This form was sent already by someone else. Check what you typed and save again.")
    )
    if claim is None and form_token is not None:
        existing = _claim_of_form(form_token, user)
        if existing is not None:
            raise AlreadySaved(existing)
        if Claim.objects.filter(form_token=form_token).exists():
            raise used
    with transaction.atomic():
        if claim is None:
            try:
                with transaction.atomic():
                    claim = start_claim(
                        user=user,
                        partner=partner,
                        program=program,
                        data=data,
                        customer=customer,
                        organisation=organisation,
                        form_token=form_token,
                    )
            except IntegrityError:
                # The same form's first submit committed while this one waited on it.
                if form_token is None or not Claim.objects.filter(form_token=form_token).exists():
                    raise
                existing = _claim_of_form(form_token, user)
                if existing is None:
                    raise used from None
                raise AlreadySaved(existing) from None
        else:
            claim = lifecycle.update_claim(
                claim, user=user, data=data, expected_version=expected_version
            )
        if intent == Intent.ROUTE:
            claim = lifecycle.route_to_approver(claim, user=user, comment=message.strip())
        elif intent == Intent.SIGN:
            if signature is None:
                raise ClaimError(_("Type your full name to sign."), field="signed_name")
            claim = submit_claim(claim, user=user, signature=signature)
    return claim
