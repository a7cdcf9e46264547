"""The comment thread of a claim: comments for all its parties, and the claims team's
internal notes.

A comment for the parties is part of the claim's chain of custody (an Event with the
text) and is notified to the other parties. An internal note is a Comment row only: never
an event, never notified, never on a customer's or partner's page, email or export.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from claims.events import record_event
from claims.lifecycle import ClaimError, lock_claim, roles_on_claim
from claims.models import Claim, ClaimAction, ClaimRole, Comment
from claims.notifications import notify_parties

MAX_COMMENT = 4000
_BEFORE_THE_PARTNER = (Claim.Status.DRAFT, Claim.Status.AWAITING_CUSTOMER_APPROVAL)
_PRECEDENCE = (ClaimRole.APPROVER, ClaimRole.CONTRIBUTOR, ClaimRole.PARTNER, ClaimRole.CLAIMS_TEAM)


def add_comment(claim: Claim, *, user: User, body: str, internal: bool = False) -> Comment:
    """Add a comment to the claim's thread (or, for the claims team, an internal note)."""
    body = body.strip()
    if not body:
        raise ClaimError(_("Write the comment first."), field="body")
    if len(body) > MAX_COMMENT:
        raise ClaimError(
            _("A comment is at most %(n)d characters.") % {"n": MAX_COMMENT}, field="body"
        )
    with transaction.atomic():
        claim = lock_claim(claim)
        held = roles_on_claim(user, claim)
        if claim.status in _BEFORE_THE_PARTNER:
            # The partner is not a party until the customer signs.
            held = held - {ClaimRole.PARTNER}
        if internal and ClaimRole.CLAIMS_TEAM not in held:
            raise ClaimError(_("Only the claims team writes internal notes."))
        role = next((r for r in _PRECEDENCE if r in held), None)
        if role is None:
            raise ClaimError(_("You are not allowed to comment on claim %s.") % claim.reference)
        comment = Comment.objects.create(
            claim=claim, author=user, author_role=role, body=body, internal=internal
        )
        if not internal:
            event = record_event(
                claim,
                action=ClaimAction.COMMENT,
                user=user,
                role=role,
                from_status=claim.status,
                to_status=claim.status,
                changes={"comment": comment.pk},
                comment=body,
            )
            notify_parties(claim, event)
    return comment


def thread(claim: Claim, *, internal_notes: bool = False) -> QuerySet[Comment]:
    """The claim's comments, oldest first; internal notes only when asked (claims team)."""
    comments = Comment.objects.filter(claim=claim).select_related("author")
    if not internal_notes:
        comments = comments.filter(internal=False)
    return comments.order_by("created_at", "pk")
