from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from claims.models import Claim
from partners.models import Partner, Program


def current_programs(partner: Partner) -> list[Program]:
    """The programs the partner takes claims in today: current ones it has a catalog for.

    A partner may run a short program (a "Teams Rooms" push) beside the annual one; the
    newest first, the annual program breaking ties by name.
    """
    today = timezone.localdate()
    return list(
        Program.objects.filter(
            catalogs__partner=partner, start_date__lte=today, end_date__gte=today
        ).order_by("-start_date", "name")
    )


def current_program(partner: Partner, slug: str | None = None) -> Program | None:
    """The one program a claim starts in: the named one, or the only current one.

    None when the partner takes no claims in the named program today, or when it has
    no current program, or several and none was named (the customer must choose).
    """
    programs = current_programs(partner)
    if slug is not None:
        return next((p for p in programs if p.slug == slug), None)
    return programs[0] if len(programs) == 1 else None


def recent_customers(partner: Partner, *, limit: int = 50) -> list[dict[str, str]]:
    """Tenant ids and names of the customers of the partner's most recent claims."""
    seen: dict[str, dict[str, str]] = {}
    # Only claims the partner sees: never a customer's draft it has not been sent.
    rows = (
        Claim.objects.filter(partner=partner)
        .filter(
            ~Q(status__in=[Claim.Status.DRAFT, Claim.Status.AWAITING_CUSTOMER_APPROVAL])
            | Q(partner_prepared=True)
        )
        .order_by("-created_at")
        .values("customer__tenant_id", "customer__name")[: limit * 4]
    )
    for row in rows:
        tenant = row["customer__tenant_id"]
        if tenant not in seen:
            seen[tenant] = {"tenant_id": tenant, "name": row["customer__name"]}
        if len(seen) >= limit:
            break
    return list(seen.values())
