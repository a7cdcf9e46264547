"""Filters, search and sort of the claim lists, one FilterSet per audience."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.models import Claim, ClaimLine
from claims_portal.lists import PortalFilterSet, SortFilter
from customers.models import Customer
from partners.models import Partner, Program, Workload

CLAIM_SORTS = {
    "newest": (_("Newest first"), ("-created_at", "-pk")),
    "oldest": (_("Oldest first"), ("created_at", "pk")),
    "due": (_("Due soonest"), ("due_at", "-pk")),
    "reference": (_("Reference"), ("reference", "-pk")),
}

# Drafts never reach the partner, so its status filter does not offer them (a claim
# awaiting the customer's approval is the partner's only when the partner prepared it).
PARTNER_STATUSES = [
    (value, label) for value, label in Claim.Status.choices if value != Claim.Status.DRAFT
]

PARTNER_SORTS = {
    **CLAIM_SORTS,
    "submitted": (_("Submitted, newest first"), ("-submitted_at", "-pk")),
}


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class ClaimFilterSet(PortalFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Claim.Status.choices, empty_label=_("All statuses")
    )
    program = django_filters.ModelChoiceFilter(
        label=_("Program"),
        queryset=Program.objects.order_by("-start_date", "name"),
        empty_label=_("All programs"),
    )
    workload = django_filters.ModelChoiceFilter(
        label=_("Service"),
        empty_label=_("All services"),
        queryset=Workload.objects.order_by("name"),
        method="filter_workload",
    )
    submitted_from = django_filters.DateFilter(
        label=_("Submitted from"),
        method="filter_submitted_from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    submitted_to = django_filters.DateFilter(
        label=_("Submitted until"),
        method="filter_submitted_to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Reference or name")}),
    )
    sort = SortFilter(CLAIM_SORTS)

    # The fields `q` looks in, besides the reference; each audience names its own.
    search_fields: tuple[str, ...] = ()

    class Meta:
        model = Claim
        fields: list[str] = []

    def filter_workload(self, queryset: QuerySet, name: str, value: Workload) -> QuerySet:
        lines = ClaimLine.objects.filter(claim=OuterRef("pk"), workload=value)
        return queryset.filter(Exists(lines))

    def filter_submitted_from(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(submitted_at__gte=_day_start(value))

    def filter_submitted_to(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(submitted_at__lt=_day_start(value + datetime.timedelta(days=1)))

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        condition = Q(reference__iexact=value) | Q(reference__icontains=value)
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class CustomerClaimFilterSet(ClaimFilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("Partner"), queryset=Partner.objects.order_by("name"), empty_label=_("All partners")
    )
    search_fields = ("partner__name",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the partners this organisation has claims with.
        queryset = kwargs.get("queryset")
        if queryset is not None:
            self.filters["partner"].queryset = Partner.objects.filter(
                pk__in=queryset.order_by().values("partner_id")
            ).order_by("name")
        # Partner beside status, where people look for it, not after the sort.
        names = list(self.filters)
        names.remove("partner")
        names.insert(names.index("status") + 1, "partner")
        self.filters = {name: self.filters[name] for name in names}


class PartnerClaimFilterSet(ClaimFilterSet):
    """The partner's dashboard; `selectors.partner_claim_list` narrows the choices to it."""

    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=PARTNER_STATUSES, empty_label=_("All statuses")
    )
    customer = django_filters.CharFilter(
        label=_("Customer tenant id"),
        method="filter_customer",
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": _("Exact tenant id")}),
    )
    needs_action = django_filters.BooleanFilter(
        label=_("Needs my action"), method="filter_needs_action", widget=forms.CheckboxInput
    )
    overdue = django_filters.BooleanFilter(
        label=_("Overdue"), method="filter_overdue", widget=forms.CheckboxInput
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Reference, customer or tenant")}
        ),
    )
    sort = SortFilter(PARTNER_SORTS)

    def filter_customer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            customer_id__in=Customer.objects.filter(tenant_id__iexact=value).values("pk")
        )

    def filter_needs_action(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        # The partner's move: confirm or return what the customer signed.
        return queryset.filter(status=Claim.Status.AWAITING_PARTNER) if value else queryset

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(due_at__lt=timezone.now()) if value else queryset

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The customers are found first, through their trigram indexes (claims migration 0007),
        # so the partner's claims are read once, never joined row by row to every customer.
        value = value.strip()
        if not value:
            return queryset
        customers = Customer.objects.filter(
            Q(name__icontains=value) | Q(tenant_id__icontains=value)
        ).values("pk")
        return queryset.filter(Q(reference__icontains=value) | Q(customer_id__in=customers))


class ClaimsTeamClaimFilterSet(ClaimFilterSet):
    search_fields = ("customer__name", "customer__tenant_id", "partner__name")
