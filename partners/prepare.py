"""A partner prepares a claim with a custom SOW for a customer, and gets its invite link."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from claims import lifecycle
from claims.lifecycle import ClaimError, ClaimInput
from claims.models import Claim
from claims.services import AlreadySaved
from claims_portal.audit import log_action
from claims_portal.uploads import private_storage, sow_upload_to
from customers.models import Customer
from partners import invites
from partners.models import ClaimInvite, Partner, Program


@dataclass(frozen=True)
class OrganisationInput:
    """The customer as the partner names it: its tenant id, and for a new one name and domain."""

    tenant_id: str
    name: str
    domain: str


def customer_for(organisation: OrganisationInput, *, user: User, partner: Partner) -> Customer:
    """The organisation with this tenant id, created (with no members yet) if it is new.

    An organisation the portal knows is used as it is: what the partner typed about it
    changes nothing, and the partner learns nothing about it beyond its own claim.
    """
    customer, created = Customer.objects.get_or_create(
        tenant_id__iexact=organisation.tenant_id,
        defaults={
            "tenant_id": organisation.tenant_id,
            "name": organisation.name,
            "verified_domains": organisation.domain,
        },
    )
    if created:
        log_action(
            customer,
            "customers.customer.named_by_partner",
            user=user,
            data={
                "partner": partner.slug,
                "tenant_id": customer.tenant_id,
                "domain": organisation.domain,
            },
        )
    return customer


def prepare_for_customer(
    *,
    partner: Partner,
    program: Program,
    user: User,
    organisation: OrganisationInput,
    data: ClaimInput,
    custom_sow: File,
    email: str = "",
    form_token: uuid.UUID | None = None,
) -> tuple[Claim, ClaimInvite]:
    """Create the claim (awaiting the customer's approver) and its first invite link.

    The SOW was checked by content in the form; it is written to private storage before
    the transaction and removed again if the claim is not created. The same form sent
    twice (a double click) raises AlreadySaved with the claim the first one made.
    """
    if form_token is not None:
        _already_prepared(form_token, user)
    name = private_storage().save(sow_upload_to(None, ""), custom_sow)
    try:
        with transaction.atomic():
            customer = customer_for(organisation, user=user, partner=partner)
            claim = lifecycle.prepare_claim(
                customer=customer,
                partner=partner,
                program=program,
                user=user,
                data=data,
                custom_sow=name,
                form_token=form_token,
            )
            invite = invites.issue_invite(claim, user=user)
            if email:
                invite = invites.send_invite(claim, user=user, email=email)
    except IntegrityError:
        private_storage().delete(name)
        # The same form's first submit committed while this one waited on it.
        if form_token is not None:
            _already_prepared(form_token, user)
        raise
    except Exception:
        private_storage().delete(name)
        raise
    return claim, invite


def _already_prepared(form_token: uuid.UUID, user: User) -> None:
    existing = Claim.objects.filter(form_token=form_token).first()
    if existing is None:
        return
    if existing.created_by_id != user.pk:
        raise ClaimError(_("This form was sent already by someone else; fill it in again."))
    raise AlreadySaved(existing)
