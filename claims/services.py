"""What a customer does with the claim form, each as one service over the life cycle."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import User
from django.db import transaction
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
    ROUTE = "route"
    SIGN = "sign"


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
            customer=customer, partner=partner, program=program, user=user, data=data
        )


def submit_claim(claim: Claim, *, user: User, signature: Signature) -> Claim:
    """The approver signs: a first submission, or a resubmission after a return."""
    return lifecycle.submit(
        claim, user=user, signed_name=signature.name, attested=signature.attested
    )


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
) -> Claim:
    """Save the claim form and do what its button asked, all or nothing."""
    with transaction.atomic():
        if claim is None:
            claim = start_claim(
                user=user,
                partner=partner,
                program=program,
                data=data,
                customer=customer,
                organisation=organisation,
            )
        else:
            claim = lifecycle.update_claim(claim, user=user, data=data)
        if intent == Intent.ROUTE:
            claim = lifecycle.route_to_approver(claim, user=user)
        elif intent == Intent.SIGN:
            if signature is None:
                raise ClaimError(_("Type your full name to sign."), field="signed_name")
            claim = submit_claim(claim, user=user, signature=signature)
    return claim
