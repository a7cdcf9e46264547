"""Reads of sync conflicts, scoped to the person asking (the claims team sees them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from claims_portal.partner_system.filters import SyncConflictFilterSet
from claims_portal.partner_system.models import SyncConflict
from claims_portal.roles import Roles


def sync_conflicts(roles: Roles) -> QuerySet[SyncConflict]:
    if not roles.is_claims_team:
        return SyncConflict.objects.none()
    return SyncConflict.objects.select_related(
        "customer", "workload", "portal_partner", "imported_partner", "association", "resolved_by"
    )


def sync_conflict_list(roles: Roles, *, filters: Mapping[str, Any]) -> SyncConflictFilterSet:
    # Open conflicts unless another state (or "any", an empty value) is asked for.
    data = filters.copy() if hasattr(filters, "copy") else dict(filters)
    if "state" not in data:
        data["state"] = SyncConflict.State.OPEN
    return SyncConflictFilterSet(data, queryset=sync_conflicts(roles))


def get_sync_conflict(roles: Roles, pk: int) -> SyncConflict:
    conflict = sync_conflicts(roles).filter(pk=pk).first()
    if conflict is None:
        raise Http404
    return conflict
