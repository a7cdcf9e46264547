"""The in-app notification list: the same outbox rows the emails are sent from.

Reads are scoped to the person asking; marking read is a conditional update on their own
rows, so a second click or another tab changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.models import Notification
from claims_portal.lists import PortalFilterSet, SortFilter
from claims_portal.roles import Roles

# The navigation shows "99+" beyond this: counting further would read every unread row.
UNREAD_SHOWN = 99


class NotificationFilterSet(PortalFilterSet):
    unread = django_filters.BooleanFilter(
        label=_("Unread only"), method="filter_unread", widget=forms.CheckboxInput
    )
    sort = SortFilter(
        {
            "newest": (_("Newest first"), ("-created_at", "-pk")),
            "oldest": (_("Oldest first"), ("created_at", "pk")),
        }
    )

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(read_at=None) if value else queryset


def notifications_for(user: Any) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user).select_related("claim", "event")


def notification_list(user: Any, *, filters: Mapping[str, Any]) -> NotificationFilterSet:
    return NotificationFilterSet(filters, queryset=notifications_for(user))


def unread_count(user: Any) -> int:
    """Unread notifications of `user`, counted up to UNREAD_SHOWN + 1."""
    if not user.is_authenticated:
        return 0
    return (
        Notification.objects.filter(user=user, read_at=None).order_by()[: UNREAD_SHOWN + 1].count()
    )


def get_notification(user: Any, pk: int) -> Notification:
    notification = notifications_for(user).filter(pk=pk).first()
    if notification is None:
        raise Http404("No such notification")
    return notification


def mark_read(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=timezone.now())


def mark_all_read(user: Any) -> int:
    """Mark every unread notification of `user` read; how many there were."""
    return Notification.objects.filter(user=user, read_at=None).update(read_at=timezone.now())


def link_for(notification: Notification, roles: Roles) -> str:
    """The claim's page as this person sees it (the role they hold on that claim)."""
    claim = notification.claim
    reference = claim.reference
    if roles.partner_membership and roles.partner_membership.partner_id == claim.partner_id:
        return reverse("partner_claim_detail", args=[reference])
    if roles.customer_membership and roles.customer_membership.customer_id == claim.customer_id:
        return reverse("customer_claim_detail", args=[reference])
    if roles.is_claims_team:
        return reverse("review_claim_detail", args=[reference])
    return ""
