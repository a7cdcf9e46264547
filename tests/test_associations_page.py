"""/associations/: the organisation's partners of record, read-only, per the list convention."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f

URL = "/associations/"


def _associate(world, workload, partner, **kwargs):
    return f.AssociationFactory(
        customer=world.customer, workload=workload, partner=partner, **kwargs
    )


def test_it_lists_who_holds_what_with_usage_and_the_granting_claim(client, world):
    claim = f.ClaimFactory(
        customer=world.customer, partner=world.partner, approved=True, workloads=world.workloads[:1]
    )
    _associate(
        world,
        world.workloads[1],
        world.rival,
        active_usage_pct=Decimal("12.50"),
        usage_growth_pct=Decimal("-3.0"),
    )
    f.AssociationFactory(customer=world.customer, workload=world.workloads[2], ended=True)
    f.AssociationFactory(customer=world.other_customer, partner=world.partner)
    client.force_login(world.contributor)
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Exchange Online" in body and "Contoso" in body
    assert reverse("customer_claim_detail", args=[claim.reference]) in body
    assert "Fabrikam" in body and "12.5 %" in body and "-3.0 %" in body
    assert "Imported" in body
    assert "Microsoft Intune" not in body  # ended associations are history, not today
    assert body.count("<tr>") == 3  # header + two rows: nothing of Tailspin's


def test_it_filters_sorts_and_exports_exactly_the_rows(client, world):
    _associate(world, world.workloads[0], world.partner)
    _associate(world, world.workloads[1], world.rival)
    client.force_login(world.approver)
    body = client.get(URL, {"partner": world.rival.pk}).content.decode()
    assert '<td class="fw-semibold">Microsoft Teams</td>' in body
    assert '<td class="fw-semibold">Exchange Online</td>' not in body
    response = client.get(URL, {"sort": "partner", "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["Service", "Partner of record"]
    assert [r[1] for r in rows[1:]] == ["Contoso", "Fabrikam"]


@pytest.mark.parametrize(
    "params", [{"sort": "nonsense"}, {"partner": "x"}, {"partner": "999999"}, {"q": "x" * 500}]
)
def test_bad_parameters_are_form_errors(client, world, params):
    client.force_login(world.approver)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert "Correct the filter above" in response.content.decode()


def test_a_partner_of_another_organisation_is_not_offered(client, world):
    f.AssociationFactory(customer=world.other_customer, partner=world.rival)
    _associate(world, world.workloads[0], world.partner)
    client.force_login(world.approver)
    assert client.get(URL, {"partner": world.rival.pk}).status_code == 200
    body = client.get(URL).content.decode()
    assert "Fabrikam" not in body


@pytest.mark.parametrize("who", ["partner_member", "reviewer"])
def test_it_is_for_customers_only(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get(URL).status_code == 403


def test_its_query_count_does_not_grow_with_the_rows(client, world):
    client.force_login(world.approver)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx)

    _associate(world, world.workloads[0], world.partner, source_claim=None)
    one = count()
    for _ in range(12):
        # An approved claim, with the association its line was granted (an association
        # always points to an approved line of its claim).
        f.ClaimFactory(
            customer=world.customer,
            partner=world.rival,
            approved=True,
            workloads=[f.WorkloadFactory()],
        )
    assert count() == one
