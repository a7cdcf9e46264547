"""Who a signed-in person is in the portal: memberships and the claims team.

Computed once per request by `PortalRolesMiddleware` (`request.roles`); services that
act for a user ask `roles_for(user)` afresh, so a membership created a moment ago counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from customers.models import Customer, CustomerMembership
from partners.models import Partner, PartnerMembership

CLAIMS_REVIEWER_GROUP = "claims_reviewer"
CLAIMS_LEAD_GROUP = "claims_lead"
CLAIMS_TEAM_GROUPS = (CLAIMS_REVIEWER_GROUP, CLAIMS_LEAD_GROUP)


class PortalRole(StrEnum):
    """The roles of SPEC "People", as one vocabulary for code, templates and tests."""

    CUSTOMER_CONTRIBUTOR = "customer_contributor"
    CUSTOMER_APPROVER = "customer_approver"
    PARTNER_MEMBER = "partner_member"
    PARTNER_ADMIN = "partner_admin"
    CLAIMS_REVIEWER = "claims_reviewer"
    CLAIMS_LEAD = "claims_lead"
    ADMINISTRATOR = "administrator"


@dataclass(frozen=True)
class Roles:
    user: Any
    customer_membership: CustomerMembership | None
    partner_membership: PartnerMembership | None
    is_claims_team: bool
    is_claims_lead: bool
    is_staff: bool

    @property
    def customer(self) -> Customer | None:
        return self.customer_membership.customer if self.customer_membership else None

    @property
    def partner(self) -> Partner | None:
        return self.partner_membership.partner if self.partner_membership else None

    @property
    def is_customer(self) -> bool:
        return self.customer_membership is not None

    @property
    def is_customer_approver(self) -> bool:
        return bool(self.customer_membership and self.customer_membership.is_approver)

    @property
    def is_partner(self) -> bool:
        return self.partner_membership is not None

    @property
    def is_partner_admin(self) -> bool:
        return bool(self.partner_membership and self.partner_membership.is_admin)

    @property
    def held(self) -> frozenset[PortalRole]:
        held: set[PortalRole] = set()
        if self.customer_membership is not None:
            held.add(
                PortalRole.CUSTOMER_APPROVER
                if self.is_customer_approver
                else PortalRole.CUSTOMER_CONTRIBUTOR
            )
        if self.partner_membership is not None:
            held.add(
                PortalRole.PARTNER_ADMIN if self.is_partner_admin else PortalRole.PARTNER_MEMBER
            )
        if self.is_claims_team:
            held.add(PortalRole.CLAIMS_LEAD if self.is_claims_lead else PortalRole.CLAIMS_REVIEWER)
        if self.is_staff:
            held.add(PortalRole.ADMINISTRATOR)
        return frozenset(held)


NOBODY = Roles(None, None, None, False, False, False)


def roles_for(user: Any) -> Roles:
    """The roles of a user, read from the database now."""
    if user is None or not user.is_authenticated:
        return NOBODY
    customer_membership = (
        CustomerMembership.objects.select_related("customer").filter(user=user).first()
    )
    partner_membership = (
        PartnerMembership.objects.select_related("partner").filter(user=user).first()
    )
    group_names = set(user.groups.values_list("name", flat=True))
    return Roles(
        user=user,
        customer_membership=customer_membership,
        partner_membership=partner_membership,
        is_claims_team=bool(group_names & set(CLAIMS_TEAM_GROUPS)),
        is_claims_lead=CLAIMS_LEAD_GROUP in group_names,
        is_staff=user.is_staff,
    )
