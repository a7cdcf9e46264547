"""Reads of claims, already scoped to the person asking."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from claims.models import Claim, ClaimLine, Event
from claims_portal.roles import roles_for


def _with_list_data(qs: QuerySet[Claim]) -> QuerySet[Claim]:
    return qs.select_related("partner", "customer", "program").annotate(
        line_count=Count("lines", distinct=True)
    )


def claims_for_customer(user) -> QuerySet[Claim]:
    roles = roles_for(user)
    if not roles.is_customer:
        return Claim.objects.none()
    return _with_list_data(Claim.objects.filter(customer_id=roles.customer.pk))


def _partner_claims(user) -> QuerySet[Claim]:
    roles = roles_for(user)
    if not roles.is_partner:
        return Claim.objects.none()
    # A partner never sees a customer's drafts before they are submitted to it.
    return Claim.objects.filter(partner_id=roles.partner.pk).exclude(
        status__in=[Claim.Status.DRAFT, Claim.Status.AWAITING_CUSTOMER_APPROVAL]
    )


def claims_for_partner(user) -> QuerySet[Claim]:
    return _with_list_data(_partner_claims(user))


def partner_status_counts(user) -> dict[str, int]:
    """How many of the partner's claims are in each status, in one query."""
    rows = _partner_claims(user).order_by().values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def claims_for_claims_team(user) -> QuerySet[Claim]:
    if not roles_for(user).is_claims_team:
        return Claim.objects.none()
    return _with_list_data(Claim.objects.all())


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


def get_claim_for_customer(user, reference: str) -> Claim:
    return _detail(claims_for_customer(user), reference)


def get_claim_for_partner(user, reference: str) -> Claim:
    return _detail(claims_for_partner(user), reference)


def get_claim_for_claims_team(user, reference: str) -> Claim:
    return _detail(claims_for_claims_team(user), reference)
