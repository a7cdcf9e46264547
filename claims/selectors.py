"""Reads of claims, already scoped to the person asking (their `Roles`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404

from claims.filters import (
    ClaimsTeamClaimFilterSet,
    CustomerClaimFilterSet,
    PartnerClaimFilterSet,
)
from claims.models import Claim, ClaimLine, Event
from claims_portal.roles import Roles

# A partner never sees a customer's drafts before they are submitted to it.
_NOT_YET_THE_PARTNERS = (Claim.Status.DRAFT, Claim.Status.AWAITING_CUSTOMER_APPROVAL)


def _with_list_data(qs: QuerySet[Claim]) -> QuerySet[Claim]:
    # A correlated count, evaluated only for the rows of the page being shown, where a
    # JOIN + GROUP BY would aggregate every claim of the list before the LIMIT.
    line_count = (
        ClaimLine.objects.filter(claim=OuterRef("pk"))
        .exclude(status=ClaimLine.Status.REMOVED)
        .order_by()
        .values("claim")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.select_related("partner", "customer", "program").annotate(
        line_count=Subquery(line_count)
    )


def claims_for_customer(roles: Roles) -> QuerySet[Claim]:
    if roles.customer_membership is None:
        return Claim.objects.none()
    return _with_list_data(Claim.objects.filter(customer_id=roles.customer_membership.customer_id))


def _partner_claims(roles: Roles) -> QuerySet[Claim]:
    if roles.partner_membership is None:
        return Claim.objects.none()
    return Claim.objects.filter(partner_id=roles.partner_membership.partner_id).exclude(
        status__in=_NOT_YET_THE_PARTNERS
    )


def claims_for_partner(roles: Roles) -> QuerySet[Claim]:
    return _with_list_data(_partner_claims(roles))


def partner_status_counts(roles: Roles) -> dict[str, int]:
    """How many of the partner's claims are in each status, in one query."""
    rows = _partner_claims(roles).order_by().values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def claims_for_claims_team(roles: Roles) -> QuerySet[Claim]:
    if not roles.is_claims_team:
        return Claim.objects.none()
    return _with_list_data(Claim.objects.all())


def customer_claim_list(roles: Roles, *, filters: Mapping[str, Any]) -> CustomerClaimFilterSet:
    return CustomerClaimFilterSet(filters, queryset=claims_for_customer(roles))


def partner_claim_list(roles: Roles, *, filters: Mapping[str, Any]) -> PartnerClaimFilterSet:
    return PartnerClaimFilterSet(filters, queryset=claims_for_partner(roles))


def claims_team_claim_list(roles: Roles, *, filters: Mapping[str, Any]) -> ClaimsTeamClaimFilterSet:
    return ClaimsTeamClaimFilterSet(filters, queryset=claims_for_claims_team(roles))


def _detail(qs: QuerySet[Claim], reference: str) -> Claim:
    lines = ClaimLine.objects.select_related("workload").prefetch_related("decisions")
    events = Event.objects.select_related("actor")
    claim = (
        qs.prefetch_related(Prefetch("lines", queryset=lines), Prefetch("events", queryset=events))
        .filter(reference=reference)
        .first()
    )
    if claim is None:
        raise Http404("No such claim")
    return claim


def get_claim_for_customer(roles: Roles, reference: str) -> Claim:
    return _detail(claims_for_customer(roles), reference)


def get_claim_for_partner(roles: Roles, reference: str) -> Claim:
    return _detail(claims_for_partner(roles), reference)


def get_claim_for_claims_team(roles: Roles, reference: str) -> Claim:
    return _detail(claims_for_claims_team(roles), reference)
