"""The comment thread of a claim: for its parties, notified to the others; the claims
team's internal notes never reach a customer or a partner (page, email, export, history)."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django.urls import reverse

from claims import comments, lifecycle
from claims.lifecycle import ClaimError
from claims.models import Comment, Event, Notification
from tests import factories as f

SECRET = "Internal: the partner's SOW looks copied from last year"


def _committed():
    return TestCase.captureOnCommitCallbacks(execute=True)


def _post(client, name, claim, body, **extra):
    with _committed():
        return client.post(reverse(name, args=[claim.reference]), {"comment-body": body, **extra})


def _recipients(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def test_a_customer_comment_reaches_the_partner_and_colleagues(client, world, mailoutbox):
    claim = world.submitted()
    client.force_login(world.contributor)
    response = _post(client, "customer_claim_comment", claim, "Our go-live moved to March.")
    assert response.status_code == 302
    assert response["Location"].endswith("#comments")
    comment = Comment.objects.get()
    assert comment.author_role == "customer_contributor" and not comment.internal
    assert _recipients(mailoutbox) == sorted(
        [world.approver.email, world.partner_member.email, world.partner_admin.email]
    )
    assert "Our go-live moved to March." in mailoutbox[0].body
    event = claim.events.get(action="comment")
    assert event.comment == "Our go-live moved to March."
    # Each party reads it on its own page.
    client.force_login(world.partner_member)
    page = client.get(reverse("partner_claim_detail", args=[claim.reference])).content.decode()
    assert "Our go-live moved to March." in page


def test_a_partner_comment_reaches_the_customer(client, world, mailoutbox):
    claim = world.submitted()
    client.force_login(world.partner_member)
    assert _post(client, "partner_claim_comment", claim, "Kick-off booked.").status_code == 302
    assert world.approver.email in _recipients(mailoutbox)
    assert world.partner_member.email not in _recipients(mailoutbox)
    client.force_login(world.approver)
    page = client.get(reverse("customer_claim_detail", args=[claim.reference])).content.decode()
    assert "Kick-off booked." in page


def test_comments_on_a_draft_stay_within_the_organisation(client, world, mailoutbox):
    claim = world.draft(user=world.contributor)
    client.force_login(world.contributor)
    assert (
        _post(client, "customer_claim_comment", claim, "Alex, please check seats.").status_code
        == 302
    )
    assert _recipients(mailoutbox) == [world.approver.email]
    # The partner does not see the draft, so cannot comment on it either.
    client.force_login(world.partner_member)
    assert _post(client, "partner_claim_comment", claim, "hello").status_code == 404
    with pytest.raises(ClaimError):
        comments.add_comment(claim, user=world.partner_member, body="hello")


def test_the_claims_team_assignee_hears_of_comments(client, world, mailoutbox):
    claim = f.ClaimFactory(
        customer=world.customer, partner=world.partner, program=world.program, in_review=True
    )
    claim.review_tasks.update(assignee=world.reviewer)
    client.force_login(world.approver)
    _post(client, "customer_claim_comment", claim, "Any news?")
    assert world.reviewer.email in _recipients(mailoutbox)
    message = next(m for m in mailoutbox if m.to == [world.reviewer.email])
    assert reverse("review_claim_detail", args=[claim.reference]) in message.body


def test_an_internal_note_never_reaches_customer_or_partner(client, world, mailoutbox):
    claim = f.ClaimFactory(
        customer=world.customer,
        partner=world.partner,
        program=world.program,
        in_review=True,
        created_by=world.approver,
    )
    client.force_login(world.reviewer)
    response = _post(client, "review_claim_comment", claim, SECRET, **{"comment-is_internal": "on"})
    assert response.status_code == 302
    note = Comment.objects.get()
    assert note.internal and note.author_role == "claims_team"
    # Not notified, not in the chain of custody.
    assert mailoutbox == []
    assert not Notification.objects.exists()
    assert not Event.objects.filter(claim=claim, comment__contains="SOW looks copied").exists()
    # The claims team reads it on its page, marked internal.
    page = client.get(reverse("review_claim_detail", args=[claim.reference])).content.decode()
    assert SECRET.replace("'", "&#x27;") in page and "Internal note" in page
    # Neither the customer's nor the partner's page, list or CSV export has it.
    for user, pages in (
        (world.approver, ["customer_claim_detail", "customer_claims"]),
        (world.partner_member, ["partner_claim_detail", "partner_dashboard"]),
    ):
        client.force_login(user)
        for name in pages:
            args = [claim.reference] if "detail" in name else []
            body = client.get(reverse(name, args=args)).content.decode()
            assert "SOW looks copied" not in body, name
            if not args:
                response = client.get(reverse(name), {"export": "csv"})
                assert b"SOW looks copied" not in b"".join(response.streaming_content)
    # Later steps' emails do not carry it either.
    client.force_login(world.reviewer)
    _post(client, "review_claim_comment", claim, "We are checking the SOW with you.")
    assert mailoutbox and all("SOW looks copied" not in m.body for m in mailoutbox)
    assert all("SOW looks copied" not in str(alt[0]) for m in mailoutbox for alt in m.alternatives)


def test_the_claims_team_may_also_comment_for_all_parties(client, world, mailoutbox):
    claim = f.ClaimFactory(
        customer=world.customer, partner=world.partner, program=world.program, in_review=True
    )
    client.force_login(world.reviewer)
    _post(client, "review_claim_comment", claim, "Please send the signed SOW.")
    assert not Comment.objects.get().internal
    assert world.partner_member.email in _recipients(mailoutbox)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("", 400, "Write the comment first."),
        ("   ", 400, "Write the comment first."),
        ("x" * 10_000, 400, "at most 4000 characters"),
    ],
)
def test_a_bad_comment_is_explained_and_kept(client, world, body, status, message):
    claim = world.submitted()
    client.force_login(world.approver)
    response = _post(client, "customer_claim_comment", claim, body)
    assert response.status_code == status
    page = response.content.decode()
    assert message in page
    if body.strip():
        assert body[:200] in page
    assert not Comment.objects.exists()


def test_a_customer_cannot_forge_an_internal_note(client, world):
    claim = world.submitted()
    client.force_login(world.approver)
    _post(
        client, "customer_claim_comment", claim, "Visible to all", **{"comment-is_internal": "on"}
    )
    assert Comment.objects.get().internal is False
    with pytest.raises(ClaimError, match="Only the claims team"):
        comments.add_comment(claim, user=world.approver, body="sneaky", internal=True)


@pytest.mark.parametrize(
    ("who", "name", "status"),
    [
        ("other_customer_user", "customer_claim_comment", 404),
        ("rival_member", "partner_claim_comment", 404),
        ("partner_member", "customer_claim_comment", 403),
        ("approver", "review_claim_comment", 404),
        ("approver", "partner_claim_comment", 403),
    ],
)
def test_only_the_claims_parties_comment(client, world, who, name, status):
    claim = world.submitted()
    client.force_login(getattr(world, who))
    assert _post(client, name, claim, "hello").status_code == status
    assert not Comment.objects.exists()


def test_a_comment_on_a_decided_claim_is_still_possible(client, world):
    claim = world.submitted()
    lifecycle.withdraw(claim, user=world.approver, comment="No longer needed")
    client.force_login(world.partner_member)
    assert _post(client, "partner_claim_comment", claim, "Understood.").status_code == 302
