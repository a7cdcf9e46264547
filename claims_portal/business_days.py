"""Business time on a program's calendar: what every deadline in the portal counts.

A calendar knows its closed days: the weekend, the public holidays of a country (or one of
its regions) from the `holidays` library, and extra closed days set in admin. Business time
is the time that passes on open days only, measured on local days of the portal's time zone:
an hour on a Saturday or a bank holiday does not count, an hour on a Tuesday does. So a
deadline of 5 business days set on Friday at 15:00 falls on the next Friday at 15:00, or on
the Monday after that when a holiday falls in between, and a clock that stops with 2 days
and 3 hours left resumes with exactly that left.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from functools import lru_cache

import holidays
from django.utils import timezone

DAY = datetime.timedelta(days=1)
ZERO = datetime.timedelta(0)
# Deadlines are weeks away; a year of closed days in a row means a misconfigured calendar.
_MAX_DAYS = 3660
_MON_TO_FRI = frozenset({0, 1, 2, 3, 4})


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str, year: int) -> tuple[frozenset, frozenset]:
    """The public holidays of one year and the country's working weekdays."""
    if not country:
        return frozenset(), _MON_TO_FRI
    table = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    weekend = getattr(table, "weekend", None) or {5, 6}
    return frozenset(table), frozenset(set(range(7)) - set(weekend))


class Calendar:
    """Open and closed days of one program; `add` and `between` count business time."""

    def __init__(
        self, country: str = "", subdivision: str = "", closed: Iterable[datetime.date] = ()
    ) -> None:
        self.country = country
        self.subdivision = subdivision
        self.closed = frozenset(closed)

    def __repr__(self) -> str:
        return f"Calendar({self.country!r}, {self.subdivision!r}, {len(self.closed)} closed)"

    def is_open(self, day: datetime.date) -> bool:
        if day in self.closed:
            return False
        public, workdays = _public_holidays(self.country, self.subdivision, day.year)
        return day.weekday() in workdays and day not in public

    def holiday_name(self, day: datetime.date) -> str:
        if not self.country:
            return ""
        table = holidays.country_holidays(
            self.country, subdiv=self.subdivision or None, years=day.year
        )
        return str(table.get(day) or "")

    # --- Local days as spans of time ---------------------------------------------------

    @staticmethod
    def _start_of(day: datetime.date) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    def _open_time(self, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
        """Business time in [start, end), start <= end."""
        total = ZERO
        day = timezone.localtime(start).date()
        for _ in range(_MAX_DAYS):
            day_start, day_end = self._start_of(day), self._start_of(day + DAY)
            if day_start >= end:
                break
            if self.is_open(day):
                total += min(end, day_end) - max(start, day_start)
            day += DAY
        return total

    def add(self, start: datetime.datetime, span: datetime.timedelta) -> datetime.datetime:
        """The moment when `span` of business time has passed since `start`."""
        remaining = span
        moment = start
        day = timezone.localtime(start).date()
        for _ in range(_MAX_DAYS):
            if remaining <= ZERO:
                return moment
            day_end = self._start_of(day + DAY)
            if self.is_open(day):
                available = day_end - max(moment, self._start_of(day))
                if remaining <= available:
                    return max(moment, self._start_of(day)) + remaining
                remaining -= available
            moment = day_end
            day += DAY
        raise ValueError(f"{self!r} has no open day within {_MAX_DAYS} days of {start}")

    def add_days(self, start: datetime.datetime, days: int) -> datetime.datetime:
        """`days` business days after `start`; on an open day, the same time of day."""
        return self.add(start, days * DAY)

    def subtract(self, end: datetime.datetime, span: datetime.timedelta) -> datetime.datetime:
        """The moment `span` of business time before `end` (the start of a reminder window)."""
        remaining = span
        moment = end
        day = timezone.localtime(end).date()
        if self._start_of(day) == end:
            day -= DAY  # `end` is midnight: the time before it belongs to the day before
        for _ in range(_MAX_DAYS):
            if remaining <= ZERO:
                return moment
            day_start = self._start_of(day)
            if self.is_open(day):
                available = min(moment, self._start_of(day + DAY)) - day_start
                if remaining <= available:
                    return min(moment, self._start_of(day + DAY)) - remaining
                remaining -= available
            moment = day_start
            day -= DAY
        raise ValueError(f"{self!r} has no open day within {_MAX_DAYS} days of {end}")

    def between(self, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
        """Business time from `start` to `end`; negative when `end` is earlier."""
        if end < start:
            return -self._open_time(end, start)
        return self._open_time(start, end)


# Monday to Friday, no holidays: for code that has no program at hand.
WEEKDAYS = Calendar()


def add_business_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """The moment `days` business days (Monday to Friday) after `start`."""
    return WEEKDAYS.add_days(start, days)


def business_days_between(start: datetime.datetime, end: datetime.datetime) -> int:
    """Whole business days (Monday to Friday) from `start` to `end`; negative when earlier."""
    span = WEEKDAYS.between(start, end)
    whole = abs(span) // DAY
    return int(whole if span >= ZERO else -whole)
