"""Changes to customer organisations and to who is partner of record for what."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from claims_portal.audit import log_action
from customers.models import Association, Customer, CustomerMembership


def register_customer(
    *, user: User, name: str, tenant_id: str, segment: str, seats: int
) -> Customer:
    """Create the customer organisation; the person naming it becomes its approver."""
    with transaction.atomic():
        customer = Customer.objects.create(
            name=name, tenant_id=tenant_id, segment=segment, seats=seats
        )
        membership = CustomerMembership.objects.create(
            user=user, customer=customer, role=CustomerMembership.Role.APPROVER
        )
        log_action(
            customer,
            "customers.customer.registered",
            user=user,
            data={"tenant_id": tenant_id, "approver": membership.user.email},
        )
    return customer


def grant_association(
    *, customer_id: int, workload_id: int, partner_id: int, source_claim: Any
) -> Association:
    """Make the partner partner of record for the customer's workload, from today.

    The caller holds the customer's row lock. A claims-team approval may move a
    workload from another partner; the old association ends today.
    """
    today = timezone.localdate()
    current = (
        Association.objects.filter(customer_id=customer_id, workload_id=workload_id, ended_on=None)
        .select_for_update()
        .first()
    )
    if current is not None:
        if current.partner_id == partner_id:
            return current
        current.ended_on = today
        current.save(update_fields=["ended_on"])
    return Association.objects.create(
        customer_id=customer_id,
        workload_id=workload_id,
        partner_id=partner_id,
        since=today,
        source_claim=source_claim,
    )
