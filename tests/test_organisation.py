"""/organisation/: members, roles, invitations by signed expiring link; the domain rule."""

from __future__ import annotations

import datetime
import json
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail, signing
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from claims import lifecycle
from claims.lifecycle import ClaimError
from claims_portal.audit import history, verify_history
from customers import services
from customers.models import Customer, CustomerMembership, Invitation
from customers.services import OrganisationError
from customers.tokens import invitation_token
from tests import factories as f

URL = "/organisation/"


def _committed():
    """Run what waits for the commit (the invitation email task) as the request ends."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def _invite(client, email="dana@woodgrove.example", role="contributor"):
    with _committed():
        return client.post(
            reverse("organisation_invite"), {"invite-email": email, "invite-role": role}
        )


def _service_invite(customer, user, email):
    with _committed():
        return services.invite_member(customer, user=user, email=email, role="contributor")


def _link(message) -> str:
    return re.search(r"http://\S+/organisation/join/\S+/", message.body).group(0)


def _actions(customer):
    return [entry.action for entry in history(customer)]


# --- who sees what -------------------------------------------------------------------------


def test_it_asks_an_anonymous_visitor_to_sign_in(client, world):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("who", ["partner_member", "reviewer", "rival_member"])
def test_it_refuses_accounts_that_are_not_customers(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get(URL).status_code == 403
    assert _invite(client).status_code == 403


def test_it_shows_the_approver_the_members_and_the_controls(client, world):
    client.force_login(world.approver)
    body = client.get(URL).content.decode()
    assert "woodgrove.example" in body  # tenant id and domains
    assert world.approver.email in body and world.contributor.email in body
    assert "Invite a colleague" in body
    assert "Change role" in body


def test_it_shows_a_contributor_the_page_read_only(client, world):
    client.force_login(world.contributor)
    response = client.get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert world.approver.email in body
    assert "Invite a colleague" not in body and "Change role" not in body
    assert "Only your organisation's approvers" in body
    member = CustomerMembership.objects.get(user=world.approver)
    assert _invite(client).status_code == 403
    assert client.post(reverse("organisation_remove"), {"member": member.pk}).status_code == 403
    role = {"member": member.pk, "role": "contributor"}
    assert client.post(reverse("organisation_role"), role).status_code == 403
    assert CustomerMembership.objects.get(user=world.approver).role == "approver"


def test_it_shows_no_other_organisations_members(client, world):
    client.force_login(world.approver)
    body = client.get(URL).content.decode()
    assert world.other_customer_user.email not in body


# --- invitations -------------------------------------------------------------------------


def test_it_invites_a_colleague_by_email(client, world):
    client.force_login(world.approver)
    response = _invite(client, "Dana@Woodgrove.example", "approver")
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.email == "dana@woodgrove.example"
    assert invitation.role == "approver"
    assert invitation.sent_at is not None
    (message,) = mail.outbox
    assert message.to == ["dana@woodgrove.example"]
    assert "Join Woodgrove" in message.subject
    assert "/organisation/join/" in message.body
    assert message.alternatives and "/organisation/join/" in message.alternatives[0][0]
    assert _actions(world.customer)[-1] == "customers.membership.invited"
    body = client.get(URL).content.decode()
    assert "dana@woodgrove.example" in body and "Invitations waiting" in body


BAD_INVITES = [
    ("missing", "", "contributor", "This field is required"),
    ("not an email", "dana at woodgrove", "contributor", "Enter a valid email address"),
    ("10,000 characters", "d" * 10_000 + "@woodgrove.example", "contributor", "at most 254"),
    ("other domain", "dana@gmail.example", "contributor", "not at one of Woodgrove"),
    ("look-alike domain", "dana@woodgrove.example.evil", "contributor", "not at one of Woodgrove"),
    ("a member already", "casey@woodgrove.example", "contributor", "is a member already"),
    ("forged role", "dana@woodgrove.example", "owner", "Select a valid choice"),
]


@pytest.mark.parametrize(
    ("case", "email", "role", "message"), BAD_INVITES, ids=[c[0] for c in BAD_INVITES]
)
def test_it_explains_a_bad_invitation_and_keeps_what_was_typed(
    client, world, case, email, role, message
):
    client.force_login(world.approver)
    response = _invite(client, email, role)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    if email and len(email) < 300:
        assert f'value="{email}"' in body
    assert Invitation.objects.count() == 0
    assert mail.outbox == []


def test_inviting_again_sends_the_same_invitation_again(client, world):
    client.force_login(world.approver)
    _invite(client)
    first = Invitation.objects.get()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        _invite(client, role="approver")
    again = Invitation.objects.get()
    assert again.pk == first.pk and again.role == "approver"
    assert again.expires_at > first.expires_at
    assert len(mail.outbox) == 2
    assert _actions(world.customer)[-1] == "customers.invitation.resent"


def test_it_withdraws_an_invitation_and_its_link_stops_working(client, world):
    client.force_login(world.approver)
    _invite(client)
    link = _link(mail.outbox[0])
    invitation = Invitation.objects.get()
    response = client.post(reverse("organisation_invitation_revoke"), {"invitation": invitation.pk})
    assert response.status_code == 302
    colleague = f.UserFactory(email="dana@woodgrove.example")
    client.force_login(colleague)
    response = client.post(link)
    assert response.status_code == 400
    assert "withdrawn by the organisation" in response.content.decode()
    assert not CustomerMembership.objects.filter(user=colleague).exists()


def test_it_will_not_touch_another_organisations_invitation(client, world):
    theirs = _service_invite(
        world.other_customer, world.other_customer_user, "tom@tailspin.example"
    )
    client.force_login(world.approver)
    for name in ("organisation_invitation_revoke", "organisation_invitation_resend"):
        assert client.post(reverse(name), {"invitation": theirs.pk}).status_code == 404
    assert (
        client.post(reverse("organisation_invitation_revoke"), {"invitation": "x"}).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


# --- joining -------------------------------------------------------------------------------


@pytest.fixture
def invited(world):
    invitation = _service_invite(world.customer, world.approver, "dana@woodgrove.example")
    return invitation, _link(mail.outbox[-1])


def test_an_invited_colleague_joins(client, world, invited):
    invitation, link = invited
    # Not signed in: the page says who invites them and offers sign-in and sign-up.
    page = client.get(link).content.decode()
    assert "Join Woodgrove" in page and world.approver.email in page
    assert "Create an account" in page
    colleague = f.UserFactory(email="dana@woodgrove.example")
    client.force_login(colleague)
    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("customer_claims")
    membership = CustomerMembership.objects.get(user=colleague)
    assert membership.customer == world.customer and membership.role == "contributor"
    invitation.refresh_from_db()
    assert invitation.accepted_by == colleague
    entry = list(history(world.customer))[-1]
    assert entry.action == "customers.membership.joined"
    assert entry.data["invited_by"] == world.approver.email
    assert verify_history(world.customer) == []
    # Used once: the link does not work again.
    again = client.post(link)
    assert again.status_code == 400
    assert "used already" in again.content.decode()


def test_a_tampered_link_is_refused_clearly(client, world, invited):
    _invitation, link = invited
    client.force_login(f.UserFactory(email="dana@woodgrove.example"))
    token = link.rstrip("/").rsplit("/", 1)[1]
    for bad in (token[:-2] + "xx", "not-a-token", token.replace(":", "", 1), "a" * 10_000):
        response = client.post(reverse("organisation_join", args=[bad]))
        assert response.status_code == 400
        assert "This invitation link is not valid" in response.content.decode()
    assert CustomerMembership.objects.filter(customer=world.customer).count() == 2


def test_a_link_for_another_invitation_number_is_refused(client, world, invited):
    invitation, _link_ = invited
    other = Invitation.objects.create(
        customer=world.customer,
        email="eve@woodgrove.example",
        nonce="0" * 32,
        invited_by=world.approver,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    # The signature of one invitation's token, with the other's number written in.
    signed = invitation_token(invitation)
    payload = signing.b64_encode(
        json.dumps({"i": other.pk, "n": other.nonce}, separators=(",", ":")).encode()
    ).decode()
    forged = payload + signed[signed.index(":") :]
    client.force_login(f.UserFactory(email="eve@woodgrove.example"))
    response = client.post(reverse("organisation_join", args=[forged]))
    assert response.status_code == 400
    assert "This invitation link is not valid" in response.content.decode()
    assert not CustomerMembership.objects.filter(user__email="eve@woodgrove.example").exists()


def test_an_expired_link_is_refused_clearly(client, world, invited):
    _invitation, link = invited
    client.force_login(f.UserFactory(email="dana@woodgrove.example"))
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        response = client.post(link)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not CustomerMembership.objects.filter(user__email="dana@woodgrove.example").exists()


def test_it_refuses_someone_signed_in_with_another_address(client, world, invited):
    _invitation, link = invited
    stranger = f.UserFactory(email="mallory@woodgrove.example")
    client.force_login(stranger)
    response = client.post(link)
    assert response.status_code == 409
    assert "This invitation is for dana@woodgrove.example" in response.content.decode()
    assert not CustomerMembership.objects.filter(user=stranger).exists()


def test_it_refuses_an_unverified_address(client, world, invited):
    _invitation, link = invited
    colleague = f.UserFactory(email="dana@woodgrove.example")
    EmailAddress.objects.filter(user=colleague).update(verified=False)
    client.force_login(colleague)
    assert client.post(link).status_code == 409
    assert not CustomerMembership.objects.filter(user=colleague).exists()


def test_it_refuses_someone_who_belongs_to_another_organisation(client, world):
    world.other_customer.verified_domains += "\nwoodgrove.example"
    world.other_customer.save()
    twice = f.customer_user(world.other_customer, "contributor", email="dana@woodgrove.example")
    _service_invite(world.customer, world.approver, "dana@woodgrove.example")
    client.force_login(twice)
    response = client.post(_link(mail.outbox[-1]))
    assert response.status_code == 409
    assert "You already belong to Tailspin" in response.content.decode()


# --- roles and removal ---------------------------------------------------------------------


def test_it_makes_a_contributor_an_approver(client, world):
    client.force_login(world.approver)
    member = CustomerMembership.objects.get(user=world.contributor)
    response = client.post(reverse("organisation_role"), {"member": member.pk, "role": "approver"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == "approver"
    entry = list(history(world.customer))[-1]
    assert entry.action == "customers.membership.role_changed"
    assert entry.data == {"email": world.contributor.email, "from": "contributor", "to": "approver"}


def test_it_keeps_at_least_one_approver(client, world):
    client.force_login(world.approver)
    me = CustomerMembership.objects.get(user=world.approver)
    response = client.post(reverse("organisation_role"), {"member": me.pk, "role": "contributor"})
    assert response.status_code == 409
    assert "is the only approver" in response.content.decode()
    response = client.post(reverse("organisation_remove"), {"member": me.pk})
    assert response.status_code == 409
    me.refresh_from_db()
    assert me.role == "approver"


@pytest.mark.parametrize("member", ["other", "nonsense", "missing"])
def test_it_404s_for_a_member_of_another_organisation(client, world, member):
    theirs = CustomerMembership.objects.get(user=world.other_customer_user)
    value = {"other": theirs.pk, "nonsense": "1 OR 1=1", "missing": 999999}[member]
    client.force_login(world.approver)
    role = {"member": value, "role": "contributor"}
    assert client.post(reverse("organisation_role"), role).status_code in (400, 404)
    assert client.post(reverse("organisation_remove"), {"member": value}).status_code in (403, 404)
    assert CustomerMembership.objects.filter(pk=theirs.pk, role="approver").exists()


def test_a_removed_member_loses_access_at_once(client, world):
    claim = world.draft(user=world.contributor)
    removed = client_for(world.contributor)
    assert removed.get(reverse("customer_claim_detail", args=[claim.reference])).status_code == 200
    client.force_login(world.approver)
    member = CustomerMembership.objects.get(user=world.contributor)
    response = client.post(reverse("organisation_remove"), {"member": member.pk})
    assert response.status_code == 302
    # The same signed-in session, on its very next request.
    assert removed.get(reverse("customer_claim_detail", args=[claim.reference])).status_code == 403
    assert removed.get(reverse("customer_claims")).status_code == 403
    entry = list(history(world.customer))[-1]
    assert entry.action == "customers.membership.removed"
    assert entry.data == {"email": world.contributor.email, "role": "contributor"}


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


# --- naming an organisation: domains and tenants ------------------------------------------


def _register(user, **kwargs):
    values = {
        "name": "Northwind",
        "tenant_id": "northwind.example",
        "segment": "commercial",
        "seats": 300,
        "domains": ["northwind.example"],
    }
    values.update(kwargs)
    return services.register_customer(user=user, **values)


def test_the_first_person_becomes_the_approver(world):
    nora = f.UserFactory(email="nora@northwind.example")
    customer = _register(nora, domains=["northwind.example", "northwind-traders.example"])
    assert CustomerMembership.objects.get(user=nora).role == "approver"
    assert customer.verified_domains.split() == ["northwind.example", "northwind-traders.example"]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"domains": ["contoso.example"]}, "domains", "not among the domains you named"),
        ({"domains": ["woodgrove.example", "northwind.example"]}, "domains", "already belongs"),
        ({"tenant_id": "WOODGROVE.example"}, "tenant_id", "already registered"),
        ({"tenant_id": "no spaces allowed"}, "tenant_id", "A tenant id is"),
        ({"tenant_id": "x" * 10_000}, "tenant_id", "A tenant id is"),
        ({"domains": ["not a domain!"]}, "domains", "is not a domain name"),
        ({"domains": [f"d{i}.example" for i in range(25)]}, "domains", "at most 20"),
    ],
)
def test_it_refuses_a_bad_organisation(world, kwargs, field, message):
    nora = f.UserFactory(email="nora@northwind.example")
    with pytest.raises(OrganisationError, match=message) as caught:
        _register(nora, **kwargs)
    assert caught.value.field == field
    assert not CustomerMembership.objects.filter(user=nora).exists()
    assert Customer.objects.count() == 2


def test_it_needs_a_verified_email_to_name_an_organisation(world):
    nora = f.UserFactory(email="nora@northwind.example")
    EmailAddress.objects.filter(user=nora).update(verified=False)
    with pytest.raises(OrganisationError, match="Verify your email address"):
        _register(nora)


def test_it_does_not_let_a_newcomer_take_over_a_tenant_on_the_claim_form(client, world):
    impostor = f.UserFactory(email="ivan@woodgrove.example")
    client.force_login(impostor)
    response = client.post(
        reverse("claim_start", args=[world.partner.slug]),
        {
            "action": "save",
            "org-name": "Woodgrove (mine now)",
            "org-tenant_id": "other-tenant.example",
            "org-domains": "woodgrove.example",
            "org-segment": "commercial",
            "org-seats": "10",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "already belongs to an organisation registered here" in body
    assert "Ask your organisation&#x27;s approver to invite you" in body
    assert 'value="Woodgrove (mine now)"' in body
    assert not CustomerMembership.objects.filter(user=impostor).exists()


def test_nobody_acts_for_an_organisation_outside_its_domains(world):
    # An address changed to another domain after joining: the member can no longer sign.
    claim = world.draft()
    world.approver.email = "alex@gmail.example"
    world.approver.save()
    EmailAddress.objects.create(user=world.approver, email="alex@gmail.example", verified=True)
    with pytest.raises(ClaimError, match="is not at one of Woodgrove's domains"):
        lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=True)
    with pytest.raises(ClaimError, match="is not at one of Woodgrove's domains"):
        world.draft()
