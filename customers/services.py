"""Changes to customer organisations, their members, and who is partner of record for what.

Who may join or act for an organisation is decided by email domain: a person's verified
email address must be at one of the organisation's domains. Every change of membership
is recorded in the organisation's audited history (`log_action` on the customer).
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims_portal.audit import log_action
from customers.models import Association, Customer, CustomerMembership, Invitation
from customers.tasks import send_invitation
from customers.tokens import INVITATION_DAYS, read_invitation_token

MAX_DOMAINS = 20
_DOMAIN = re.compile(
    r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
)
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{1,62}[a-z0-9]$")


class OrganisationError(Exception):
    """A change to an organisation that is not allowed; the message is for the person.

    `field` names the form field it belongs to, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- Domains and who may act for an organisation ----------------------------------------


def parse_domains(text: str | Iterable[str]) -> list[str]:
    """Domains as typed (commas, spaces or lines between them), checked and normalised."""
    items = re.split(r"[\s,;]+", text) if isinstance(text, str) else list(text)
    domains: list[str] = []
    for item in items:
        domain = item.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        if not _DOMAIN.match(domain):
            raise OrganisationError(
                _("“%(domain)s” is not a domain name such as contoso.com.")
                % {"domain": domain[:80]},
                field="domains",
            )
        if domain not in domains:
            domains.append(domain)
    if not domains:
        raise OrganisationError(
            _("Name at least one of your organisation's domains."), field="domains"
        )
    if len(domains) > MAX_DOMAINS:
        raise OrganisationError(
            _("Name at most %(n)d domains.") % {"n": MAX_DOMAINS}, field="domains"
        )
    return domains


def normalise_tenant_id(text: str) -> str:
    tenant_id = text.strip().lower()
    if not _TENANT_ID.match(tenant_id):
        raise OrganisationError(
            _("A tenant id is a GUID or your primary domain, such as contoso.onmicrosoft.com."),
            field="tenant_id",
        )
    return tenant_id


def domains_of(customer: Customer) -> list[str]:
    return [d for d in customer.verified_domains.lower().split() if d]


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def verified_email(user: User) -> str | None:
    """The person's address, when they proved they receive mail at it; else None."""
    if not user.email:
        return None
    verified = EmailAddress.objects.filter(
        user=user, email__iexact=user.email, verified=True
    ).exists()
    return user.email.lower() if verified else None


def check_may_act_for(user: User, customer: Customer) -> None:
    """Raise unless the person's verified email is at one of the organisation's domains."""
    email = verified_email(user)
    if email is None:
        raise OrganisationError(
            _("Verify your email address first: open the link we sent you, then try again.")
        )
    domains = domains_of(customer)
    if email_domain(email) not in domains:
        raise OrganisationError(
            _(
                "Your email address %(email)s is not at one of %(org)s's domains "
                "(%(domains)s), so you cannot act for it."
            )
            % {"email": email, "org": customer.name, "domains": ", ".join(domains) or "—"}
        )


def domains_taken(domains: Sequence[str]) -> list[str]:
    """Which of these domains an organisation registered here has named already."""
    taken = []
    for domain in domains:
        # One domain per line or space in verified_domains; match whole entries only.
        pattern = rf"(^|\s){re.escape(domain)}(\s|$)"
        if Customer.objects.filter(verified_domains__iregex=pattern).exists():
            taken.append(domain)
    return taken


