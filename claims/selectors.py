"""Reads of claims, already scoped to the person asking (their `Roles`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
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


@dataclass(frozen=True)
class PartnerOverview:
    """The top of the partner's dashboard: claims per status, the claim limit of each
    current program and how much of it is used."""

    counts: dict[str, int]
    usage: list[ProgramUsage]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def partner_overview(roles: Roles) -> PartnerOverview:
    """Counts by status and by program in one index-only pass over the partner's claims."""
    partner = roles.partner
    if partner is None:
        return PartnerOverview({}, [])
    rows = (
        _partner_claims(roles)
        .order_by()
        .values_list("status", "program_id")
        .annotate(n=Count("pk"))
    )
    counts: dict[str, int] = {}
    used: dict[int, int] = {}
    for status, program_id, n in rows:
        counts[status] = counts.get(status, 0) + n
        if status in _COUNTED_AGAINST_LIMIT:
            used[program_id] = used.get(program_id, 0) + n
    today = timezone.localdate()
    programs = Program.objects.filter(
        catalogs__partner=partner, start_date__lte=today, end_date__gte=today
    ).order_by("-start_date", "name")
    usage = [
        ProgramUsage(program, program.claim_limit_per_partner, used.get(program.pk, 0))
        for program in programs
    ]
    return PartnerOverview(counts, usage)


def partner_export_rows(claims: QuerySet[Claim], *, chunk: int = 2000) -> Iterator[dict[str, Any]]:
    """The partner's CSV rows: plain values read through one cursor, and the services of
    each chunk of claims counted in one more statement (not once per claim)."""
    labels = {value: str(label) for value, label in Claim.Status.choices}
    rows = claims.values(
        "pk",
        "reference",
        "status",
        "customer__name",
        "customer__tenant_id",
        "program__name",
        "custom_sow",
        "submitted_at",
        "due_at",
        "decided_at",
    ).iterator(chunk_size=chunk)
    while batch := list(islice(rows, chunk)):
        services = dict(
            ClaimLine.objects.filter(claim_id__in=[row["pk"] for row in batch])
            .exclude(status=ClaimLine.Status.REMOVED)
            .order_by()
            .values_list("claim_id")
            .annotate(n=Count("pk"))
        )
        for values in batch:
            row: dict[str, Any] = dict(values)
            row["status_label"] = labels.get(row["status"], row["status"])
            row["services"] = services.get(row["pk"], 0)
            yield row


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
