"""Reads of claims, already scoped to the person asking (their `Roles`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from claims.filters import (
    ClaimsTeamClaimFilterSet,
    CustomerClaimFilterSet,
    PartnerClaimFilterSet,
)
from claims.models import Claim, ClaimLine, Event
from claims_portal.roles import Roles
from partners.models import Program, Workload

# A partner never sees a customer's drafts before they are submitted to it; a claim that
# waits for the customer's approver is the partner's only when the partner prepared it.
_NOT_YET_THE_PARTNERS = (Claim.Status.DRAFT, Claim.Status.AWAITING_CUSTOMER_APPROVAL)
_COUNTED_AGAINST_LIMIT = (Claim.Status.APPROVED, Claim.Status.PARTIALLY_APPROVED)


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
    return Claim.objects.filter(partner_id=roles.partner_membership.partner_id).filter(
        ~Q(status__in=_NOT_YET_THE_PARTNERS) | Q(partner_prepared=True)
    )


def claims_for_partner(roles: Roles) -> QuerySet[Claim]:
    return _with_list_data(_partner_claims(roles))


def partner_status_counts(roles: Roles) -> dict[str, int]:
    """How many of the partner's claims are in each status, in one query."""
    rows = _partner_claims(roles).order_by().values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


@dataclass(frozen=True)
class ProgramUsage:
    """How much of a program's claim limit the partner has used (approved claims)."""

    program: Program
    limit: int | None
    used: int

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0
        return min(100, round(100 * self.used / self.limit))

    @property
    def reached(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def partner_program_usage(roles: Roles) -> list[ProgramUsage]:
    """The partner's current programs, each with its claim limit and the claims counted."""
    partner = roles.partner
    if partner is None:
        return []
    today = timezone.localdate()
    programs = list(
        Program.objects.filter(
            catalogs__partner=partner, start_date__lte=today, end_date__gte=today
        ).order_by("-start_date", "name")
    )
    used = dict(
        Claim.objects.filter(
            partner=partner,
            program__in=programs,
            status__in=_COUNTED_AGAINST_LIMIT,
        )
        .order_by()
        .values_list("program_id")
        .annotate(n=Count("pk"))
    )
    return [
        ProgramUsage(program, program.claim_limit_per_partner, used.get(program.pk, 0))
        for program in programs
    ]


def claims_for_claims_team(roles: Roles) -> QuerySet[Claim]:
    if not roles.is_claims_team:
        return Claim.objects.none()
    return _with_list_data(Claim.objects.all())


def customer_claim_list(roles: Roles, *, filters: Mapping[str, Any]) -> CustomerClaimFilterSet:
    return CustomerClaimFilterSet(filters, queryset=claims_for_customer(roles))


def partner_claim_list(roles: Roles, *, filters: Mapping[str, Any]) -> PartnerClaimFilterSet:
    filterset = PartnerClaimFilterSet(filters, queryset=claims_for_partner(roles))
    # Only the programs the partner takes part in, and their services, are offered.
    programs = Program.objects.none()
    if roles.partner_membership is not None:
        programs = Program.objects.filter(catalogs__partner_id=roles.partner_membership.partner_id)
    filterset.filters["program"].queryset = programs.order_by("-start_date", "name")
    filterset.filters["workload"].queryset = (
        Workload.objects.filter(programs__in=programs).distinct().order_by("name")
    )
    return filterset


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
