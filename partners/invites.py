"""Links to a claim a partner prepared: `/i/<token>/`, signed, bound to one claim, expiring.

The token is a signature over the invite's id and its random nonce, so an altered token
fails the signature and a token cannot be moved to another claim. Whether it still works
(not expired, revoked or used, the claim still waiting for the customer) is read from the
`ClaimInvite` row each time. The partner issues, re-issues (the old link stops working),
revokes and emails links; the customer's approver accepts one by signing in with an
address at the organisation's domain (the rule of customers.services.check_may_act_for).
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims import lifecycle
from claims.lifecycle import ClaimError
from claims.models import Claim, ClaimRole
from claims_portal.audit import log_action
from claims_portal.roles import roles_for
from customers.models import CustomerMembership
from customers.services import OrganisationError, check_may_act_for
from partners import tokens
from partners.models import ClaimInvite
from partners.tasks import send_claim_invite


class InviteState(StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"
    CLOSED = "closed"  # the claim no longer waits for the customer (signed or withdrawn)
    ALTERED = "altered"  # not a token we issued, or changed on the way


@dataclass(frozen=True)
class OpenedInvite:
    state: InviteState
    invite: ClaimInvite | None = None

    @property
    def claim(self) -> Claim | None:
        return self.invite.claim if self.invite is not None else None


# --- Tokens ------------------------------------------------------------------------------


def token_for(invite: ClaimInvite) -> str:
    return tokens.make(invite, salt=tokens.CLAIM_INVITE)


def _state(invite: ClaimInvite, now: datetime.datetime) -> InviteState:
    if invite.revoked_at is not None:
        return InviteState.REVOKED
    if invite.used_at is not None:
        return InviteState.USED
    if invite.claim.status != Claim.Status.AWAITING_CUSTOMER_APPROVAL:
        return InviteState.CLOSED
    if invite.expires_at <= now:
        return InviteState.EXPIRED
    return InviteState.VALID


def open_token(token: str) -> OpenedInvite:
    """What a token in a URL stands for, and whether it still works."""
    signed = tokens.read(token, salt=tokens.CLAIM_INVITE)
    if signed is None:
        return OpenedInvite(InviteState.ALTERED)
    invite_id, nonce = signed
    invite = (
        ClaimInvite.objects.select_related("claim__partner", "claim__customer", "claim__program")
        .filter(pk=invite_id, nonce=nonce)
        .first()
    )
    if invite is None:
        return OpenedInvite(InviteState.ALTERED)
    return OpenedInvite(_state(invite, timezone.now()), invite)


def live_invite(claim: Claim) -> ClaimInvite | None:
    """The claim's link that has been neither revoked nor used (it may have expired)."""
    return claim.invites.filter(revoked_at=None, used_at=None).first()


# --- The partner's side ------------------------------------------------------------------


def _lock_prepared_claim(claim: Claim, user: User) -> Claim:
    claim = lifecycle.lock_claim(claim)
    if ClaimRole.PARTNER not in lifecycle.roles_on_claim(user, claim):
        raise ClaimError(_("You are not allowed to do that on claim %s.") % claim.reference)
    if not claim.partner_prepared or claim.status != Claim.Status.AWAITING_CUSTOMER_APPROVAL:
        raise ClaimError(
            _(
                "Claim %(ref)s is “%(status)s”: it no longer waits for the customer, so it "
                "needs no link."
            )
            % {"ref": claim.reference, "status": claim.get_status_display()}
        )
    return claim


def issue_invite(claim: Claim, *, user: User, email: str = "") -> ClaimInvite:
    """A new link to the claim; any earlier link of the claim stops working."""
    with transaction.atomic():
        claim = _lock_prepared_claim(claim, user)
        now = timezone.now()
        earlier = list(claim.invites.filter(revoked_at=None, used_at=None))
        claim.invites.filter(pk__in=[i.pk for i in earlier]).update(revoked_at=now)
        invite = ClaimInvite.objects.create(
            claim=claim,
            nonce=secrets.token_hex(16),
            email=email or (earlier[0].email if earlier else ""),
            created_by=user,
            expires_at=now + datetime.timedelta(days=claim.program.invite_valid_days),
        )
        for old in earlier:
            log_action(old, "partners.invite.revoked", user=user, data={"replaced_by": invite.pk})
        log_action(
            invite,
            "partners.invite.issued",
            user=user,
            data={"claim": claim.reference, "expires_at": invite.expires_at.isoformat()},
        )
    return invite