def register_customer(
    *,
    user: User,
    name: str,
    tenant_id: str,
    segment: str,
    seats: int,
    domains: Sequence[str] = (),
) -> Customer:
    """Create the customer organisation; the person naming it becomes its approver.

    The person's verified email must be at one of the domains named (by default, the
    domain of that email). A tenant or a domain already registered is never taken over:
    the newcomer is told to ask its approver for an invitation.
    """
    tenant_id = normalise_tenant_id(tenant_id)
    email = verified_email(user)
    if email is None:
        raise OrganisationError(
            _("Verify your email address first: open the link we sent you, then try again.")
        )
    own_domain = email_domain(email)
    domains = parse_domains(domains) if domains else [own_domain]
    if own_domain not in domains:
        raise OrganisationError(
            _(
                "Your email address is at %(domain)s, which is not among the domains you "
                "named. Name your organisation's domains, including %(domain)s."
            )
            % {"domain": own_domain},
            field="domains",
        )
    ask_for_invitation = _(
        "Ask your organisation's approver to invite you from its Organisation page."
    )
    with transaction.atomic():
        if CustomerMembership.objects.filter(user=user).exists():
            raise OrganisationError(_("You already belong to an organisation here."))
        if Customer.objects.filter(tenant_id__iexact=tenant_id).exists():
            raise OrganisationError(
                _("This tenant is already registered.") + " " + ask_for_invitation,
                field="tenant_id",
            )
        taken = domains_taken(domains)
        if taken:
            raise OrganisationError(
                _("%(domains)s already belongs to an organisation registered here.")
                % {"domains": ", ".join(taken)}
                + " "
                + ask_for_invitation,
                field="domains",
            )
        try:
            with transaction.atomic():
                customer = Customer.objects.create(
                    name=name,
                    tenant_id=tenant_id,
                    segment=segment,
                    seats=seats,
                    verified_domains="\n".join(domains),
                )
        except IntegrityError as exc:
            # Someone registered the same tenant a moment ago.
            raise OrganisationError(
                _("This tenant is already registered.") + " " + ask_for_invitation,
                field="tenant_id",
            ) from exc
        membership = CustomerMembership.objects.create(
            user=user, customer=customer, role=CustomerMembership.Role.APPROVER
        )
        log_action(
            customer,
            "customers.customer.registered",
            user=user,
            data={"tenant_id": tenant_id, "domains": domains, "approver": membership.user.email},
        )
        log_action(
            customer,
            "customers.membership.joined",
            user=user,
            data={"email": email, "role": membership.role, "via": "registration"},
        )
    return customer


# --- Members and invitations -----------------------------------------------------------


