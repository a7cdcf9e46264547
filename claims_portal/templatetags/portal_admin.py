"""Formatting for the admin pages the portal adds (audit history, previews, sync runs)."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def as_json(value: Any) -> str:
    """A history entry's data, indented for reading."""
    if not value:
        return ""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