def revoke_invite(claim: Claim, *, user: User) -> ClaimInvite:
    """The claim's link stops working; the partner may issue a new one later."""
    with transaction.atomic():
        claim = _lock_prepared_claim(claim, user)
        invite = claim.invites.select_for_update().filter(revoked_at=None, used_at=None).first()
        if invite is None:
            raise ClaimError(_("Claim %s has no link that works; nothing to revoke.") % claim)
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])
        log_action(invite, "partners.invite.revoked", user=user, data={"claim": claim.reference})
    return invite


def send_invite(claim: Claim, *, user: User, email: str) -> ClaimInvite:
    """Email the claim's link to `email` from the portal (a worker sends it after commit)."""
    with transaction.atomic():
        claim = _lock_prepared_claim(claim, user)
        invite = claim.invites.select_for_update().filter(revoked_at=None, used_at=None).first()
        if invite is None or invite.expires_at <= timezone.now():
            raise ClaimError(
                _("The link of claim %s no longer works: issue a new link, then send it.")
                % claim.reference
            )
        invite.email = email
        invite.sent_at = None
        invite.send_requested_at = timezone.now()
        invite.save(update_fields=["email", "sent_at", "send_requested_at"])
        log_action(invite, "partners.invite.emailed", user=user, data={"to": email})
        send_claim_invite.delay(invite.pk)
    return invite


# --- The customer's side -----------------------------------------------------------------


class InviteRefused(Exception):
    """The signed-in person may not use this link; the message says what to do instead."""


def check_invitee(invite: ClaimInvite, user: User) -> CustomerMembership | None:
    """Raise InviteRefused unless `user` may take up the invite; their membership, if any."""
    claim = invite.claim
    roles = roles_for(user)
    membership = roles.customer_membership
    if membership is not None:
        if membership.customer_id != claim.customer_id:
            raise InviteRefused(
                _(
                    "This link is for a claim of another organisation. You are signed in as a "
                    "member of %(mine)s; sign out and open the link with an account of the "
                    "organisation it was sent to."
                )
                % {"mine": membership.customer.name}
            )
        return membership
    if roles.is_partner or roles.is_claims_team:
        raise InviteRefused(
            _(
                "This link is for the customer. You are signed in with a partner or claims "
                "team account; the customer opens it with their own account."
            )
        )
    if claim.customer.memberships.exists():
        raise InviteRefused(
            _(
                "%(customer)s already has people in the portal. Ask one of its approvers to "
                "add you to the organisation, then open this link again."
            )
            % {"customer": claim.customer.name}
        )
    # The organisation's domain rule (customers.services), as for anyone joining it.
    try:
        check_may_act_for(user, claim.customer)
    except OrganisationError as exc:
        raise InviteRefused(
            _("To take up this claim, sign in with your address at the organisation's domain.")
            + " "
            + str(exc)
        ) from exc
    return None


def accept_invite(invite: ClaimInvite, *, user: User) -> Claim:
    """The customer takes up the claim: joins the organisation if it is new, opens the claim.

    The first person of an organisation the partner named joins it as its approver (like
    the first person who registers an organisation). The link is used up.
    """
    with transaction.atomic():
        claim = lifecycle.lock_claim(invite.claim_id)
        invite = ClaimInvite.objects.select_for_update().get(pk=invite.pk)
        state = _state(invite, timezone.now())
        if state != InviteState.VALID:
            raise InviteRefused(state_message(state))
        membership = check_invitee(invite, user)
        if membership is None:
            membership = CustomerMembership.objects.create(
                user=user, customer_id=claim.customer_id, role=CustomerMembership.Role.APPROVER
            )
            log_action(
                claim.customer,
                "customers.membership.joined_by_invite",
                user=user,
                data={"email": user.email, "role": membership.role, "claim": claim.reference},
            )
        invite.used_at = timezone.now()
        invite.used_by = user
        invite.save(update_fields=["used_at", "used_by"])
        log_action(invite, "partners.invite.used", user=user, data={"claim": claim.reference})
    return claim


def state_message(state: InviteState) -> str:
    return {
        InviteState.USED: _(
            "This link has been used already. If you used it, find the claim under “My "
            "claims”; otherwise ask the partner for a new link."
        ),
        InviteState.EXPIRED: _(
            "This link has expired. Ask the partner who sent it for a new one; nothing was "
            "lost, the claim is still waiting for you."
        ),
        InviteState.REVOKED: _(
            "The partner withdrew this link (perhaps it sent a newer one). Use the most "
            "recent link you received, or ask the partner for a new one."
        ),
        InviteState.CLOSED: _(
            "This claim no longer waits for a signature: it was signed or withdrawn. Find "
            "it under “My claims”, or ask the partner."
        ),
        InviteState.ALTERED: _(
            "This link is not complete or was changed on the way. Copy the whole link from "
            "the email again, or ask the partner to send it again."
        ),
    }.get(state, "")
