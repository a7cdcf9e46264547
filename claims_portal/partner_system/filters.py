"""Filters, search and sort of the claims team's list of sync conflicts."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from claims_portal.lists import PortalFilterSet, SortFilter
from claims_portal.partner_system.models import SyncConflict
from partners.models import Partner, Workload

CONFLICT_SORTS = {
    "newest": (_("Newest first"), ("-created_at", "-pk")),
    "oldest": (_("Oldest first"), ("created_at", "pk")),
    "customer": (_("Customer"), ("customer__name", "pk")),
}


class SyncConflictFilterSet(PortalFilterSet):
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=SyncConflict.State.choices, empty_label=_("Any state")
    )
    partner = django_filters.ModelChoiceFilter(
        label=_("Partner"),
        queryset=Partner.objects.order_by("name"),
        method="filter_partner",
        empty_label=_("All partners"),
    )
    workload = django_filters.ModelChoiceFilter(
        label=_("Service"),
        queryset=Workload.objects.order_by("name"),
        empty_label=_("All services"),
    )
    run = django_filters.NumberFilter(
        label=_("Found by sync run"), method="filter_run", widget=forms.HiddenInput
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Customer or tenant")}),
    )
    sort = SortFilter(CONFLICT_SORTS)

    class Meta:
        model = SyncConflict
        fields: list[str] = []

    def filter_partner(self, queryset: QuerySet, name: str, value: Partner) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(Q(portal_partner=value) | Q(imported_partner=value))

    def filter_run(self, queryset: QuerySet, name: str, value: int | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(Q(first_run_id=value) | Q(last_run_id=value))

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(customer__name__icontains=value) | Q(customer__tenant_id__icontains=value)
        )
