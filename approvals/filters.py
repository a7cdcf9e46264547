"""Filters, search and sort of the exception queue."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from approvals.models import ReviewTask
from claims_portal.lists import PortalFilterSet, SortFilter
from partners.models import Program

QUEUE_SORTS = {
    "due": (_("Due soonest"), ("due_at", "pk")),
    "oldest": (_("Longest in the queue"), ("created_at", "pk")),
    "newest": (_("Newest first"), ("-created_at", "-pk")),
}


class ReviewTaskFilterSet(PortalFilterSet):
    mine = django_filters.BooleanFilter(
        label=_("Assigned to me"), method="filter_mine", widget=forms.CheckboxInput
    )
    program = django_filters.ModelChoiceFilter(
        label=_("Program"),
        field_name="claim__program",
        queryset=Program.objects.order_by("-start_date", "name"),
        empty_label=_("All programs"),
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Reference or name")}),
    )
    sort = SortFilter(QUEUE_SORTS)

    class Meta:
        model = ReviewTask
        fields: list[str] = []

    def __init__(self, *args: Any, request_user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_user = request_user

    def filter_mine(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(assignee=self.request_user) if value else queryset

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(claim__reference__icontains=value)
            | Q(claim__customer__name__icontains=value)
            | Q(claim__partner__name__icontains=value)
        )
