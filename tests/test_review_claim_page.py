"""One claim in review: who may see it, assignment, per-line decisions, the page's content."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.urls import reverse

from approvals import assignment
from approvals.models import (
    AssignmentRule,
    LineVerdict,
    RejectionReason,
    ReviewerAvailability,
    ReviewTask,
)
from claims import lifecycle
from claims.lifecycle import ClaimError
from claims.models import Claim, ClaimAction, ClaimLine, Event
from partners.models import SowCatalogItem
from tests import factories as f
from tests.test_concurrency import _race

OK, LOGIN, FORBIDDEN, NOT_FOUND = 200, 302, 403, 404


@pytest.fixture
def queued(world, django_capture_on_commit_callbacks):
    """Exchange (approved at once) and Intune (not in Contoso's catalog: in review)."""
    claim = world.submitted(workloads=[world.workloads[0], world.workloads[2]])
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.confirm_claim(claim, user=world.partner_member)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.IN_REVIEW
    return claim


@pytest.fixture
def reason(db):
    return RejectionReason.objects.create(code="no-delivery", label="Delivery not confirmed")


def _task(claim):
    return ReviewTask.objects.get(claim=claim, state="open")


def _page(client, claim):
    return client.get(reverse("review_claim_detail", args=[claim.reference]))


# --- Who may ask --------------------------------------------------------------------------

CLAIM_URLS = [
    ("get", "review_claim_detail"),
    ("get", "review_claim_sow"),
    ("post", "review_claim_decide"),
    ("post", "review_claim_return"),
    ("post", "review_claim_return_partner"),
    ("post", "review_claim_take"),
    ("post", "review_claim_release"),
    ("post", "review_claim_assign"),
]
LIST_URLS = [
    ("get", "review_queue"),
    ("post", "review_bulk_approve"),
    ("post", "review_bulk_reject"),
    ("post", "review_bulk_assign"),
]
OUTSIDERS = ["approver", "contributor", "partner_member", "partner_admin", "rival_member"]


@pytest.mark.parametrize(("method", "name"), CLAIM_URLS)
@pytest.mark.parametrize("who", OUTSIDERS)
def test_customers_and_partners_find_no_review_claim_url(client, world, queued, method, name, who):
    client.force_login(getattr(world, who))
    response = getattr(client, method)(reverse(name, args=[queued.reference]))
    assert response.status_code == NOT_FOUND
    assert Event.objects.filter(claim=queued).count() == queued.events.count()


@pytest.mark.parametrize(("method", "name"), LIST_URLS)
@pytest.mark.parametrize("who", OUTSIDERS)
def test_customers_and_partners_are_refused_the_queue(client, world, queued, method, name, who):
    client.force_login(getattr(world, who))
    response = getattr(client, method)(reverse(name), {"bulk-claims": [queued.reference]})
    assert response.status_code == FORBIDDEN
    queued.refresh_from_db()
    assert queued.status == Claim.Status.IN_REVIEW


@pytest.mark.parametrize(("method", "name"), CLAIM_URLS + LIST_URLS)
def test_anonymous_visitors_are_sent_to_sign_in(client, world, queued, method, name):
    args = [queued.reference] if (method, name) in CLAIM_URLS else []
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == LOGIN
    assert "/accounts/login/" in response.url


# --- Taking and assigning -------------------------------------------------------------------


def test_a_reviewer_takes_an_unassigned_item_and_it_is_in_the_history(client, world, queued):
    client.force_login(world.reviewer)
    response = client.post(reverse("review_claim_take", args=[queued.reference]))
    assert response.status_code == 302
    assert _task(queued).assignee == world.reviewer
    event = Event.objects.get(claim=queued, action=ClaimAction.ASSIGN)
    assert (event.actor, event.changes) == (
        world.reviewer,
        {"assignee": "rita@vendor.example", "previous": ""},
    )
    body = _page(client, queued).content.decode()
    assert "Assigned to rita@vendor.example" in body
    assert "Assigned in the claims team" in body  # the history entry


def test_a_reviewer_cannot_take_or_reassign_anothers_item(client, world, queued):
    other = f.claims_team_user(email="omar@vendor.example")
    assignment.take(queued, user=other)
    client.force_login(world.reviewer)
    response = client.post(reverse("review_claim_take", args=[queued.reference]))
    assert response.status_code == 409
    assert "omar@vendor.example has claim" in response.content.decode()
    response = client.post(
        reverse("review_claim_assign", args=[queued.reference]),
        {"assign-assignee": world.reviewer.pk},
    )
    assert response.status_code == FORBIDDEN
    response = client.post(reverse("review_claim_release", args=[queued.reference]))
    assert response.status_code == 409
    assert _task(queued).assignee == other
    with pytest.raises(ClaimError, match="Only a claims lead"):
        assignment.assign(queued, to=world.lead, by=world.reviewer)


def test_a_lead_reassigns_an_item(client, world, queued):
    assignment.take(queued, user=world.reviewer)
    other = f.claims_team_user(email="omar@vendor.example")
    client.force_login(world.lead)
    response = client.post(
        reverse("review_claim_assign", args=[queued.reference]), {"assign-assignee": other.pk}
    )
    assert response.status_code == 302
    assert _task(queued).assignee == other
    last = Event.objects.filter(claim=queued, action=ClaimAction.ASSIGN).last()
    assert last.actor == world.lead
    assert last.changes == {"assignee": "omar@vendor.example", "previous": "rita@vendor.example"}
    # The new assignee hears of it.
    assert last.notifications.get().user == other


def test_a_lead_cannot_assign_to_someone_outside_the_team(client, world, queued):
    client.force_login(world.lead)
    response = client.post(
        reverse("review_claim_assign", args=[queued.reference]),
        {"assign-assignee": world.partner_member.pk},
    )
    assert response.status_code == 400
    assert _task(queued).assignee is None


def test_a_reviewer_gives_back_their_own_item(client, world, queued):
    assignment.take(queued, user=world.reviewer)
    client.force_login(world.reviewer)
    client.post(reverse("review_claim_release", args=[queued.reference]))
    assert _task(queued).assignee is None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_taking_at_once_one_wins(world, stray_connections_closed):
    claim = f.ClaimFactory(in_review=True, partner=world.partner, program=world.program)
    other = f.claims_team_user(email="omar@vendor.example")
    outcomes = _race(
        lambda: assignment.take(Claim.objects.get(pk=claim.pk), user=world.reviewer),
        lambda: assignment.take(Claim.objects.get(pk=claim.pk), user=other),
    )
    losers = [o for o in outcomes if isinstance(o, ClaimError)]
    assert len(losers) == 1 and "has claim" in str(losers[0]), outcomes
    assert Event.objects.filter(claim=claim, action=ClaimAction.ASSIGN).count() == 1


# --- Automatic assignment ----------------------------------------------------------------


def _enter_queue(world, capture, *, partner=None):
    claim = world.submitted(workloads=[world.workloads[2]], partner=partner or world.partner)
    with capture(execute=True):
        lifecycle.confirm_claim(
            claim, user=world.partner_member if partner is None else world.rival_member
        )
    claim.refresh_from_db()
    return claim


def test_round_robin_skips_reviewers_marked_away(world, django_capture_on_commit_callbacks):
    a = f.claims_team_user(email="a@vendor.example")
    b = f.claims_team_user(email="b@vendor.example")
    c = f.claims_team_user(email="c@vendor.example")
    ReviewerAvailability.objects.create(user=b, is_away=True)
    rule = AssignmentRule.objects.create(name="Everyone")
    rule.reviewers.set([a, b, c])
    got = []
    for _ in range(3):
        claim = _enter_queue(world, django_capture_on_commit_callbacks)
        got.append(_task(claim).assignee)
        # Free the workload so the next claim is not a duplicate of this one.
        Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.WITHDRAWN)
        ReviewTask.objects.filter(claim=claim).update(state="done")
    assert got == [a, c, a]
    event = Event.objects.filter(action=ClaimAction.ASSIGN).first()
    assert event.actor is None and event.changes["rule"] == "Everyone"
    assert event.actor_role == "system"


