from __future__ import annotations

from django.utils import timezone

from partners.models import Partner, Program


def current_program(partner: Partner) -> Program | None:
    """The program the partner takes claims in today: the newest one it has a catalog for."""
    today = timezone.localdate()
    return (
        Program.objects.filter(
            catalogs__partner=partner, start_date__lte=today, end_date__gte=today
        )
        .order_by("-start_date")
        .first()
    )
