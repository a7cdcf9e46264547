from __future__ import annotations

from django.db import transaction

from customers.models import Customer, CustomerMembership


def register_customer(*, user, name: str, tenant_id: str, segment: str, seats: int) -> Customer:
    """Create the customer organisation; the person naming it becomes its approver."""
    with transaction.atomic():
        customer = Customer.objects.create(
            name=name, tenant_id=tenant_id, segment=segment, seats=seats
        )
        CustomerMembership.objects.create(
            user=user, customer=customer, role=CustomerMembership.Role.APPROVER
        )
    # The cached roles predate the membership.
    if hasattr(user, "_portal_roles"):
        del user._portal_roles
    return customer
