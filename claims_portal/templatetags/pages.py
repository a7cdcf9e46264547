"""The pager's window of page numbers: a few around the current page, never all of them."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def page_window(page_obj: Any, each_side: int = 2) -> list[int | None]:
    """Page numbers to link (None for a gap): first, current ± each_side, last.

    A list whose count was capped (LargeListPaginator) does not know its last page, so
    the window ends after the current page with a gap.
    """
    paginator = page_obj.paginator
    current, last = page_obj.number, paginator.num_pages
    capped = getattr(paginator, "capped", False)
    wanted = {1, *range(max(1, current - each_side), min(last, current + each_side) + 1)}
    if not capped:
        wanted.add(last)
    window: list[int | None] = []
    previous = 0
    for number in sorted(wanted):
        if number - previous > 1:
            window.append(None)
        window.append(number)
        previous = number
    if capped:
        window.append(None)
    return window
