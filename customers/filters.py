"""Filters and sort of the organisation's associations (the list convention)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from claims_portal.lists import PortalFilterSet, SortFilter
from customers.models import Association
from partners.models import Partner, Workload

ASSOCIATION_SORTS = {
    "workload": (_("Service"), ("workload__name", "pk")),
    "partner": (_("Partner"), ("partner__name", "workload__name", "pk")),
    "newest": (_("Newest first"), ("-since", "pk")),
    "oldest": (_("Oldest first"), ("since", "pk")),
    "usage": (_("Lowest usage first"), ("active_usage_pct", "workload__name", "pk")),
}


class AssociationFilterSet(PortalFilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=_("Partner"), queryset=Partner.objects.order_by("name"), empty_label=_("All partners")
    )
    workload = django_filters.ModelChoiceFilter(
        label=_("Service"),
        queryset=Workload.objects.order_by("name"),
        empty_label=_("All services"),
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Service or partner")}),
    )
    sort = SortFilter(ASSOCIATION_SORTS)

    class Meta:
        model = Association
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the partners and services of this organisation's own associations.
        queryset = kwargs.get("queryset")
        if queryset is not None:
            self.filters["partner"].queryset = Partner.objects.filter(
                pk__in=queryset.values("partner_id")
            ).order_by("name")
            self.filters["workload"].queryset = Workload.objects.filter(
                pk__in=queryset.values("workload_id")
            ).order_by("name")

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(workload__name__icontains=value) | Q(partner__name__icontains=value)
        )