def _lock(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _require_approver(user: User, customer: Customer) -> CustomerMembership:
    membership = CustomerMembership.objects.filter(user=user, customer=customer).first()
    if membership is None or not membership.is_approver:
        raise OrganisationError(
            _("Only an approver of %(org)s can change its members.") % {"org": customer.name}
        )
    check_may_act_for(user, customer)
    return membership


def _approver_count(customer: Customer) -> int:
    return CustomerMembership.objects.filter(
        customer=customer, role=CustomerMembership.Role.APPROVER
    ).count()


def invite_member(customer: Customer, *, user: User, email: str, role: str) -> Invitation:
    """Invite a colleague by email; they join through the signed link in the message.

    Inviting an address with an open invitation sends it again, valid from now.
    """
    email = email.strip().lower()
    if role not in CustomerMembership.Role.values:
        raise OrganisationError(_("Choose a role."), field="role")
    with transaction.atomic():
        customer = _lock(customer)
        _require_approver(user, customer)
        domains = domains_of(customer)
        if email_domain(email) not in domains:
            raise OrganisationError(
                _(
                    "%(email)s is not at one of %(org)s's domains (%(domains)s). Only "
                    "colleagues with an address at these domains can join."
                )
                % {"email": email, "org": customer.name, "domains": ", ".join(domains)},
                field="email",
            )
        if CustomerMembership.objects.filter(customer=customer, user__email__iexact=email).exists():
            raise OrganisationError(
                _("%(email)s is a member already.") % {"email": email}, field="email"
            )
        expires_at = timezone.now() + datetime.timedelta(days=INVITATION_DAYS)
        invitation = (
            Invitation.objects.select_for_update()
            .filter(customer=customer, email__iexact=email, accepted_at=None, revoked_at=None)
            .first()
        )
        if invitation is not None:
            invitation.role = role
            invitation.expires_at = expires_at
            invitation.sent_at = None
            invitation.save(update_fields=["role", "expires_at", "sent_at"])
            action = "customers.invitation.resent"
        else:
            invitation = Invitation.objects.create(
                customer=customer,
                email=email,
                role=role,
                nonce=secrets.token_hex(16),
                invited_by=user,
                expires_at=expires_at,
            )
            action = "customers.membership.invited"
        log_action(customer, action, user=user, data={"email": email, "role": role})
        send_invitation.delay(invitation.pk)  # sent once this commits
    return invitation


def invitation_from_token(token: str) -> Invitation:
    """The open invitation a link stands for; a clear OrganisationError when it cannot be used."""
    invalid = _(
        "This invitation link is not valid. Open the link exactly as it was sent to you, "
        "or ask for a new invitation."
    )
    try:
        data = read_invitation_token(token)
    except signing.SignatureExpired as exc:
        raise OrganisationError(
            _("This invitation has expired. Ask the person who invited you for a new one.")
        ) from exc
    except signing.BadSignature as exc:
        raise OrganisationError(invalid) from exc
    pk, nonce = data.get("i"), data.get("n")
    if not isinstance(pk, int) or not isinstance(nonce, str):
        raise OrganisationError(invalid)
    invitation = (
        Invitation.objects.select_related("customer", "invited_by")
        .filter(pk=pk, nonce=nonce)
        .first()
    )
    if invitation is None:
        raise OrganisationError(invalid)
    _check_open(invitation)
    return invitation


def _check_open(invitation: Invitation) -> None:
    if invitation.revoked_at is not None:
        raise OrganisationError(_("This invitation was withdrawn by the organisation."))
    if invitation.accepted_at is not None:
        raise OrganisationError(_("This invitation has been used already."))
    if invitation.expires_at <= timezone.now():
        raise OrganisationError(
            _("This invitation expired on %(date)s. Ask %(by)s for a new one.")
            % {
                "date": timezone.localtime(invitation.expires_at).strftime("%d %b %Y"),
                "by": invitation.invited_by.email,
            }
        )


def accept_invitation(token: str, *, user: User) -> CustomerMembership:
    """The invited colleague joins, with the role they were invited for."""
    invitation = invitation_from_token(token)
    with transaction.atomic():
        customer = _lock(invitation.customer)
        invitation = Invitation.objects.select_related("invited_by").get(pk=invitation.pk)
        _check_open(invitation)
        owns_address = EmailAddress.objects.filter(
            user=user, email__iexact=invitation.email, verified=True
        ).exists()
        if not owns_address:
            raise OrganisationError(
                _(
                    "This invitation is for %(invited)s, and you are signed in as %(you)s. "
                    "Sign in as %(invited)s (or verify that address), then open the link again."
                )
                % {"invited": invitation.email, "you": user.email}
            )
        if email_domain(invitation.email) not in domains_of(customer):
            raise OrganisationError(
                _("%(email)s is no longer at one of %(org)s's domains.")
                % {"email": invitation.email, "org": customer.name}
            )
        existing = CustomerMembership.objects.filter(user=user).select_related("customer").first()
        if existing is not None:
            if existing.customer_id == customer.pk:
                raise OrganisationError(
                    _("You are a member of %(org)s already.") % {"org": customer.name}
                )
            raise OrganisationError(
                _(
                    "You already belong to %(org)s. A person belongs to one organisation here; "
                    "ask its approver to remove you first."
                )
                % {"org": existing.customer.name}
            )
        membership = CustomerMembership.objects.create(
            user=user, customer=customer, role=invitation.role
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        log_action(
            customer,
            "customers.membership.joined",
            user=user,
            data={
                "email": invitation.email,
                "role": invitation.role,
                "via": "invitation",
                "invited_by": invitation.invited_by.email,
            },
        )
    return membership


def revoke_invitation(invitation: Invitation, *, user: User) -> Invitation:
    """Withdraw an invitation that was not used yet; its link stops working at once."""
    with transaction.atomic():
        customer = _lock(invitation.customer)
        _require_approver(user, customer)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise OrganisationError(_("This invitation is not open any more."))
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        log_action(
            customer, "customers.invitation.revoked", user=user, data={"email": invitation.email}
        )
    return invitation


def _last_approver_error(membership: CustomerMembership) -> OrganisationError:
    return OrganisationError(
        _(
            "%(email)s is the only approver. Make someone else an approver first, so the "
            "organisation can still sign its claims."
        )
        % {"email": membership.user.email}
    )


def change_role(membership: CustomerMembership, *, user: User, role: str) -> CustomerMembership:
    """Make a member an approver, or an approver a contributor (never the last approver)."""
    if role not in CustomerMembership.Role.values:
        raise OrganisationError(_("Choose a role."), field="role")
    with transaction.atomic():
        customer = _lock(membership.customer)
        _require_approver(user, customer)
        current = (
            CustomerMembership.objects.select_related("user")
            .filter(pk=membership.pk, customer=customer)
            .first()
        )
        if current is None:
            raise OrganisationError(_("This person is no longer a member."))
        membership = current
        if membership.role == role:
            return membership
        if membership.is_approver and _approver_count(customer) <= 1:
            raise _last_approver_error(membership)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        log_action(
            customer,
            "customers.membership.role_changed",
            user=user,
            data={"email": membership.user.email, "from": before, "to": role},
        )
    return membership


def remove_member(membership: CustomerMembership, *, user: User) -> None:
    """Remove a member; their access ends with their next request (roles are read per request)."""
    with transaction.atomic():
        customer = _lock(membership.customer)
        _require_approver(user, customer)
        current = (
            CustomerMembership.objects.select_related("user")
            .filter(pk=membership.pk, customer=customer)
            .first()
        )
        if current is None:
            raise OrganisationError(_("This person is no longer a member."))
        if current.is_approver and _approver_count(customer) <= 1:
            raise _last_approver_error(current)
        data = {"email": current.user.email, "role": current.role}
        current.delete()
        log_action(customer, "customers.membership.removed", user=user, data=data)


# --- Associations --------------------------------------------------------------------------


def grant_association(
    *, customer_id: int, workload_id: int, partner_id: int, source_claim: Any
) -> Association:
    """Make the partner partner of record for the customer's workload, from today."""
    return grant_associations(
        customer_id=customer_id,
        workload_ids=[workload_id],
        partner_id=partner_id,
        source_claim=source_claim,
    )[workload_id]


def grant_associations(
    *, customer_id: int, workload_ids: Sequence[int], partner_id: int, source_claim: Any
) -> dict[int, Association]:
    """Make the partner partner of record for these workloads of the customer, from today.

    The caller holds the customer's row lock. A claims-team approval may move a workload
    from another partner; the old association ends today. A workload the partner holds
    already keeps its association. Three queries at most, however many workloads.
    """
    if not workload_ids:
        return {}
    today = timezone.localdate()
    current = {
        a.workload_id: a
        for a in Association.objects.filter(
            customer_id=customer_id, workload_id__in=workload_ids, ended_on=None
        ).select_for_update()
    }
    ending = [a.pk for a in current.values() if a.partner_id != partner_id]
    if ending:
        Association.objects.filter(pk__in=ending).update(ended_on=today)
    held = {w: a for w, a in current.items() if a.partner_id == partner_id}
    created = Association.objects.bulk_create(
        Association(
            customer_id=customer_id,
            workload_id=workload_id,
            partner_id=partner_id,
            since=today,
            source_claim=source_claim,
        )
        for workload_id in workload_ids
        if workload_id not in held
    )
    return {**held, **{a.workload_id: a for a in created}}
