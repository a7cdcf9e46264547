"""Who a signed-in person is in the portal: memberships and the claims team."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from customers.models import Customer, CustomerMembership
    from partners.models import Partner, PartnerMembership

CLAIMS_REVIEWER_GROUP = "claims_reviewer"
CLAIMS_LEAD_GROUP = "claims_lead"


@dataclass(frozen=True)
class Roles:
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


_NOBODY = Roles(None, None, False, False, False)


def roles_for(user) -> Roles:
    """The roles of a user, computed once per request and cached on the user object."""
    if user is None or not user.is_authenticated:
        return _NOBODY
    cached = getattr(user, "_portal_roles", None)
    if cached is not None:
        return cached
    from customers.models import CustomerMembership
    from partners.models import PartnerMembership

    customer_membership = (
        CustomerMembership.objects.select_related("customer").filter(user=user).first()
    )
    partner_membership = (
        PartnerMembership.objects.select_related("partner").filter(user=user).first()
    )
    group_names = set(user.groups.values_list("name", flat=True))
    roles = Roles(
        customer_membership=customer_membership,
        partner_membership=partner_membership,
        is_claims_team=bool(group_names & {CLAIMS_REVIEWER_GROUP, CLAIMS_LEAD_GROUP}),
        is_claims_lead=CLAIMS_LEAD_GROUP in group_names,
        is_staff=user.is_staff,
    )
    user._portal_roles = roles
    return roles
