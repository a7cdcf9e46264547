"""Views, filters, search and sort of the exception queue."""

from __future__ import annotations

import datetime
import re
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.models import ReviewTask
from approvals.rules import ReasonCode
from claims_portal.lists import PortalFilterSet, SortFilter
from claims_portal.roles import CLAIMS_TEAM_GROUPS
from customers.models import Customer
from partners.models import Partner, Program

# How far back "recently decided" looks.
RECENT = datetime.timedelta(days=30)

MINE, UNASSIGNED, OPEN, OVERDUE, DECIDED = "mine", "unassigned", "open", "overdue", "decided"
QUEUE_VIEWS = {
    MINE: _("Mine"),
    UNASSIGNED: _("Unassigned"),
    OPEN: _("All open"),
    OVERDUE: _("Overdue"),
    DECIDED: _("Recently decided"),
}

QUEUE_SORTS = {
    "due": (_("Due soonest"), ("due_at", "id")),
    "oldest": (_("Longest in the queue"), ("created_at", "id")),
    "newest": (_("Newest first"), ("-created_at", "-id")),
    "closed": (_("Most recently closed"), ("-closed_at", "-id")),
}

AGES = {
    "1": (_("In the queue for over 1 day"), 1),
    "3": (_("… over 3 days"), 3),
    "7": (_("… over a week"), 7),
    "30": (_("… over 30 days"), 30),
}

NOBODY = "none"

_FULL_REFERENCE = re.compile(r"^(CLM-)?\d{4}-\d{6,9}$", re.IGNORECASE)


# Search matches customers and partners by name first (small tables), then filters the
# queue by their ids: the planner picks an index for a handful of ids, where a condition
# on a joined name makes it read the whole queue. A broad term stays a subquery.
_ID_LIST_LIMIT = 500


def _ids(organisations: QuerySet) -> Any:
    ids = list(organisations.order_by().values_list("pk", flat=True)[: _ID_LIST_LIMIT + 1])
    if len(ids) > _ID_LIST_LIMIT:
        return organisations.order_by().values("pk")
    return ids


def in_view(queryset: QuerySet, view: str, *, user: Any, now: datetime.datetime) -> QuerySet:
    """The queue items of one view (tab) of the queue."""
    open_items = queryset.filter(state=ReviewTask.State.OPEN)
    if view == MINE:
        return open_items.filter(assignee=user)
    if view == UNASSIGNED:
        return open_items.filter(assignee__isnull=True)
    if view == OVERDUE:
        return open_items.filter(due_at__lt=now)
    if view == DECIDED:
        return queryset.filter(state=ReviewTask.State.DONE, closed_at__gte=now - RECENT)
    return open_items


class AssigneeFilter(django_filters.ChoiceFilter):
    """Someone in the claims team, or "nobody"; the choices are read when the form is built."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=self._choices, empty_label=_("Anyone"), **kwargs)

    @staticmethod
    def _choices() -> list[tuple[str, str]]:
        members = (
            get_user_model()
            .objects.filter(groups__name__in=CLAIMS_TEAM_GROUPS)
            .distinct()
            .order_by("email")
            .values_list("pk", "email")
        )
        return [(NOBODY, str(_("Nobody (unassigned)"))), *((str(pk), e) for pk, e in members)]


class ReviewTaskFilterSet(PortalFilterSet):
    view = django_filters.ChoiceFilter(
        label=_("View"),
        choices=list(QUEUE_VIEWS.items()),
        method=lambda qs, name, value: qs,  # applied first, in filter_queryset
        widget=forms.HiddenInput,
    )
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Reference, customer or partner")}
        ),
    )
    program = django_filters.ModelChoiceFilter(
        label=_("Program"),
        field_name="program",
        queryset=Program.objects.order_by("-start_date", "name"),
        empty_label=_("All programs"),
    )
    partner = django_filters.CharFilter(
        label=_("Partner"),
        method="filter_partner",
        max_length=160,
        widget=forms.TextInput(attrs={"placeholder": _("Code or name")}),
    )
    reason = django_filters.ChoiceFilter(
        label=_("Reason"),
        choices=ReasonCode.choices,
        method="filter_reason",
        empty_label=_("All reasons"),
    )
    age = django_filters.ChoiceFilter(
        label=_("Age"),
        choices=[(key, label) for key, (label, _days) in AGES.items()],
        method="filter_age",
        empty_label=_("Any age"),
    )
    assignee = AssigneeFilter(label=_("Assignee"), method="filter_assignee")
    sort = SortFilter(QUEUE_SORTS)

    class Meta:
        model = ReviewTask
        fields: list[str] = []

    def __init__(self, *args: Any, request_user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_user = request_user
        self.now = timezone.now()

    @property
    def current_view(self) -> str:
        value = self.form.cleaned_data.get("view") if self.form.is_valid() else None
        return value or OPEN

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = in_view(queryset, self.current_view, user=self.request_user, now=self.now)
        queryset = super().filter_queryset(queryset)
        if self.current_view == DECIDED and not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*QUEUE_SORTS["closed"][1])
        return queryset

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        if _FULL_REFERENCE.match(value):
            # A whole reference: one lookup in the unique index, not a scan of every claim.
            reference = value.upper()
            if not reference.startswith("CLM-"):
                reference = "CLM-" + reference
            return queryset.filter(claim__reference=reference)
        if value.isdigit():
            return queryset.filter(claim__reference__endswith=value)
        customers = _ids(Customer.objects.filter(name__icontains=value))
        partners = _ids(Partner.objects.filter(name__icontains=value))
        return queryset.filter(Q(customer_id__in=customers) | Q(partner_id__in=partners))

    def filter_partner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        partners = Partner.objects.filter(
            Q(code__iexact=value) | Q(slug__iexact=value) | Q(name__icontains=value)
        )
        return queryset.filter(partner_id__in=_ids(partners))

    def filter_reason(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if connection.vendor == "postgresql":
            # JSON containment: some reason entry lists this code (a GIN-free scan of the
            # view's rows, which the other filters have narrowed already).
            return queryset.filter(reasons__contains=[{"codes": [value]}])
        return queryset.filter(reasons__icontains=f'"{value}"')

    def filter_age(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        days = AGES[value][1]
        return queryset.filter(created_at__lte=self.now - datetime.timedelta(days=days))

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == NOBODY:
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value))
