"""The audited history of objects other than claims: one entry point, hash-chained."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from claims_portal.audit import history, log_action, verify_history
from claims_portal.models import AuditEntry
from tests import factories as f


def test_it_chains_each_objects_entries(db):
    partner = f.PartnerFactory()
    other = f.PartnerFactory()
    user = f.UserFactory(email="admin@vendor.example")
    first = log_action(partner, "partners.partner.suspended", user=user, data={"why": "late"})
    second = log_action(partner, "partners.partner.reactivated", user=None)
    log_action(other, "partners.partner.suspended", user=user)
    entries = list(history(partner))
    assert [e.seq for e in entries] == [1, 2]
    assert [e.action for e in entries] == [
        "partners.partner.suspended",
        "partners.partner.reactivated",
    ]
    assert second.prev_hash == first.hash
    assert first.actor_label == "admin@vendor.example"
    assert second.actor_label == "Claims portal (automatic)"
    assert first.data == {"why": "late"}
    assert verify_history(partner) == []
    assert verify_history(other) == []


def test_registering_an_organisation_is_audited(db):
    from customers.services import register_customer

    user = f.UserFactory(email="nora@northwind.example")
    customer = register_customer(
        user=user, name="Northwind", tenant_id="northwind.example", segment="commercial", seats=9
    )
    registered, joined = history(customer)
    assert registered.action == "customers.customer.registered"
    assert registered.data == {
        "tenant_id": "northwind.example",
        "domains": ["northwind.example"],
        "approver": "nora@northwind.example",
    }
    assert joined.action == "customers.membership.joined"
    assert joined.data["role"] == "approver"


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            return
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE portal_auditentry DISABLE TRIGGER ALL")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("ALTER TABLE portal_auditentry ENABLE TRIGGER ALL")


def test_it_detects_an_altered_or_missing_entry(db):
    partner = f.PartnerFactory()
    for action in ("a.b.one", "a.b.two", "a.b.three"):
        log_action(partner, action)
    entries = list(history(partner))
    _tamper("UPDATE portal_auditentry SET data = %s WHERE id = %s", ['{"x": 1}', entries[0].pk])
    _tamper("DELETE FROM portal_auditentry WHERE id = %s", [entries[1].pk])
    problems = verify_history(partner)
    assert "entry 1 was altered after it was written" in problems
    assert "entry 2 is missing (next found is 3)" in problems


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: e.save(),
        lambda e: e.delete(),
        lambda e: AuditEntry.objects.filter(pk=e.pk).update(action="x"),
        lambda e: AuditEntry.objects.filter(pk=e.pk).delete(),
    ],
    ids=["save", "delete", "queryset-update", "queryset-delete"],
)
def test_it_refuses_to_change_an_entry(db, edit):
    entry = log_action(f.PartnerFactory(), "a.b.c")
    with pytest.raises(TypeError, match="append-only"):
        edit(entry)


@pytest.mark.services
def test_postgresql_refuses_raw_sql_on_entries(db):
    entry = log_action(f.PartnerFactory(), "a.b.c")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE portal_auditentry SET action = 'x' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "a.b.c"
