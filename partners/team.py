"""A partner's team: invitations by signed, expiring link; roles; removal; the profile.

Every change locks the partner's row first, so two admins acting at once cannot leave the
team without an admin, and is recorded in the partner's audited history (`log_action`,
codes `partners.member.*`, `partners.profile.changed`). Removing someone deletes their
membership and ends their sessions: their next request is signed out.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from enum import StrEnum

from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims_portal.audit import log_action
from claims_portal.sessions import end_sessions
from claims_portal.uploads import image_storage, logo_upload_to
from partners import tokens
from partners.models import Partner, PartnerInvitation, PartnerMembership
from partners.tasks import send_team_invitation

INVITATION_DAYS = 7
Role = PartnerMembership.Role


class TeamError(Exception):
    """A team change that is not allowed; the message is shown to the admin."""


class InvitationState(StrEnum):
    VALID = "valid"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ALTERED = "altered"


@dataclass(frozen=True)
class OpenedInvitation:
    state: InvitationState
    invitation: PartnerInvitation | None = None


def _lock_partner(partner: Partner, user: User) -> Partner:
    locked = Partner.objects.select_for_update().get(pk=partner.pk)
    if not PartnerMembership.objects.filter(user=user, partner=locked, role=Role.ADMIN).exists():
        raise TeamError(_("Only the partner's admins can change the team or the profile."))
    return locked


def _admins_left(partner: Partner, *, without: PartnerMembership) -> int:
    return (
        PartnerMembership.objects.filter(partner=partner, role=Role.ADMIN)
        .exclude(pk=without.pk)
        .count()
    )


# --- Invitations -------------------------------------------------------------------------


def token_for(invitation: PartnerInvitation) -> str:
    return tokens.make(invitation, salt=tokens.TEAM_INVITATION)


def _state(invitation: PartnerInvitation, now: datetime.datetime) -> InvitationState:
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    if invitation.accepted_at is not None:
        return InvitationState.ACCEPTED
    if invitation.expires_at <= now:
        return InvitationState.EXPIRED
    return InvitationState.VALID


def open_token(token: str) -> OpenedInvitation:
    signed = tokens.read(token, salt=tokens.TEAM_INVITATION)
    if signed is None:
        return OpenedInvitation(InvitationState.ALTERED)
    invitation_id, nonce = signed
    invitation = (
        PartnerInvitation.objects.select_related("partner")
        .filter(pk=invitation_id, nonce=nonce)
        .first()
    )
    if invitation is None:
        return OpenedInvitation(InvitationState.ALTERED)
    return OpenedInvitation(_state(invitation, timezone.now()), invitation)


def invite_member(*, partner: Partner, user: User, email: str, role: str) -> PartnerInvitation:
    """Invite `email` to the team; an open invitation to the same address is replaced."""
    email = email.strip().lower()
    if role not in Role.values:
        raise TeamError(_("Choose member or admin."))
    with transaction.atomic():
        partner = _lock_partner(partner, user)
        if PartnerMembership.objects.filter(partner=partner, user__email__iexact=email).exists():
            raise TeamError(_("%s is in your team already.") % email)
        now = timezone.now()
        replaced = list(
            partner.invitations.filter(
                email__iexact=email, accepted_at=None, revoked_at=None
            ).values_list("pk", flat=True)
        )
        partner.invitations.filter(pk__in=replaced).update(revoked_at=now)
        invitation = PartnerInvitation.objects.create(
            partner=partner,
            email=email,
            role=role,
            nonce=secrets.token_hex(16),
            invited_by=user,
            expires_at=now + datetime.timedelta(days=INVITATION_DAYS),
            send_requested_at=now,
        )
        log_action(
            partner,
            "partners.member.invited",
            user=user,
            data={"email": email, "role": role, "replaces": replaced},
        )
        send_team_invitation.delay(invitation.pk)
    return invitation


def revoke_invitation(invitation: PartnerInvitation, *, user: User) -> PartnerInvitation:
    with transaction.atomic():
        partner = _lock_partner(invitation.partner, user)
        invitation = PartnerInvitation.objects.select_for_update().get(pk=invitation.pk)
        if _state(invitation, timezone.now()) not in (
            InvitationState.VALID,
            InvitationState.EXPIRED,
        ):
            raise TeamError(_("The invitation to %s is no longer open.") % invitation.email)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        log_action(
            partner,
            "partners.member.invitation_revoked",
            user=user,
            data={"email": invitation.email},
        )
    return invitation


def check_invitee(invitation: PartnerInvitation, user: User) -> None:
    """Raise TeamError unless `user` may accept the invitation."""
    verified = EmailAddress.objects.filter(
        user=user, verified=True, email__iexact=invitation.email
    ).exists()
    if not verified:
        raise TeamError(
            _(
                "This invitation is for %(email)s. Sign in (or sign up) with that address and "
                "open the link again."
            )
            % {"email": invitation.email}
        )
    existing = PartnerMembership.objects.filter(user=user).select_related("partner").first()
    if existing is not None:
        if existing.partner_id == invitation.partner_id:
            raise TeamError(_("You are in the team of %s already.") % existing.partner.name)
        raise TeamError(
            _("Your account belongs to the team of another partner; one account, one partner.")
        )


def accept_invitation(invitation: PartnerInvitation, *, user: User) -> PartnerMembership:
    """The invited person joins the team in the role they were invited to."""
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=invitation.partner_id)
        invitation = PartnerInvitation.objects.select_for_update().get(pk=invitation.pk)
        state = _state(invitation, timezone.now())
        if state != InvitationState.VALID:
            raise TeamError(state_message(state))
        check_invitee(invitation, user)
        membership = PartnerMembership.objects.create(
            user=user, partner=partner, role=invitation.role
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        log_action(
            partner,
            "partners.member.joined",
            user=user,
            data={"email": user.email, "role": membership.role, "invitation": invitation.pk},
        )
    return membership


def state_message(state: InvitationState) -> str:
    return {
        InvitationState.ACCEPTED: _(
            "This invitation has been accepted already. Sign in to reach the partner dashboard."
        ),
        InvitationState.EXPIRED: _(
            "This invitation has expired. Ask an admin of the partner to invite you again."
        ),
        InvitationState.REVOKED: _(
            "This invitation was withdrawn. Ask an admin of the partner if you should have "
            "a newer one."
        ),
        InvitationState.ALTERED: _(
            "This link is not complete or was changed on the way. Copy the whole link from "
            "the email again."
        ),
    }.get(state, "")


# --- Members -----------------------------------------------------------------------------


def set_role(membership: PartnerMembership, *, user: User, role: str) -> PartnerMembership:
    if role not in Role.values:
        raise TeamError(_("Choose member or admin."))
    with transaction.atomic():
        partner = _lock_partner(membership.partner, user)
        membership = PartnerMembership.objects.select_related("user").get(pk=membership.pk)
        if membership.role == role:
            return membership
        if membership.role == Role.ADMIN and not _admins_left(partner, without=membership):
            raise TeamError(
                _("%s is the team's only admin: make someone else admin first.")
                % membership.user.email
            )
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        log_action(
            partner,
            "partners.member.role_changed",
            user=user,
            data={"email": membership.user.email, "from": old, "to": role},
        )
    return membership


def remove_member(membership: PartnerMembership, *, user: User) -> int:
    """Take the person off the team; their sessions end at once. How many sessions ended."""
    with transaction.atomic():
        partner = _lock_partner(membership.partner, user)
        locked = (
            PartnerMembership.objects.select_for_update()
            .select_related("user")
            .filter(pk=membership.pk)
            .first()
        )
        if locked is None:
            raise TeamError(_("That person is no longer in the team."))
        membership = locked
        if membership.role == Role.ADMIN and not _admins_left(partner, without=membership):
            raise TeamError(
                _("%s is the team's only admin: make someone else admin first.")
                % membership.user.email
            )
        member = membership.user
        role = membership.role
        membership.delete()
        ended = end_sessions(member)
        log_action(
            partner,
            "partners.member.removed",
            user=user,
            data={"email": member.email, "role": role, "sessions_ended": ended},
        )
    return ended


# --- The profile -------------------------------------------------------------------------


def update_profile(
    partner: Partner,
    *,
    user: User,
    name: str,
    contact_email: str,
    logo: ContentFile | None = None,
    remove_logo: bool = False,
) -> Partner:
    """Change the partner's name, contact address and logo (already re-encoded)."""
    # The file is written before the transaction (no slow I/O under the partner's lock).
    new_logo = image_storage().save(logo_upload_to(partner, ""), logo) if logo else None
    try:
        with transaction.atomic():
            partner = _lock_partner(partner, user)
            changes: dict[str, object] = {}
            for field, value in (("name", name.strip()), ("contact_email", contact_email)):
                if getattr(partner, field) != value:
                    changes[field] = {"from": getattr(partner, field), "to": value}
                    setattr(partner, field, value)
            old_logo = partner.logo.name
            if new_logo or (remove_logo and old_logo):
                partner.logo.name = new_logo or ""
                changes["logo"] = "replaced" if new_logo else "removed"
            if not changes:
                return partner
            partner.save(update_fields=["name", "contact_email", "logo"])
            log_action(partner, "partners.profile.changed", user=user, data=changes)
            if old_logo and "logo" in changes:
                transaction.on_commit(lambda: image_storage().delete(old_logo))
    except Exception:
        if new_logo:
            image_storage().delete(new_logo)
        raise
    return partner
