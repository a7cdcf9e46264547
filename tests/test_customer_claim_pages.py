"""The customer's /claims/ list and claim page: filters and CSV, each line's decision in
plain words, the readable history, routing with a message, withdrawing with a reason, and
query counts that do not grow with the data."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.models import Decision
from claims import lifecycle
from claims.content import ClaimInput, LineInput
from claims.models import Claim, ClaimLine, Comment
from tests import factories as f

LIST = "/claims/"


def _page(claim):
    return reverse("customer_claim_detail", args=[claim.reference])


def _input(world, workloads, seats=500, email="sam@woodgrove.example"):
    today = timezone.localdate()
    return ClaimInput(
        survey_contact_mode=Claim.SurveyContactMode.ONE_FOR_ALL,
        survey_contact_name="Sam Survey",
        survey_contact_email=email,
        lines=[
            LineInput(
                workload_id=w.pk,
                target_start=today + datetime.timedelta(days=1),
                target_end=today + datetime.timedelta(days=90),
                seats=seats,
            )
            for w in workloads
        ],
    )


# --- the list ------------------------------------------------------------------------------


def test_it_filters_by_partner_workload_state_and_date_and_searches(client, world):
    mine = world.submitted(workloads=world.workloads[:1])
    rivals = world.submitted(partner=world.rival, workloads=world.workloads[2:])
    draft = world.draft(workloads=world.workloads[1:2])
    client.force_login(world.contributor)

    def refs(**params):
        body = client.get(LIST, params).content.decode()
        return {c.reference for c in (mine, rivals, draft) if c.reference in body}

    assert refs(partner=world.rival.pk) == {rivals.reference}
    assert refs(workload=world.workloads[1].pk) == {draft.reference}
    assert refs(status="draft") == {draft.reference}
    today = timezone.localdate().isoformat()
    assert refs(submitted_from=today) == {mine.reference, rivals.reference}
    assert refs(q="fabrikam") == {rivals.reference}
    assert refs(q=mine.reference[-4:]) == {mine.reference}


def test_the_partner_filter_offers_only_this_organisations_partners(client, world):
    world.submitted()
    stranger = f.PartnerFactory(name="Stranger Ltd")
    client.force_login(world.approver)
    body = client.get(LIST).content.decode()
    assert "Contoso" in body and "Stranger Ltd" not in body
    response = client.get(LIST, {"partner": stranger.pk})
    assert "Correct the filter above" in response.content.decode()


def test_the_csv_has_exactly_the_filtered_rows(client, world):
    world.submitted(workloads=world.workloads[:1])
    rivals = world.submitted(partner=world.rival, workloads=world.workloads[2:])
    client.force_login(world.approver)
    response = client.get(LIST, {"partner": world.rival.pk, "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[0] for row in rows[1:]] == [rivals.reference]


@pytest.mark.parametrize(
    "params",
    [{"status": "nope"}, {"partner": "x"}, {"submitted_from": "yesterday"}, {"sort": "'; --"}],
)
def test_bad_list_parameters_are_form_errors(client, world, params):
    client.force_login(world.approver)
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert "Correct the filter above" in response.content.decode()


# --- the claim page --------------------------------------------------------------------------


def test_each_line_says_its_decision_in_plain_words(client, world):
    claim = f.ClaimFactory(
        customer=world.customer,
        partner=world.partner,
        program=world.program,
        in_review=True,
        workloads=world.workloads[:2],
    )
    approved, review = claim.lines.order_by("workload__name")
    approved.status = ClaimLine.Status.APPROVED
    approved.save()
    # A later check of the line (decisions are append-only): its reasons are what counts.
    Decision.objects.create(
        line=review, passed=False, reason_codes=["existing_claim", "below_minimum"], results=[]
    )
    client.force_login(world.contributor)
    body = client.get(_page(claim)).content.decode()
    assert "Approved: Contoso is your partner of record for it." in body
    assert "With the vendor&#x27;s claims team, because:" in body
    assert "Another partner is your partner of record for it, or has an open claim" in body
    assert "fewer seats than the program&#x27;s minimum" in body
    assert "below_minimum" not in body


def test_the_history_says_what_changed_between_versions(client, world):
    claim = world.draft(workloads=world.workloads[:2])
    lifecycle.update_claim(
        claim,
        user=world.approver,
        data=_input(
            world,
            [world.workloads[0], world.workloads[2]],
            seats=450,
            email="kim@woodgrove.example",
        ),
    )
    client.force_login(world.approver)
    body = client.get(_page(claim)).content.decode()
    assert "What changed" in body
    assert "Exchange Online</span>: target start" in body and "; seats 500 → 450" in body
    assert "Microsoft Teams</span>: removed" in body
    assert "Microsoft Intune</span>: added:" in body
    assert "email: sam@customer.example → kim@woodgrove.example" in body
    assert "{&#x27;" not in body  # no raw dictionaries


def test_the_approver_sees_the_message_and_what_changed_since_routing(client, world):
    claim = world.draft(user=world.contributor, workloads=world.workloads[:1])
    client.force_login(world.contributor)
    response = client.post(
        reverse("customer_claim_route", args=[claim.reference]),
        {"route-message": "Alex, seats are from the March count."},
    )
    assert response.status_code == 302
    # Changed after routing (a contributor may still edit while it waits).
    lifecycle.update_claim(
        claim, user=world.contributor, data=_input(world, world.workloads[:1], 350)
    )
    client.force_login(world.approver)
    body = client.get(_page(claim)).content.decode()
    assert "Sent for signing by casey@woodgrove.example" in body
    assert "Alex, seats are from the March count." in body
    assert "Changed since it was sent" in body
    assert "seats 500 → 350" in body


def test_routing_an_unchanged_claim_says_nothing_changed(client, world):
    claim = world.draft(user=world.contributor)
    lifecycle.route_to_approver(claim, user=world.contributor)
    client.force_login(world.approver)
    assert "Nothing: the claim is as it was sent" in client.get(_page(claim)).content.decode()


def test_a_route_message_too_long_is_explained(client, world):
    claim = world.draft(user=world.contributor)
    client.force_login(world.contributor)
    response = client.post(
        reverse("customer_claim_route", args=[claim.reference]), {"route-message": "m" * 10_000}
    )
    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DRAFT


def test_the_return_comment_shows_on_the_page_and_the_form(client, world):
    claim = world.submitted()
    lifecycle.return_to_customer(claim, user=world.partner_member, comment="Teams seats: 120")
    client.force_login(world.approver)
    body = client.get(_page(claim)).content.decode()
    assert "Returned for corrections" in body and "Teams seats: 120" in body
    form = client.get(reverse("claim_edit", args=[claim.reference])).content.decode()
    assert "Teams seats: 120" in form


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "Say why the claim is withdrawn"), ("w" * 10_000, "at most 4000 characters")],
)
def test_withdrawing_needs_a_reason(client, world, reason, message):
    claim = world.submitted()
    client.force_login(world.approver)
    response = client.post(
        reverse("customer_claim_withdraw", args=[claim.reference]), {"withdraw-comment": reason}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_PARTNER


def test_a_decided_claim_cannot_be_withdrawn(client, world):
    claim = f.ClaimFactory(
        customer=world.customer, partner=world.partner, program=world.program, approved=True
    )
    client.force_login(world.approver)
    response = client.post(
        reverse("customer_claim_withdraw", args=[claim.reference]), {"withdraw-comment": "oops"}
    )
    assert response.status_code == 409
    assert "can no longer be withdrawn" in response.content.decode()


# --- query counts ------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def _busy_claim(world, n_lines):
    workloads = [f.WorkloadFactory() for _ in range(n_lines)]
    claim = f.ClaimFactory(
        customer=world.customer,
        partner=world.partner,
        program=world.program,
        in_review=True,
        workloads=workloads,
        created_by=world.approver,
    )
    for i in range(n_lines):
        Comment.objects.create(claim=claim, author=world.approver, body=f"comment {i}")
    return claim


def test_the_list_query_count_does_not_grow(client, world):
    client.force_login(world.approver)
    f.ClaimFactory(customer=world.customer, partner=world.partner, program=world.program)
    one = _queries(client, LIST)
    for _ in range(15):
        f.ClaimFactory(customer=world.customer, partner=f.PartnerFactory(), in_review=True)
    assert _queries(client, LIST) == one


def test_the_claim_page_query_count_does_not_grow(client, world):
    client.force_login(world.approver)
    small = _busy_claim(world, 1)
    big = _busy_claim(world, 12)
    assert _queries(client, _page(big)) == _queries(client, _page(small))


def test_the_signing_page_query_count_does_not_grow(client, world):
    # A draft the approver can sign: the check before signing and today's partners too.
    client.force_login(world.approver)
    # Both with an edit that dropped a service (its name is looked up for the history).
    small = world.draft(workloads=world.workloads[:2])
    lifecycle.update_claim(small, user=world.approver, data=_input(world, world.workloads[:1]))
    more = [f.WorkloadFactory() for _ in range(8)]
    world.program.workloads.add(*more)
    for workload in more:
        f.AssociationFactory(customer=world.customer, workload=workload, partner=world.rival)
    big = lifecycle.create_claim(
        customer=world.customer,
        partner=world.partner,
        program=world.program,
        user=world.approver,
        data=_input(world, [*world.workloads, *more]),
    )
    for i in range(5):
        lifecycle.update_claim(big, user=world.approver, data=_input(world, more[: i + 2]))
    assert "The check before signing" in client.get(_page(big)).content.decode()
    assert _queries(client, _page(big)) == _queries(client, _page(small))
