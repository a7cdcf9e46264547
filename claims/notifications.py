"""Who hears about each step of a claim: one outbox row per recipient, emailed by a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from claims.models import Claim, ClaimAction, Event, Notification
from claims.tasks import send_notifications
from customers.models import CustomerMembership
from partners.models import PartnerMembership

# Actions that tell the other parties nothing new.
_SILENT = {ClaimAction.CREATE, ClaimAction.EDIT}
# Until it is signed, a claim is the customer's alone: a partner hears nothing of it.
_BEFORE_THE_PARTNER = {Claim.Status.DRAFT, Claim.Status.AWAITING_CUSTOMER_APPROVAL}

# Who else follows a claim's comments, by app (approvals adds the claims-team member
# working on it); each returns user ids. Registered at start-up, never per request.
comment_watchers: list[Callable[[Claim], set[int]]] = []


def _recipient_ids(claim: Claim, event: Event) -> set[int]:
    # Read through the memberships of this customer and partner (indexed by organisation),
    # not by scanning every user.
    customers: QuerySet = CustomerMembership.objects.filter(
        customer_id=claim.customer_id, user__is_active=True
    )
    if event.action in (ClaimAction.ROUTE, ClaimAction.PREPARE):
        # Routing (or a partner preparing a claim) asks the approvers to sign; nobody else
        # has anything to do yet.
        customers = customers.filter(role=CustomerMembership.Role.APPROVER)
        partners = PartnerMembership.objects.none()
    elif event.action == ClaimAction.COMMENT and claim.status in _BEFORE_THE_PARTNER:
        partners = PartnerMembership.objects.none()
    else:
        partners = PartnerMembership.objects.filter(
            partner_id=claim.partner_id, user__is_active=True
        )
    ids = set(customers.values_list("user_id", flat=True))
    ids |= set(partners.values_list("user_id", flat=True))
    if event.action == ClaimAction.COMMENT:
        for watchers in comment_watchers:
            ids |= watchers(claim)
    ids.discard(event.actor_id)
    return ids


def _subject(claim: Claim, event: Event) -> str:
    moved = event.to_status and event.to_status != event.from_status
    return _("%(ref)s: %(what)s") % {
        "ref": claim.reference,
        "what": event.get_to_status_display() if moved else event.get_action_display(),
    }


def notify_parties(claim: Claim, event: Event, *, recipients: Iterable[int] | None = None) -> None:
    """Write the notifications for an event; the emails go out after the commit.

    `recipients` (user ids) replaces the claim's parties, for news meant for someone
    else: a reminder to the party whose turn it is, an escalation to the leads.
    """
    if event.action in _SILENT:
        return
    if recipients is not None:
        user_ids = set(recipients) - {event.actor_id}
    else:
        user_ids = _recipient_ids(claim, event)
    if not user_ids:
        return
    subject = _subject(claim, event)
    Notification.objects.bulk_create(
        Notification(user_id=user_id, claim=claim, event=event, subject=subject)
        for user_id in sorted(user_ids)
    )
    # One task per event: its recipients are emailed over one connection.
    send_notifications.delay(event.pk)