def test_a_partner_rule_comes_before_the_general_one(world, django_capture_on_commit_callbacks):
    specialist = f.claims_team_user(email="spec@vendor.example")
    general = f.claims_team_user(email="gen@vendor.example")
    AssignmentRule.objects.create(name="Fabrikam", position=1, partner=world.rival).reviewers.set(
        [specialist]
    )
    AssignmentRule.objects.create(name="Rest", position=2).reviewers.set([general])
    AssignmentRule.objects.create(
        name="Other program", position=0, program=f.ProgramFactory()
    ).reviewers.set([world.lead])
    # Nothing pre-approved for Fabrikam: its claim is queued.
    SowCatalogItem.objects.filter(catalog__partner=world.rival).delete()
    fabrikam = _enter_queue(world, django_capture_on_commit_callbacks, partner=world.rival)
    assert _task(fabrikam).assignee == specialist


def test_when_everyone_of_a_rule_is_away_the_next_rule_applies(
    world, django_capture_on_commit_callbacks
):
    away = f.claims_team_user(email="away@vendor.example")
    ReviewerAvailability.objects.create(user=away, is_away=True)
    AssignmentRule.objects.create(name="First", position=1).reviewers.set([away])
    AssignmentRule.objects.create(name="Fallback", position=2).reviewers.set([world.reviewer])
    claim = _enter_queue(world, django_capture_on_commit_callbacks)
    assert _task(claim).assignee == world.reviewer


