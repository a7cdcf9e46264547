"""Business time on a program's calendar: weekends, public holidays, extra closed days."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from claims_portal.business_days import (
    Calendar,
    add_business_days,
    business_days_between,
)
from partners.models import ClosedDay
from tests import factories as f

DAY = datetime.timedelta(days=1)


def at(day: str, time: str = "10:00") -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(f"{day}T{time}"))


ENGLAND = Calendar("GB", "ENG")


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # An ordinary week: Monday + 5 business days is the next Monday.
        (at("2026-03-09"), 5, at("2026-03-16")),
        # Friday afternoon + 1: Monday afternoon.
        (at("2026-03-13", "15:00"), 1, at("2026-03-16", "15:00")),
        # Easter 2026 in England: Good Friday 3 April and Easter Monday 6 April are closed.
        (at("2026-04-01"), 5, at("2026-04-10")),
        (at("2026-04-02"), 1, at("2026-04-07")),
        # Saturday: the first open day counts whole, so Monday is the one day.
        (at("2026-03-14"), 1, at("2026-03-17", "00:00")),
    ],
)
def test_it_adds_business_days_around_weekends_and_holidays(start, days, due):
    assert ENGLAND.add_days(start, days) == due
    assert ENGLAND.between(start, due) == days * DAY


def test_a_region_has_its_own_holidays():
    # 17 March (St Patrick's Day) is a bank holiday in Northern Ireland, not in England.
    assert ENGLAND.is_open(datetime.date(2026, 3, 17))
    assert not Calendar("GB", "NIR").is_open(datetime.date(2026, 3, 17))
    assert Calendar("GB", "NIR").holiday_name(datetime.date(2026, 3, 17))


def test_extra_closed_days_count_like_holidays():
    closed = Calendar("GB", "ENG", closed=[datetime.date(2026, 3, 11)])
    assert closed.add_days(at("2026-03-09"), 5) == at("2026-03-17")


def test_a_country_with_another_weekend():
    # The United Arab Emirates rest on Saturday and Sunday since 2022; Friday is open.
    uae = Calendar("AE")
    assert uae.is_open(datetime.date(2026, 3, 13))
    assert not uae.is_open(datetime.date(2026, 3, 14))


def test_between_is_negative_when_overdue_and_skips_closed_time():
    assert ENGLAND.between(at("2026-04-10"), at("2026-04-01")) == -5 * DAY
    # Thursday 18:00 to Tuesday 09:00 over Easter: 6 h on Thursday and 9 h on Tuesday.
    assert ENGLAND.between(at("2026-04-02", "18:00"), at("2026-04-07", "09:00")) == (
        datetime.timedelta(hours=15)
    )


def test_subtract_goes_back_over_closed_days():
    assert ENGLAND.subtract(at("2026-04-07"), DAY) == at("2026-04-02")
    assert ENGLAND.subtract(at("2026-03-17", "00:00"), DAY) == at("2026-03-16", "00:00")


def test_the_plain_helpers_count_monday_to_friday():
    assert add_business_days(at("2026-04-02"), 1) == at("2026-04-03")
    assert business_days_between(at("2026-03-09"), at("2026-03-16")) == 5
    assert business_days_between(at("2026-03-16"), at("2026-03-09")) == -5


def test_the_program_calendar_reads_its_closed_days(db):
    program = f.ProgramFactory(calendar_country="GB", calendar_subdivision="ENG")
    ClosedDay.objects.create(program=program, date=datetime.date(2026, 3, 11), name="Offsite")
    assert not program.calendar().is_open(datetime.date(2026, 3, 11))
    assert not program.calendar().is_open(datetime.date(2026, 4, 3))


@pytest.mark.parametrize(
    ("country", "region", "field"),
    [
        ("XX", "", "calendar_country"),
        ("GB", "ZZZ", "calendar_subdivision"),
        ("", "ENG", "calendar_subdivision"),
    ],
)
def test_the_program_refuses_an_unknown_calendar(db, country, region, field):
    program = f.ProgramFactory.build(calendar_country=country, calendar_subdivision=region)
    with pytest.raises(ValidationError) as raised:
        program.full_clean()
    assert field in raised.value.message_dict
