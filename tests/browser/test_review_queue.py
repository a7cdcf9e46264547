"""The claims team at work in the browser: take, decide line by line, assign, bulk-approve."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from approvals.models import RejectionReason, ReviewTask
from claims.models import Claim, ClaimAction, Event
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _queued(world, **kwargs):
    return f.ClaimFactory(
        in_review=True,
        partner=kwargs.pop("partner", world.partner),
        customer=kwargs.pop("customer", world.customer),
        program=world.program,
        **kwargs,
    )


def test_the_claims_team_works_the_queue(new_page, check_page, world):
    RejectionReason.objects.create(code="no-delivery", label="Delivery not confirmed")
    teams, intune = world.workloads[1], world.workloads[2]
    two_lines = _queued(world, workloads=[teams, intune])
    first, second = (_queued(world, customer=world.other_customer) for _ in range(2))

    # A reviewer takes an unassigned item from the queue.
    reviewer = new_page(world.reviewer)
    reviewer.goto("/review/?view=unassigned")
    expect(reviewer.locator(".queue-views .active")).to_contain_text("Unassigned")
    check_page(reviewer, "queue-unassigned")
    reviewer.get_by_role("link", name=two_lines.reference).click()
    reviewer.get_by_role("button", name="Take it").click()
    expect(reviewer.locator(".alert-success")).to_contain_text("is yours now")
    expect(reviewer.get_by_text("Assigned to rita@vendor.example")).to_be_visible()

    # It approves one line and rejects the other with a reason from the list.
    reviewer.locator("fieldset", has_text="Microsoft Teams").get_by_text(
        "Approve", exact=True
    ).click()
    intune_line = reviewer.locator("fieldset", has_text="Microsoft Intune")
    intune_line.get_by_text("Reject", exact=True).click()
    intune_line.get_by_label("Reason for rejecting").select_option(label="Delivery not confirmed")
    intune_line.get_by_label("Note for the parties").fill("No deployment evidence for Intune")
    check_page(reviewer, "claim-deciding")
    reviewer.get_by_role("button", name="Record decision").click()
    expect(reviewer.locator(".alert-success")).to_contain_text("Decision on claim")
    expect(reviewer.locator("h1")).to_contain_text("Partially approved")
    expect(
        reviewer.get_by_text("Rejected by rita@vendor.example: Delivery not confirmed")
    ).to_be_visible()
    check_page(reviewer, "claim-decided")
    two_lines.refresh_from_db()
    assert two_lines.status == Claim.Status.PARTIALLY_APPROVED

    # A lead hands two items to the reviewer at once.
    lead = new_page(world.lead)
    lead.goto("/review/")
    for claim in (first, second):
        lead.get_by_label(f"Select {claim.reference}").check()
    lead.get_by_label("Assign to").select_option(label="rita@vendor.example")
    lead.get_by_role("button", name="Assign").click()
    expect(lead.locator(".alert-success")).to_contain_text(
        "2 claims assigned to rita@vendor.example"
    )
    check_page(lead, "queue-assigned")
    for claim in (first, second):
        assert ReviewTask.objects.get(claim=claim, state="open").assignee == world.reviewer
        assert Event.objects.filter(claim=claim, action=ClaimAction.ASSIGN).count() == 1

    # The reviewer approves both from "Mine" in one go.
    reviewer.goto("/review/")
    reviewer.get_by_role("link", name=re.compile(r"^Mine")).click()
    expect(reviewer.locator("tbody tr")).to_have_count(2)
    for claim in (first, second):
        reviewer.get_by_label(f"Select {claim.reference}").check()
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.locator(".alert-success")).to_contain_text("on 2 claims")
    check_page(reviewer, "queue-bulk-approved")
    for claim in (first, second):
        claim.refresh_from_db()
        assert claim.status == Claim.Status.APPROVED
        assert Event.objects.filter(claim=claim, action=ClaimAction.DECIDE).count() == 1

    reviewer.get_by_role("link", name=re.compile(r"^Recently decided")).click()
    expect(reviewer.locator("tbody tr")).to_have_count(3)
    check_page(reviewer, "queue-recently-decided")
