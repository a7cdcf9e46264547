"""The claims team's sync conflicts at /review/sync-conflicts/: who sees them, the list
convention, keeping the portal's association or taking the vendor's, bad and stale input."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from claims_portal.audit import history
from claims_portal.partner_system import services
from claims_portal.partner_system.models import SyncConflict, SyncRun
from customers.models import Association
from tests import factories as f

D = datetime.date
URL = "/review/sync-conflicts/"


@pytest.fixture
def conflict(world) -> SyncConflict:
    portal = f.AssociationFactory(
        customer=world.customer,
        workload=world.workloads[0],
        partner=world.partner,
        since=D(2026, 1, 1),
    )
    run = SyncRun.objects.create(trigger="beat", adapter="file", status="succeeded")
    return SyncConflict.objects.create(
        customer=world.customer,
        workload=world.workloads[0],
        association=portal,
        portal_partner=world.partner,
        imported_partner=world.rival,
        kind=SyncConflict.Kind.OTHER_PARTNER,
        imported_since=D(2026, 3, 1),
        first_run=run,
        last_run=run,
    )


def _keep(pk):
    return reverse("sync_conflict_keep", args=[pk])


def _take(pk):
    return reverse("sync_conflict_take", args=[pk])


def test_the_url_is_the_one_the_reviewers_were_told():
    assert reverse("sync_conflicts") == URL


def test_the_claims_team_sees_open_conflicts(client, world, conflict):
    client.force_login(world.reviewer)
    page = client.get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert world.customer.name in text and "Fabrikam" in text and "Contoso" in text
    assert list(page.context["page_obj"]) == [conflict]


@pytest.mark.parametrize(
    "who", ["approver", "contributor", "partner_member", "partner_admin", "rival_member"]
)
def test_customers_and_partners_are_refused(client, world, conflict, who):
    client.force_login(getattr(world, who))
    assert client.get(URL).status_code == 403
    assert client.post(_keep(conflict.pk)).status_code == 403
    assert client.post(_take(conflict.pk)).status_code == 403
    conflict.refresh_from_db()
    assert conflict.is_open


def test_signed_out_goes_to_sign_in(client, conflict):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_filters_sort_and_csv(client, world, conflict):
    resolved = SyncConflict.objects.create(
        customer=world.other_customer,
        workload=world.workloads[1],
        portal_partner=world.rival,
        imported_partner=world.partner,
        kind=SyncConflict.Kind.ENDED,
        imported_since=D(2026, 1, 1),
        imported_ended_on=D(2026, 2, 1),
        first_run=conflict.first_run,
        last_run=conflict.last_run,
        state=SyncConflict.State.KEPT,
    )
    client.force_login(world.lead)

    def listed(query=""):
        return list(client.get(URL + query).context["page_obj"])

    assert listed() == [conflict]
    assert listed("?state=") == [resolved, conflict]
    assert listed("?state=kept") == [resolved]
    assert listed(f"?state=&workload={world.workloads[1].pk}") == [resolved]
    assert listed(f"?state=&partner={world.rival.pk}") == [resolved, conflict]
    assert listed("?state=&q=tailspin") == [resolved]
    assert listed("?state=&sort=oldest") == [conflict, resolved]
    assert listed(f"?state=&run={conflict.first_run_id}") == [resolved, conflict]
    response = client.get(URL + "?state=&export=csv")
    lines = b"".join(response.streaming_content).decode().strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("Found,Customer,Tenant")


@pytest.mark.parametrize(
    "query", ["?state=bogus", "?partner=abc", "?workload=999999", "?sort=x", "?q=" + "x" * 101]
)
def test_bad_parameters_are_form_errors_not_500(client, world, conflict, query):
    client.force_login(world.reviewer)
    page = client.get(URL + query)
    assert page.status_code == 200
    assert page.context["filter"].errors
    assert list(page.context["page_obj"]) == []


def test_the_list_runs_a_constant_number_of_queries(
    client, world, conflict, django_assert_max_num_queries
):
    for n in range(15):
        customer = f.CustomerFactory()
        SyncConflict.objects.create(
            customer=customer,
            workload=world.workloads[n % 3],
            portal_partner=world.partner,
            imported_partner=world.rival,
            kind=SyncConflict.Kind.OTHER_PARTNER,
            imported_since=D(2026, 1, 1),
            first_run=conflict.first_run,
            last_run=conflict.last_run,
        )
    client.force_login(world.reviewer)
    client.get(URL)  # warm the session and roles
    with django_assert_max_num_queries(12):
        assert client.get(URL).status_code == 200


def test_keeping_the_portals_association_is_recorded(client, world, conflict):
    client.force_login(world.reviewer)
    response = client.post(_keep(conflict.pk), {"note": "Checked with the customer."}, follow=True)
    assert "stays with Contoso" in response.content.decode()
    conflict.refresh_from_db()
    assert (conflict.state, conflict.resolved_by, conflict.note) == (
        SyncConflict.State.KEPT,
        world.reviewer,
        "Checked with the customer.",
    )
    assert conflict.association.ended_on is None
    [entry] = history(conflict)
    assert entry.action == "partner_system.conflict.kept"
    assert entry.actor_label == "rita@vendor.example"


def test_taking_the_vendors_record_moves_the_association(client, world, conflict):
    client.force_login(world.lead)
    response = client.post(_take(conflict.pk), follow=True)
    assert "now follows the vendor&#x27;s record: Fabrikam" in response.content.decode()
    portal = Association.objects.get(pk=conflict.association_id)
    assert portal.ended_on == D(2026, 3, 1)
    taken = Association.objects.get(
        customer=world.customer, workload=world.workloads[0], ended_on=None
    )
    assert (taken.partner, taken.since, taken.origin) == (
        world.rival,
        D(2026, 3, 1),
        "partner_system",
    )
    assert history(conflict).get().action == "partner_system.conflict.taken"


def test_taking_an_ended_record_ends_the_portals_association(world, conflict):
    SyncConflict.objects.filter(pk=conflict.pk).update(
        kind=SyncConflict.Kind.ENDED,
        imported_partner=world.partner,
        imported_ended_on=D(2026, 5, 1),
    )
    conflict.refresh_from_db()
    services.resolve_conflict(conflict, user=world.lead, take_vendors=True)
    assert Association.objects.get(pk=conflict.association_id).ended_on == D(2026, 5, 1)
    assert not Association.objects.filter(customer=world.customer, ended_on=None).exists()


def test_a_double_submit_is_told_it_was_resolved_already(client, world, conflict):
    client.force_login(world.reviewer)
    client.post(_take(conflict.pk))
    response = client.post(_keep(conflict.pk), follow=True)
    assert "was resolved already (Vendor" in response.content.decode()
    conflict.refresh_from_db()
    assert conflict.state == SyncConflict.State.TAKEN
    assert (
        Association.objects.filter(customer=world.customer, workload=world.workloads[0]).count()
        == 2
    )


def test_taking_a_record_whose_portal_association_changed_since_is_refused(client, world, conflict):
    Association.objects.filter(pk=conflict.association_id).update(ended_on=D(2026, 2, 1))
    f.AssociationFactory(
        customer=world.customer, workload=world.workloads[0], partner=world.partner
    )
    client.force_login(world.reviewer)
    response = client.post(_take(conflict.pk), follow=True)
    assert "changed since this conflict was found" in response.content.decode()
    conflict.refresh_from_db()
    assert conflict.is_open


def test_a_too_long_note_is_refused_and_nothing_changes(client, world, conflict):
    client.force_login(world.reviewer)
    response = client.post(_keep(conflict.pk), {"note": "x" * 2001}, follow=True)
    assert "The note is too long" in response.content.decode()
    conflict.refresh_from_db()
    assert conflict.is_open


def test_unknown_conflicts_and_wrong_methods(client, world, conflict):
    client.force_login(world.reviewer)
    assert client.post(_keep(999999)).status_code == 404
    assert client.get(_keep(conflict.pk)).status_code == 405
