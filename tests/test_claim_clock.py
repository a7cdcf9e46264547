"""The clock, driven with time_machine: business days on the program's calendar, a pause
and a resume, a reminder before the deadline, an escalation after it, beat run twice."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from approvals import deadlines
from approvals.models import ReviewTask
from claims import clock, lifecycle
from claims.events import verify_chain
from claims.models import Claim, ClaimAction, Event, Notification
from tests.test_concurrency import _race

S = Claim.Status
DAY = datetime.timedelta(days=1)


def at(day: str, time: str = "10:00") -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(f"{day}T{time}"))


@pytest.fixture
def england(world):
    """The world's program on England's calendar, reminding a business day ahead."""
    program = world.program
    program.calendar_country, program.calendar_subdivision = "GB", "ENG"
    program.reminder_days = 1
    # Running through the days these tests travel to, so claims' target dates fall within it.
    program.start_date, program.end_date = datetime.date(2026, 1, 1), datetime.date(2027, 12, 31)
    program.save()
    return world


def _submit(world):
    return world.submitted(workloads=[world.workloads[0], world.workloads[2]])


def _confirm(world, claim, capture):
    with capture(execute=True):
        lifecycle.confirm_claim(claim, user=world.partner_member)
    claim.refresh_from_db()
    return claim


def _words(claim):
    return [(row.party, row.running, row.in_words) for row in clock.clocks(claim)]


def test_a_week_with_a_public_holiday(england, time_machine, client):
    # Submitted on the Wednesday before Easter: Good Friday and Easter Monday do not count.
    time_machine.move_to(at("2026-04-01"), tick=False)
    claim = _submit(england)
    assert claim.due_at == at("2026-04-10")
    assert claim.remind_at == at("2026-04-09")

    time_machine.move_to(at("2026-04-07"), tick=False)
    claim.refresh_from_db()
    # Thursday, then Tuesday: two business days gone, three left.
    assert _words(claim) == [(clock.Party.PARTNER, True, "3 business days left")]
    client.force_login(england.approver)
    body = client.get(reverse("customer_claim_detail", args=[claim.reference])).content.decode()
    assert "Contoso" in body and "confirms or returns the claim" in body
    assert "due Fri 10 Apr 2026, 10:00" in body and "3 business days left" in body

    time_machine.move_to(at("2026-04-13", "14:00"), tick=False)
    assert _words(claim) == [(clock.Party.PARTNER, True, "1 business day overdue")]


def test_the_claims_teams_clock_pauses_while_the_customer_corrects(
    england, time_machine, client, django_capture_on_commit_callbacks
):
    time_machine.move_to(at("2026-03-09"), tick=False)  # a Monday
    claim = _confirm(england, _submit(england), django_capture_on_commit_callbacks)
    assert claim.status == S.IN_REVIEW
    assert claim.due_at == at("2026-03-16")

    # Wednesday: returned to the customer with 3 business days of the team's 5 left.
    time_machine.move_to(at("2026-03-11"), tick=False)
    claim = lifecycle.return_from_review(claim, user=england.reviewer, comment="Add the SOW")
    assert claim.review_time_left == 3 * DAY
    assert claim.due_at == at("2026-03-25")  # the customer's 10 business days
    assert _words(claim) == [
        (clock.Party.CUSTOMER, True, "10 business days left"),
        (clock.Party.CLAIMS_TEAM, False, "paused with 3 business days left"),
    ]
    for page, who in [
        ("review_claim_detail", england.reviewer),
        ("partner_claim_detail", england.partner_member),
        ("customer_claim_detail", england.approver),
    ]:
        client.force_login(who)
        body = client.get(reverse(page, args=[claim.reference])).content.decode()
        assert "paused with 3 business days left" in body, page

    # The team's old deadline passes while the customer has the claim: nothing escalates.
    time_machine.move_to(at("2026-03-17"), tick=False)
    assert deadlines.sweep() == {"reminded": 0, "escalated": 0}

    claim = lifecycle.resubmit(claim, user=england.approver, signed_name="Alex", attested=True)
    assert claim.status == S.AWAITING_PARTNER
    assert claim.due_at == at("2026-03-24")  # the partner's 5, from scratch
    assert claim.review_time_left == 3 * DAY

    # The partner confirms on Wednesday afternoon: the team resumes with its 3 days.
    time_machine.move_to(at("2026-03-18", "14:00"), tick=False)
    claim = _confirm(england, claim, django_capture_on_commit_callbacks)
    assert claim.status == S.IN_REVIEW
    assert claim.due_at == at("2026-03-23", "14:00")
    assert claim.review_time_left is None
    assert ReviewTask.objects.get(claim=claim, state="open").due_at == claim.due_at


def test_the_partners_clock_pauses_when_it_returns_the_claim(england, time_machine):
    time_machine.move_to(at("2026-03-09"), tick=False)
    claim = _submit(england)
    time_machine.move_to(at("2026-03-10", "16:00"), tick=False)  # 1 day 6 hours used
    claim = lifecycle.return_to_customer(claim, user=england.partner_member, comment="Seats?")
    assert claim.partner_time_left == datetime.timedelta(days=3, hours=18)
    time_machine.move_to(at("2026-03-12"), tick=False)
    claim = lifecycle.resubmit(claim, user=england.approver, signed_name="Alex", attested=True)
    assert claim.due_at == at("2026-03-18", "04:00")
    assert claim.partner_time_left is None


def test_returned_to_the_partner_the_team_waits_for_its_confirmation(
    england, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at("2026-03-09"), tick=False)
    claim = _confirm(england, _submit(england), django_capture_on_commit_callbacks)
    time_machine.move_to(at("2026-03-10"), tick=False)
    claim = lifecycle.return_to_partner(claim, user=england.reviewer, comment="Upload the SOW")
    assert claim.status == S.AWAITING_PARTNER
    assert claim.review_time_left == 4 * DAY
    assert claim.due_at == at("2026-03-17")
    event = claim.events.order_by("-seq").first()
    assert (event.action, event.comment) == (ClaimAction.REVIEW_RETURN_PARTNER, "Upload the SOW")
    assert not ReviewTask.objects.filter(claim=claim, state="open").exists()

    time_machine.move_to(at("2026-03-11"), tick=False)
    claim = _confirm(england, claim, django_capture_on_commit_callbacks)
    assert claim.due_at == at("2026-03-17")  # Wednesday + the 4 days it had left
    assert not verify_chain(claim)


def test_a_reminder_before_the_deadline_goes_out_once(
    england, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at("2026-04-01"), tick=False)
    claim = _submit(england)
    mail.outbox.clear()

    time_machine.move_to(at("2026-04-09", "09:59"), tick=False)
    assert deadlines.sweep() == {"reminded": 0, "escalated": 0}
    time_machine.move_to(at("2026-04-09", "10:00"), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep() == {"reminded": 1, "escalated": 0}
    assert deadlines.sweep() == {"reminded": 0, "escalated": 0}

    event = Event.objects.get(claim=claim, action=ClaimAction.REMIND)
    assert event.changes == {"party": "partner", "due": at("2026-04-10").isoformat()}
    assert (event.from_status, event.to_status) == (S.AWAITING_PARTNER, S.AWAITING_PARTNER)
    told = set(Notification.objects.filter(event=event).values_list("user__email", flat=True))
    assert told == {"pat@contoso.example", "boss@contoso.example"}
    assert {m.to[0] for m in mail.outbox} == told
    assert all(m.subject == f"{claim.reference}: Reminder sent" for m in mail.outbox)
    assert not verify_chain(claim)


def test_an_unconfirmed_claim_escalates_to_the_leads_and_the_partners_admins(
    england, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at("2026-04-01"), tick=False)
    claim = _submit(england)
    time_machine.move_to(at("2026-04-10", "10:00"), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep() == {"reminded": 1, "escalated": 1}
    assert deadlines.sweep() == {"reminded": 0, "escalated": 0}
    event = Event.objects.get(claim=claim, action=ClaimAction.ESCALATE)
    assert event.changes["to"] == ["claims_leads", "partner_admins"]
    told = set(Notification.objects.filter(event=event).values_list("user__email", flat=True))
    assert told == {"lee@vendor.example", "boss@contoso.example"}
    lead_mail = next(m for m in mail.outbox if m.to == ["lee@vendor.example"])
    assert f"/review/claims/{claim.reference}/" in lead_mail.body


def test_an_overdue_review_escalates_to_the_leads_and_reminds_the_assignee(
    england, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at("2026-03-09"), tick=False)
    claim = _confirm(england, _submit(england), django_capture_on_commit_callbacks)
    ReviewTask.objects.filter(claim=claim).update(assignee=england.reviewer)
    time_machine.move_to(at("2026-03-16", "11:00"), tick=False)
    assert deadlines.sweep() == {"reminded": 1, "escalated": 1}
    reminded = Event.objects.get(claim=claim, action=ClaimAction.REMIND)
    escalated = Event.objects.get(claim=claim, action=ClaimAction.ESCALATE)
    assert set(reminded.notifications.values_list("user__email", flat=True)) == {
        "rita@vendor.example"
    }
    assert set(escalated.notifications.values_list("user__email", flat=True)) == {
        "lee@vendor.example"
    }


def test_a_new_step_gives_a_new_reminder(england, time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(at("2026-04-01"), tick=False)
    claim = _submit(england)
    time_machine.move_to(at("2026-04-09", "12:00"), tick=False)
    assert deadlines.sweep()["reminded"] == 1
    claim = _confirm(england, claim, django_capture_on_commit_callbacks)
    assert claim.status == S.IN_REVIEW
    assert (claim.reminded_at, claim.escalated_at) == (None, None)
    time_machine.move_to(at("2026-04-15", "12:00"), tick=False)
    assert deadlines.sweep() == {"reminded": 1, "escalated": 0}
    assert Event.objects.filter(claim=claim, action=ClaimAction.REMIND).count() == 2


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_beat_twice_at_the_same_instant_sends_each_notice_once(england, stray_connections_closed):
    with time_machine.travel(at("2026-04-01"), tick=False):
        claim = _submit(england)
    with time_machine.travel(at("2026-04-10", "11:00"), tick=False):
        outcomes = _race(deadlines.sweep, deadlines.sweep)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o["reminded"] for o in outcomes) == 1
    assert sum(o["escalated"] for o in outcomes) == 1
    assert Event.objects.filter(claim=claim, action=ClaimAction.REMIND).count() == 1
    assert Event.objects.filter(claim=claim, action=ClaimAction.ESCALATE).count() == 1
    assert not verify_chain(Claim.objects.get(pk=claim.pk))


def test_a_decided_claim_has_no_clock(england, time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(at("2026-03-09"), tick=False)
    claim = _confirm(england, _submit(england), django_capture_on_commit_callbacks)
    claim = lifecycle.return_from_review(claim, user=england.reviewer, comment="Fix")
    claim = lifecycle.withdraw(claim, user=england.approver)
    assert (claim.due_at, claim.remind_at, claim.review_time_left) == (None, None, None)
    assert clock.clocks(claim) == []