def test_without_rules_the_item_waits_unassigned(world, django_capture_on_commit_callbacks):
    claim = _enter_queue(world, django_capture_on_commit_callbacks)
    assert _task(claim).assignee is None
    assert not Event.objects.filter(claim=claim, action=ClaimAction.ASSIGN).exists()


def test_leads_edit_the_rules_in_admin_and_reviewers_cannot(client, world):
    lead = f.claims_team_user(lead=True, email="staff-lead@vendor.example")
    reviewer = f.claims_team_user(email="staff-rev@vendor.example")
    for user in (lead, reviewer):
        user.is_staff = True
        user.save()
    add = reverse("admin:approvals_assignmentrule_add")
    client.force_login(reviewer)
    assert client.get(add).status_code == FORBIDDEN
    assert (
        client.post(add, {"name": "Mine", "position": 0, "reviewers": [reviewer.pk]}).status_code
        == FORBIDDEN
    )
    client.force_login(lead)
    assert client.get(add).status_code == OK
    response = client.post(
        add, {"name": "Round robin", "position": 0, "is_active": "on", "reviewers": [reviewer.pk]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert AssignmentRule.objects.get().reviewers.get() == reviewer
    assert (
        Group.objects.get(name="claims_lead")
        .permissions.filter(codename="change_assignmentrule")
        .exists()
    )


# --- Deciding -------------------------------------------------------------------------------


def test_it_decides_each_line_with_its_own_reason(client, world, reason):
    claim = f.ClaimFactory(
        in_review=True,
        partner=world.partner,
        customer=world.customer,
        program=world.program,
        workloads=world.workloads[1:],
    )
    teams, intune = sorted(claim.lines.all(), key=lambda line: line.workload.code)[::-1]
    client.force_login(world.reviewer)
    response = client.post(
        reverse("review_claim_decide", args=[claim.reference]),
        {
            f"line_{teams.pk}": "approve",
            f"line_{intune.pk}": "reject",
            f"reason_{intune.pk}": reason.pk,
            f"note_{intune.pk}": "No deployment evidence",
        },
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PARTIALLY_APPROVED
    verdicts = {v.line_id: v for v in LineVerdict.objects.filter(line__claim=claim)}
    assert verdicts[teams.pk].approved and not verdicts[intune.pk].approved
    assert (verdicts[intune.pk].reason, verdicts[intune.pk].note) == (
        reason,
        "No deployment evidence",
    )
    body = _page(client, claim).content.decode()
    assert "Rejected by rita@vendor.example: Delivery not confirmed" in body


def test_a_rejection_without_a_reason_keeps_what_was_typed(client, world, queued, reason):
    line = queued.lines.get(status=ClaimLine.Status.IN_REVIEW)
    client.force_login(world.reviewer)
    response = client.post(
        reverse("review_claim_decide", args=[queued.reference]),
        {f"line_{line.pk}": "reject", f"note_{line.pk}": "Typed with care", "comment": "Hello"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Give the reason for rejecting" in body
    assert "Typed with care" in body and "Hello" in body


def test_an_inactive_reason_cannot_be_picked(client, world, queued, reason):
    reason.is_active = False
    reason.save()
    line = queued.lines.get(status=ClaimLine.Status.IN_REVIEW)
    client.force_login(world.reviewer)
    response = client.post(
        reverse("review_claim_decide", args=[queued.reference]),
        {f"line_{line.pk}": "reject", f"reason_{line.pk}": reason.pk},
    )
    assert response.status_code == 400
    queued.refresh_from_db()
    assert queued.status == Claim.Status.IN_REVIEW


def test_the_second_reviewer_is_told_and_loses_nothing_typed(client, world, queued, reason):
    line = queued.lines.get(status=ClaimLine.Status.IN_REVIEW)
    url = reverse("review_claim_decide", args=[queued.reference])
    client.force_login(world.lead)
    client.post(url, {f"line_{line.pk}": "approve"})
    client.force_login(world.reviewer)
    response = client.post(
        url,
        {
            f"line_{line.pk}": "reject",
            f"reason_{line.pk}": reason.pk,
            f"note_{line.pk}": "My careful note",
            "comment": "My careful comment",
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "can no longer be decided" in body
    assert "Your decision was not recorded" in body
    assert "My careful note" in body and "My careful comment" in body
    assert "Delivery not confirmed" in body
    queued.refresh_from_db()
    assert queued.status == Claim.Status.APPROVED


def test_it_returns_the_claim_to_the_partner(client, world, queued):
    client.force_login(world.reviewer)
    url = reverse("review_claim_return_partner", args=[queued.reference])
    response = client.post(url, {"partner-comment": ""})
    assert response.status_code == 400
    assert "Say what the partner needs to do" in response.content.decode()
    response = client.post(url, {"partner-comment": "Attach the custom SOW"})
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.status == Claim.Status.AWAITING_PARTNER
    assert not ReviewTask.objects.filter(claim=queued, state="open").exists()
    done = ReviewTask.objects.get(claim=queued)
    assert (done.outcome, done.closed_by) == ("awaiting_partner", world.reviewer)
    # The partner can confirm again.
    assert lifecycle.can(world.partner_member, queued, ClaimAction.CONFIRM)


# --- What the page shows ----------------------------------------------------------------------


def test_it_shows_the_rule_results_in_plain_words(client, world, queued):
    client.force_login(world.reviewer)
    body = _page(client, queued).content.decode()
    assert "Not in the pre-approved SOW catalog" in body
    assert "No other partner holds or claims it" in body
    assert "Partner active" in body


def test_it_sets_conflicting_associations_and_claims_side_by_side(client, world, queued):
    intune = world.workloads[2]
    f.AssociationFactory(
        customer=world.customer, workload=intune, partner=world.rival, active_usage_pct=12
    )
    rival_claim = f.ClaimFactory(
        submitted=True,
        partner=world.rival,
        customer=world.customer,
        program=world.program,
        workloads=[intune],
    )
    client.force_login(world.reviewer)
    response = _page(client, queued)
    body = response.content.decode()
    [conflict] = response.context["conflicts"]
    assert conflict.line.workload == intune
    assert "Fabrikam" in body and "12% active" in body
    assert reverse("review_claim_detail", args=[rival_claim.reference]) in body
    assert "Awaiting partner" in body


def test_it_links_the_custom_sow_for_the_team_only(client, world, queued, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    queued.custom_sow.save("custom.pdf", ContentFile(b"%PDF-1.4 custom"), save=False)
    Claim.objects.filter(pk=queued.pk).update(custom_sow=queued.custom_sow.name)
    client.force_login(world.reviewer)
    url = reverse("review_claim_sow", args=[queued.reference])
    assert url in _page(client, queued).content.decode()
    response = client.get(url)
    assert response.status_code == OK
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(world.rival_member)
    assert client.get(url).status_code == NOT_FOUND


def test_a_claim_without_a_sow_has_no_document(client, world, queued):
    client.force_login(world.reviewer)
    assert client.get(reverse("review_claim_sow", args=[queued.reference])).status_code == 404


def test_the_review_page_runs_a_bounded_number_of_queries(
    client, world, queued, django_assert_max_num_queries
):
    client.force_login(world.lead)
    with django_assert_max_num_queries(30):
        assert _page(client, queued).status_code == OK
