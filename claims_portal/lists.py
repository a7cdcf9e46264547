"""The list convention of the whole portal.

GET parameters for filters and `sort` (validated by a django-filter FilterSet owned by the
app's selectors), page numbers, and `?export=csv` streaming exactly the filtered rows.
Bad parameters are shown as form errors, never a 500.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext_lazy as _

PER_PAGE = 25
CSV_CHUNK = 2000


def _keep(queryset: QuerySet, name: str, value: Any) -> QuerySet:
    # Sorting and exporting are applied by the FilterSet itself, after the filters.
    return queryset


class SortFilter(django_filters.ChoiceFilter):
    """`?sort=<name>` for named orderings; the first one is the default."""

    def __init__(
        self, orderings: dict[str, tuple[str | Promise, Sequence[str]]], **kwargs: Any
    ) -> None:
        self.orderings = orderings
        kwargs.setdefault("label", _("Sort"))
        super().__init__(
            choices=[(name, label) for name, (label, _fields) in orderings.items()],
            empty_label=None,
            method=_keep,
            **kwargs,
        )


class PortalFilterSet(django_filters.FilterSet):
    """Filters, sort and export of one list; an invalid form lists nothing and says why."""

    export = django_filters.ChoiceFilter(
        choices=[("csv", "CSV")], method=_keep, widget=forms.HiddenInput
    )

    @property
    def form(self) -> forms.Form:
        form = super().form
        if not getattr(form, "portal_styled", False):
            # Bootstrap's classes on the widgets, as crispy would add them (list_filter.html).
            for field in form.fields.values():
                widget = field.widget
                if widget.is_hidden or isinstance(widget, forms.CheckboxInput):
                    continue
                css = "form-select" if isinstance(widget, forms.Select) else "form-control"
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            form.portal_styled = True
        return form

    def _sort_filter(self) -> SortFilter | None:
        return next((f for f in self.filters.values() if isinstance(f, SortFilter)), None)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        sort = self._sort_filter()
        if sort is None:
            return queryset
        name = self.form.cleaned_data.get(sort.field_name) or next(iter(sort.orderings))
        return queryset.order_by(*sort.orderings[name][1])

    @property
    def qs(self) -> QuerySet:
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs

    @property
    def in_use(self) -> bool:
        """Whether a visible filter or the sort is set (hidden ones, like a tab, are not)."""
        return any(
            self.data.get(name)
            for name, field in self.form.fields.items()
            if not field.widget.is_hidden
        )

    @property
    def wants_csv(self) -> bool:
        return bool(self.data.get("export") == "csv")

    def active_filters(self) -> dict[str, Any]:
        """The filters in use (not sort or export), once the form is valid."""
        if not self.is_valid():
            return {}
        sort = self._sort_filter()
        skip = {"export", sort.field_name if sort else ""}
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if name not in skip and value not in (None, "", False)
        }


@dataclass(frozen=True)
class Column:
    """One column of a CSV export: its header and how to read the value from a row."""

    header: str | Promise
    value: Callable[[Any], Any]


class _Echo:
    def write(self, value: str) -> str:
        return value


# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any, zone: datetime.tzinfo) -> str:
    # Called once per cell of exports of tens of thousands of rows: the common cases first.
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_rows(rows: Iterable[Any], columns: Sequence[Column]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    zone = timezone.get_current_timezone()
    readers = [column.value for column in columns]
    yield writer.writerow([str(column.header) for column in columns])
    for row in rows:
        yield writer.writerow([_cell(read(row), zone) for read in readers])


# Lines are sent in pieces of about this many characters: one write per line would cost a
# system call (and a chunk header) for each of tens of thousands of rows.
CSV_PIECE = 64 * 1024


def _pieces(lines: Iterable[str], size: int = CSV_PIECE) -> Iterator[str]:
    buffer: list[str] = []
    length = 0
    for line in lines:
        buffer.append(line)
        length += len(line)
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


def csv_response(
    rows: QuerySet | Iterable[Any], columns: Sequence[Column], filename: str
) -> StreamingHttpResponse:
    """Stream every row as CSV, a chunk at a time (never all in memory)."""
    if isinstance(rows, QuerySet):
        rows = rows.iterator(chunk_size=CSV_CHUNK)
    response = StreamingHttpResponse(
        _pieces(csv_rows(rows, columns)),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response


class LargeListPage(Page):
    paginator: LargeListPaginator

    def has_next(self) -> bool:
        return self.number < self.paginator.num_pages or self.paginator.capped

    def next_page_number(self) -> int:
        # Past the counted rows of a capped list, the next page exists all the same.
        return self.number + 1


class LargeListPaginator(Paginator):
    """Pages of a list that may hold hundreds of thousands of rows, at a constant cost.

    - Counts at most `cap` rows (`SELECT COUNT(*) FROM (... LIMIT cap+1)`): "more than
      1,000" costs what counting a thousand does. The exact count is taken only when
      someone asks for a page beyond the cap, or for `?page=last`.
    - Reads a page's keys first (an index-only scan of the list's order) and then only
      those rows with their joins, so an OFFSET never drags joined rows along; a page in
      the second half of the list is read from the far end, backwards, so the last page
      costs what the first does.
    The list's queryset must be ordered, with the primary key last, to be a stable order.
    """

    def __init__(
        self, object_list: QuerySet, per_page: int, *, cap: int = 1000, count: int | None = None
    ) -> None:
        super().__init__(object_list, per_page)
        self.rows: QuerySet = object_list
        self.cap = cap
        self.capped = False
        self._exact = False
        if count is not None:
            # Known already (the list's own totals, say): exact, and no counting pass at all.
            self._exact = True
            self.__dict__["count"] = count

    @cached_property
    def count(self) -> int:
        rows = self.rows.order_by()
        if self._exact:
            return rows.count()
        counted = rows[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)

    def get_page(self, number: Any) -> Page:
        wanted = str(number or "1")
        if wanted == "last" or (wanted.isdigit() and (int(wanted) - 1) * self.per_page >= self.cap):
            self._exact = True
        if wanted == "last":
            number = self.num_pages
        return super().get_page(number)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        keys_in_order = self.rows.values_list("pk", flat=True)
        if self._exact and bottom > self.count // 2:
            total = self.count
            keys = list(keys_in_order.reverse()[max(0, total - top) : total - bottom])
            keys.reverse()
        else:
            keys = list(keys_in_order[bottom:top])
        rows = self.rows.order_by().in_bulk(keys)
        return self._get_page([rows[key] for key in keys if key in rows], number, self)

    def _get_page(self, *args: Any, **kwargs: Any) -> Page:
        return LargeListPage(*args, **kwargs)


def list_response(
    request: HttpRequest,
    filterset: PortalFilterSet,
    *,
    template: str,
    columns: Sequence[Column],
    filename: str,
    context: dict[str, Any] | None = None,
    per_page: int = PER_PAGE,
    paginator_class: Callable[[QuerySet, int], Paginator] = Paginator,
    export: Callable[[QuerySet], Iterable[Any]] | None = None,
) -> HttpResponseBase:
    """The page of a filtered list, or with `?export=csv` all of its rows as CSV.

    `export` turns the filtered queryset into the rows the CSV columns read (plain values
    a chunk at a time, say); by default the queryset's own model instances.
    """
    if filterset.wants_csv and filterset.is_valid():
        rows = export(filterset.qs) if export is not None else filterset.qs
        return csv_response(rows, columns, filename)
    page = paginator_class(filterset.qs, per_page).get_page(request.GET.get("page"))
    return render(
        request,
        template,
        {**(context or {}), "filter": filterset, "page_obj": page},
        status=400 if filterset.wants_csv else 200,
    )
