"""What the database itself refuses, whatever the code above it does."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from approvals.models import ChangeRequest
from claims.models import ClaimLine, Event
from customers.models import Association
from partners.models import Program, SowCatalog, SowCatalogItem

TODAY = timezone.localdate()


def _refused(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_one_active_association_per_customer_workload(world):
    def hold(partner, **extra):
        return Association.objects.create(
            customer=world.customer,
            workload=world.workloads[0],
            partner=partner,
            since=TODAY - datetime.timedelta(days=10),
            **extra,
        )

    first = hold(world.rival)
    _refused(lambda: hold(world.partner))
    first.ended_on = TODAY
    first.save()
    assert hold(world.partner).is_active
    _refused(lambda: hold(world.rival, ended_on=TODAY - datetime.timedelta(days=20)))


def test_one_catalog_per_partner_and_program(world):
    _refused(lambda: SowCatalog.objects.create(partner=world.partner, program=world.program))


def test_dates_that_make_sense(world):
    _refused(
        lambda: Program.objects.create(
            name="Backwards", slug="backwards", start_date=TODAY, end_date=TODAY.replace(year=2000)
        )
    )
    claim = world.draft(workloads=world.workloads[:1])
    _refused(
        lambda: ClaimLine.objects.create(
            claim=claim,
            workload=world.workloads[1],
            seats=5,
            target_start=TODAY,
            target_end=TODAY - datetime.timedelta(days=1),
        )
    )
    item = SowCatalogItem.objects.filter(catalog__partner=world.partner).first()
    item.valid_from, item.valid_until = TODAY, TODAY - datetime.timedelta(days=1)
    _refused(item.save)


def test_one_line_per_workload_and_unique_references(world):
    claim = world.draft(workloads=world.workloads[:1])
    other = world.draft(workloads=world.workloads[1:2])
    _refused(
        lambda: ClaimLine.objects.create(
            claim=claim,
            workload=world.workloads[0],
            seats=5,
            target_start=TODAY,
            target_end=TODAY,
        )
    )
    other.reference = claim.reference
    _refused(lambda: other.save(update_fields=["reference"]))


def test_a_change_needs_two_different_partners(world):
    _refused(
        lambda: ChangeRequest.objects.create(
            customer=world.customer,
            workload=world.workloads[0],
            from_partner=world.partner,
            to_partner=world.partner,
            created_by=world.approver,
        )
    )


def test_events_cannot_be_changed_through_the_orm(world):
    event = Event.objects.filter(claim=world.draft()).first()
    event.comment = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).update(comment="rewritten")
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).delete()


@pytest.mark.services
def test_postgresql_refuses_to_change_an_event(world):
    event = Event.objects.filter(claim=world.draft()).first()
    for sql in (
        "UPDATE claims_event SET comment = 'x' WHERE id = %s",
        "DELETE FROM claims_event WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert Event.objects.get(pk=event.pk).comment == ""
