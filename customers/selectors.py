"""Reads of an organisation's members, invitations and associations, scoped to the asker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from claims_portal.audit import history
from claims_portal.models import AuditEntry
from claims_portal.roles import Roles
from customers.filters import AssociationFilterSet
from customers.models import Association, Customer, CustomerMembership, Invitation


def _customer(roles: Roles) -> Customer | None:
    return roles.customer


def members(roles: Roles) -> QuerySet[CustomerMembership]:
    customer = _customer(roles)
    if customer is None:
        return CustomerMembership.objects.none()
    return (
        CustomerMembership.objects.filter(customer=customer)
        .select_related("user")
        .order_by("-role", "user__email")
    )


def open_invitations(roles: Roles) -> QuerySet[Invitation]:
    customer = _customer(roles)
    if customer is None:
        return Invitation.objects.none()
    return (
        Invitation.objects.filter(customer=customer, accepted_at=None, revoked_at=None)
        .select_related("invited_by")
        .order_by("email")
    )


def get_member(roles: Roles, member_id: Any) -> CustomerMembership:
    """A member of the asker's organisation; anyone else's (or nonsense) is a 404."""
    try:
        pk = int(member_id)
    except (TypeError, ValueError) as exc:
        raise Http404("No such member") from exc
    membership = members(roles).filter(pk=pk).first()
    if membership is None:
        raise Http404("No such member")
    return membership


def get_open_invitation(roles: Roles, invitation_id: Any) -> Invitation:
    try:
        pk = int(invitation_id)
    except (TypeError, ValueError) as exc:
        raise Http404("No such invitation") from exc
    invitation = open_invitations(roles).select_related("customer").filter(pk=pk).first()
    if invitation is None:
        raise Http404("No such invitation")
    return invitation


def membership_history(roles: Roles, *, limit: int = 20) -> list[AuditEntry]:
    """The latest changes of who belongs to the organisation, newest first."""
    customer = _customer(roles)
    if customer is None:
        return []
    entries = history(customer).filter(
        action__regex=r"^customers\.(membership|invitation|customer)\."
    )
    return list(entries.order_by("-seq")[:limit])


def is_expired(invitation: Invitation) -> bool:
    return invitation.expires_at <= timezone.now()


def associations(roles: Roles) -> QuerySet[Association]:
    customer = _customer(roles)
    if customer is None:
        return Association.objects.none()
    return Association.objects.filter(customer=customer, ended_on=None).select_related(
        "workload", "partner", "source_claim"
    )


def association_list(roles: Roles, *, filters: Mapping[str, Any]) -> AssociationFilterSet:
    return AssociationFilterSet(filters, queryset=associations(roles))


def current_associations(customer_id: int) -> list[Association]:
    """Who holds which of the organisation's workloads today (shown before signing)."""
    return list(
        Association.objects.filter(customer_id=customer_id, ended_on=None)
        .select_related("workload", "partner")
        .order_by("workload__name")
    )
