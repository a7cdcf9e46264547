"""Deadlines count business days (Monday to Friday)."""

from __future__ import annotations

import datetime


def add_business_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """The moment `days` business days after `start`, at the same time of day."""
    current = start
    remaining = days
    while remaining > 0:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def business_days_between(start: datetime.datetime, end: datetime.datetime) -> int:
    """Whole business days from `start` to `end`; negative when `end` is earlier."""
    if end < start:
        return -business_days_between(end, start)
    days = 0
    current = start
    while current + datetime.timedelta(days=1) <= end:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5:
            days += 1
    return days
