"""Filtering and sorting shared by the claim lists of every role."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from claims.forms import StatusFilterForm
from claims.models import Claim

SORTS = {
    "newest": "-created_at",
    "oldest": "created_at",
    "due": "due_at",
    "reference": "reference",
}


def filtered_claims(
    request: HttpRequest, claims: QuerySet[Claim]
) -> tuple[StatusFilterForm, QuerySet[Claim]]:
    form = StatusFilterForm(request.GET or None)
    if form.is_valid():
        status = form.cleaned_data.get("status")
        if status:
            claims = claims.filter(status=status)
        q = form.cleaned_data.get("q", "").strip()
        if q:
            claims = claims.filter(
                Q(reference__icontains=q)
                | Q(customer__name__icontains=q)
                | Q(partner__name__icontains=q)
            )
    sort = SORTS.get(request.GET.get("sort", ""), "-created_at")
    return form, claims.order_by(sort, "-pk")
