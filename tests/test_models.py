"""What the database itself refuses: the constraints, and edits to the append-only events."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from claims.models import Claim, ClaimLine, Event
from customers.models import Association, ChangeRequest
from partners.models import Program, SowCatalog, SowCatalogItem
from tests import factories as f

DAY = datetime.timedelta(days=1)


def _refused(create) -> None:
    """`create` must raise IntegrityError, without spoiling the test's transaction."""
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


# --- Associations -------------------------------------------------------------------------


def _association(world, partner, *, ended_on=None, since=None):
    return Association.objects.create(
        customer=world.customer,
        workload=world.workloads[0],
        partner=partner,
        since=since or timezone.localdate() - 30 * DAY,
        ended_on=ended_on,
    )


def test_it_allows_one_active_association_per_customer_workload(world):
    _association(world, world.partner)
    _refused(lambda: _association(world, world.rival))
    _refused(lambda: _association(world, world.partner))
    assert Association.objects.count() == 1


def test_it_allows_a_new_association_once_the_old_one_ended(world):
    old = _association(world, world.rival, ended_on=timezone.localdate())
    new = _association(world, world.partner)
    earlier = _association(world, world.partner, ended_on=old.since, since=old.since - 9 * DAY)
    assert set(Association.objects.filter(ended_on=None)) == {new}
    assert Association.objects.filter(pk__in=[old.pk, earlier.pk]).count() == 2


def test_it_allows_the_same_workload_for_another_customer(world):
    _association(world, world.partner)
    other = Association.objects.create(
        customer=world.other_customer,
        workload=world.workloads[0],
        partner=world.rival,
        since=timezone.localdate(),
    )
    assert other.is_active


def test_it_refuses_an_association_that_ends_before_it_starts(world):
    today = timezone.localdate()
    _refused(lambda: _association(world, world.partner, since=today, ended_on=today - DAY))


# --- Claims -------------------------------------------------------------------------------


def test_it_refuses_a_second_claim_with_the_same_reference(world):
    claim = world.draft()

    def copy():
        Claim.objects.create(
            reference=claim.reference,
            partner=world.rival,
            customer=world.customer,
            program=world.program,
            created_by=world.approver,
        )

    _refused(copy)
    assert Claim.objects.filter(reference=claim.reference).count() == 1


def _line(claim, workload, *, start, end):
    return ClaimLine.objects.create(
        claim=claim, workload=workload, target_start=start, target_end=end, seats=10
    )


def test_it_refuses_a_line_that_ends_before_it_starts(world):
    claim = world.draft(workloads=world.workloads[:1])
    today = timezone.localdate()
    _refused(lambda: _line(claim, world.workloads[2], start=today, end=today - DAY))
    one_day = _line(claim, world.workloads[2], start=today, end=today)
    assert one_day.pk is not None


def test_it_refuses_two_lines_for_one_workload(world):
    claim = world.draft(workloads=world.workloads[:1])
    today = timezone.localdate()
    _refused(lambda: _line(claim, world.workloads[0], start=today, end=today))


# --- Programs and catalogs ----------------------------------------------------------------


def test_it_refuses_a_program_that_ends_before_it_starts(db):
    today = timezone.localdate()
    _refused(lambda: f.ProgramFactory(start_date=today, end_date=today - DAY))
    one_day = f.ProgramFactory(start_date=today, end_date=today)
    assert Program.objects.filter(pk=one_day.pk).exists()


def test_it_allows_one_catalog_per_partner_and_program(world):
    _refused(lambda: SowCatalog.objects.create(partner=world.partner, program=world.program))
    other_program = f.ProgramFactory()
    assert SowCatalog.objects.create(partner=world.partner, program=other_program).pk


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "allowed"),
    [
        (0, -1, False),
        (0, 0, True),
        (0, 30, True),
        (None, -1, True),
        (0, None, True),
        (None, None, True),
    ],
    ids=["ends-before-start", "one-day", "a-month", "no-start", "no-end", "open"],
)
def test_it_orders_catalog_item_dates(world, valid_from, valid_until, allowed):
    today = timezone.localdate()
    catalog = SowCatalog.objects.get(partner=world.partner, program=world.program)

    def create():
        return SowCatalogItem.objects.create(
            catalog=catalog,
            workload=world.workloads[2],
            valid_from=None if valid_from is None else today + valid_from * DAY,
            valid_until=None if valid_until is None else today + valid_until * DAY,
        )

    if allowed:
        assert create().pk is not None
    else:
        _refused(create)
        assert not catalog.items.filter(workload=world.workloads[2]).exists()


def test_it_refuses_a_catalog_item_listed_twice(world):
    catalog = SowCatalog.objects.get(partner=world.partner, program=world.program)
    _refused(lambda: SowCatalogItem.objects.create(catalog=catalog, workload=world.workloads[0]))


# --- Change requests ----------------------------------------------------------------------


def test_it_refuses_a_change_request_between_the_same_partner(world):
    def request(to_partner):
        return ChangeRequest.objects.create(
            customer=world.customer,
            workload=world.workloads[0],
            from_partner=world.rival,
            to_partner=to_partner,
            created_by=world.approver,
        )

    _refused(lambda: request(world.rival))
    assert request(world.partner).is_open


# --- Events are append-only ---------------------------------------------------------------


@pytest.fixture
def event(world):
    return Event.objects.filter(claim=world.submitted()).order_by("seq").first()


def _save(event):
    event.comment = "rewritten"
    event.save()


EDITS = {
    "save": _save,
    "delete": lambda e: e.delete(),
    "queryset-update": lambda e: Event.objects.filter(pk=e.pk).update(comment="rewritten"),
    "queryset-delete": lambda e: Event.objects.filter(pk=e.pk).delete(),
    "related-update": lambda e: e.claim.events.update(comment="rewritten"),
    "bulk-update": lambda e: Event.objects.bulk_update([e], ["comment"]),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_it_refuses_to_change_an_event(event, edit):
    # bulk_update fails inside its own atomic block, which spoils the enclosing one.
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        EDITS[edit](event)
    stored = Event.objects.get(pk=event.pk)
    assert stored.comment == "" and stored.hash == event.hash


@pytest.mark.services
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE claims_event SET comment = 'x' WHERE id = %s",
        "DELETE FROM claims_event WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_postgresql_refuses_raw_sql_on_events(event, sql):
    assert connection.vendor == "postgresql"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    stored = Event.objects.get(pk=event.pk)
    assert stored.comment == "" and stored.hash == event.hash
