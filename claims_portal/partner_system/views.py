"""The claims team's list of sync conflicts, and one small view per answer.

Its own page under /review/ for now (/review/sync-conflicts/); it can be folded into the
exception queue later.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from claims_portal.access import claims_team_required
from claims_portal.lists import Column, list_response
from claims_portal.partner_system import selectors, services
from claims_portal.partner_system.forms import ResolveConflictForm

CONFLICT_COLUMNS = [
    Column(gettext_lazy("Found"), lambda c: c.created_at),
    Column(gettext_lazy("Customer"), lambda c: c.customer.name),
    Column(gettext_lazy("Tenant"), lambda c: c.customer.tenant_id),
    Column(gettext_lazy("Service"), lambda c: c.workload.name),
    Column(gettext_lazy("Disagreement"), lambda c: c.get_kind_display()),
    Column(gettext_lazy("Portal's partner"), lambda c: c.portal_partner.name),
    Column(gettext_lazy("Vendor's partner"), lambda c: c.imported_partner.name),
    Column(gettext_lazy("Vendor's since"), lambda c: c.imported_since),
    Column(gettext_lazy("Vendor's end"), lambda c: c.imported_ended_on),
    Column(gettext_lazy("Seen by runs"), lambda c: c.times_seen),
    Column(gettext_lazy("State"), lambda c: c.get_state_display()),
    Column(gettext_lazy("Resolved by"), lambda c: c.resolved_by.email if c.resolved_by else ""),
    Column(gettext_lazy("Note"), lambda c: c.note),
]


@claims_team_required
def conflict_list(request: HttpRequest) -> HttpResponse:
    return list_response(  # type: ignore[return-value]
        request,
        selectors.sync_conflict_list(request.roles, filters=request.GET),  # type: ignore[attr-defined]
        template="partner_system/conflicts.html",
        columns=CONFLICT_COLUMNS,
        filename="sync-conflicts",
        context={"resolve_form": ResolveConflictForm()},
    )


def _resolve(request: HttpRequest, pk: int, *, take_vendors: bool) -> HttpResponse:
    conflict = selectors.get_sync_conflict(request.roles, pk)  # type: ignore[attr-defined]
    form = ResolveConflictForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The note is too long (2,000 characters at most)."))
        return redirect("sync_conflicts")
    try:
        services.resolve_conflict(
            conflict,
            user=request.user,  # type: ignore[arg-type]
            take_vendors=take_vendors,
            note=form.cleaned_data["note"],
        )
    except services.SyncError as exc:
        messages.error(request, str(exc))
    else:
        if take_vendors:
            message = _("%(customer)s · %(workload)s now follows the vendor's record: %(partner)s.")
            partner = conflict.imported_partner.name
        else:
            message = _("%(customer)s · %(workload)s stays with %(partner)s.")
            partner = conflict.portal_partner.name
        messages.success(
            request,
            message
            % {
                "customer": conflict.customer.name,
                "workload": conflict.workload.name,
                "partner": partner,
            },
        )
    return redirect("sync_conflicts")


@require_POST
@claims_team_required
def keep_portals(request: HttpRequest, pk: int) -> HttpResponse:
    return _resolve(request, pk, take_vendors=False)


@require_POST
@claims_team_required
def take_vendors(request: HttpRequest, pk: int) -> HttpResponse:
    return _resolve(request, pk, take_vendors=True)
