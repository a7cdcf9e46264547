"""`/i/<token>/`: signed, bound to one claim, expiring, revocable; clear pages when it fails."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from claims import lifecycle
from claims.lifecycle import ClaimError
from claims_portal.audit import history
from customers.models import CustomerMembership
from partners import invites, tokens
from partners.models import ClaimInvite
from partners.prepare import OrganisationInput
from partners.tasks import send_claim_invite, sweep_invitations
from tests.prepared import invitee, prepared


def _url(invite: ClaimInvite) -> str:
    return reverse("claim_invite", args=[invites.token_for(invite)])


def test_a_stranger_sees_what_it_is_and_how_to_get_in(client, world):
    claim, invite = prepared(world)
    response = client.get(_url(invite))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Contoso prepared a claim for Northwind Traders" in body
    assert f"next=%2Fi%2F{invites.token_for(invite).replace(':', '%3A')}%2F" in body
    assert "northwind.example" in body
    assert not claim.customer.memberships.exists()


def test_the_link_expires_after_the_programs_days(world):
    world.program.invite_valid_days = 3
    world.program.save()
    _, invite = prepared(world)
    assert invite.expires_at - invite.created_at == pytest.approx(
        datetime.timedelta(days=3), abs=datetime.timedelta(seconds=5)
    )


def test_the_first_person_of_a_new_organisation_joins_as_its_approver(client, world):
    claim, invite = prepared(world)
    ada = invitee()
    client.force_login(ada)
    response = client.post(_url(invite))
    assert response.status_code == 302
    assert CustomerMembership.objects.get(user=ada).role == CustomerMembership.Role.APPROVER
    invite.refresh_from_db()
    assert (invite.used_by, invite.used_at is not None) == (ada, True)
    assert [e.action for e in history(invite)] == ["partners.invite.issued", "partners.invite.used"]
    assert "customers.membership.joined_by_invite" in [e.action for e in history(claim.customer)]
    assert lifecycle.can(ada, claim, lifecycle.A.SIGN)


@pytest.mark.parametrize(
    ("who", "says"),
    [
        ("wrong_domain", "not at one of Northwind Traders"),
        ("other_customer_user", "claim of another organisation"),
        ("partner_member", "partner or claims team account"),
        ("reviewer", "partner or claims team account"),
    ],
)
def test_it_refuses_whoever_the_link_is_not_for(client, world, who, says):
    _, invite = prepared(world)
    user = invitee("mallory@evil.example") if who == "wrong_domain" else getattr(world, who)
    client.force_login(user)
    for method in (client.get, client.post):
        response = method(_url(invite))
        assert response.status_code == 403
        assert says in response.content.decode()
    invite.refresh_from_db()
    assert invite.used_at is None
    assert not CustomerMembership.objects.filter(customer__tenant_id="northwind.example").exists()


def test_an_unverified_address_at_the_domain_is_not_enough(client, world):
    _, invite = prepared(world)
    user = invitee("ada@northwind.example")
    user.emailaddress_set.update(verified=False)
    client.force_login(user)
    assert client.post(_url(invite)).status_code == 403


def test_a_known_organisation_is_opened_by_its_own_people_only(client, world):
    woodgrove = OrganisationInput(world.customer.tenant_id, "", "woodgrove.example")
    claim, invite = prepared(world, organisation=woodgrove)
    outsider = invitee(f"eve@{world.customer.tenant_id}")  # right domain, not a member
    client.force_login(outsider)
    response = client.post(_url(invite))
    assert response.status_code == 403
    assert "Ask one of its approvers to add you" in response.content.decode()
    client.force_login(world.contributor)
    response = client.post(_url(invite))
    assert response["Location"] == reverse("customer_claim_detail", args=[claim.reference])
    assert not CustomerMembership.objects.filter(user=outsider).exists()


def _tamper(token: str) -> list[str]:
    payload, _, signature = token.rpartition(":")
    other = signing.Signer(salt=tokens.TEAM_INVITATION).sign_object({"i": 1, "n": "0" * 32})
    return [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        payload[:-2] + ":" + signature,  # payload cut
        token[: len(token) // 2],  # half a link
        "not-a-token",
        "%3Cscript%3E",
        other,  # a real token of another kind
    ]


def test_a_tampered_token_gets_a_page_that_says_so(client, world):
    _, invite = prepared(world)
    for bad in _tamper(invites.token_for(invite)):
        response = client.get(reverse("claim_invite", args=[bad]))
        assert response.status_code == 400, bad
        assert "not complete or was changed on the way" in response.content.decode()


def test_a_token_of_one_claim_does_not_open_another(client, world):
    _, first = prepared(world)
    _, second = prepared(world)
    # Even correctly signed, one invite's nonce does not open another invite's row.
    forged = signing.Signer(salt=tokens.CLAIM_INVITE).sign_object(
        {"i": second.pk, "n": first.nonce}
    )
    assert invites.open_token(forged).state == invites.InviteState.ALTERED
    # A token signed for something else (a timestamped dump, another salt) is not ours.
    for other in (
        signing.dumps({"i": second.pk, "n": second.nonce}, salt=tokens.CLAIM_INVITE),
        signing.Signer(salt="elsewhere").sign_object({"i": second.pk, "n": second.nonce}),
    ):
        assert invites.open_token(other).state == invites.InviteState.ALTERED
    assert invites.open_token(invites.token_for(second)).state == invites.InviteState.VALID


@pytest.mark.parametrize("state", ["expired", "revoked", "used", "withdrawn"])
def test_a_link_that_no_longer_works_says_what_to_do(client, world, state):
    claim, invite = prepared(world)
    if state == "expired":
        ClaimInvite.objects.filter(pk=invite.pk).update(expires_at=timezone.now())
        says = "has expired"
    elif state == "revoked":
        invites.revoke_invite(claim, user=world.partner_admin)
        says = "withdrew this link"
    elif state == "used":
        invites.accept_invite(invite, user=invitee())
        says = "has been used already"
    else:
        lifecycle.withdraw(claim, user=world.partner_member)
        says = "no longer waits for a signature"
    client.force_login(invitee("bob@northwind.example"))
    for method in (client.get, client.post):
        response = method(_url(invite))
        assert response.status_code == 410
        assert says in response.content.decode()
        assert "Contoso" in response.content.decode()


def test_an_old_link_takes_the_customers_own_people_to_the_claim(client, world):
    claim, invite = prepared(world)
    ada = invitee()
    invites.accept_invite(invite, user=ada)
    client.force_login(ada)
    response = client.get(_url(invite))
    assert response["Location"] == reverse("customer_claim_detail", args=[claim.reference])


def test_a_new_link_replaces_the_old_one(client, world):
    claim, old = prepared(world)
    client.force_login(world.partner_admin)
    client.post(reverse("partner_invite_issue", args=[claim.reference]))
    new = claim.invites.get(revoked_at=None)
    assert new.pk != old.pk
    assert invites.open_token(invites.token_for(old)).state == invites.InviteState.REVOKED
    assert invites.open_token(invites.token_for(new)).state == invites.InviteState.VALID
    page = client.get(reverse("partner_claim_detail", args=[claim.reference])).content.decode()
    assert invites.token_for(new) in page and invites.token_for(old) not in page


def test_a_revoked_link_can_be_issued_again(client, world):
    claim, _ = prepared(world)
    client.force_login(world.partner_member)
    client.post(reverse("partner_invite_revoke", args=[claim.reference]))
    page = client.get(reverse("partner_claim_detail", args=[claim.reference])).content.decode()
    assert "no working link" in page
    response = client.post(reverse("partner_invite_revoke", args=[claim.reference]))
    assert response.status_code == 409
    assert "nothing to revoke" in response.content.decode()
    client.post(reverse("partner_invite_issue", args=[claim.reference]))
    assert invites.live_invite(claim) is not None


def test_the_partner_emails_the_link_once(client, world, django_capture_on_commit_callbacks):
    claim, invite = prepared(world)
    client.force_login(world.partner_member)
    url = reverse("partner_invite_send", args=[claim.reference])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"send-email": "ada@northwind.example"})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["ada@northwind.example"]]
    assert send_claim_invite(invite.pk) is False  # a repeated message sends nothing
    assert len(mail.outbox) == 1


def test_sending_needs_an_address_and_a_working_link(client, world):
    claim, invite = prepared(world)
    client.force_login(world.partner_member)
    url = reverse("partner_invite_send", args=[claim.reference])
    response = client.post(url, {"send-email": "not an address"})
    assert response.status_code == 400
    assert "not an address" in response.content.decode()  # kept in the form
    ClaimInvite.objects.filter(pk=invite.pk).update(expires_at=timezone.now())
    response = client.post(url, {"send-email": "ada@northwind.example"})
    assert response.status_code == 409
    assert "issue a new link" in response.content.decode()
    assert mail.outbox == []


def test_the_sweep_sends_what_a_lost_message_left(world, django_capture_on_commit_callbacks):
    claim, invite = prepared(world)
    ClaimInvite.objects.filter(pk=invite.pk).update(
        email="ada@northwind.example",
        send_requested_at=timezone.now() - datetime.timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_invitations()["claim_invites"] == 1
    assert len(mail.outbox) == 1
    assert sweep_invitations()["claim_invites"] == 0


@pytest.mark.parametrize("name", ["partner_invite_issue", "partner_invite_revoke"])
def test_another_partner_cannot_touch_the_link(client, world, name):
    claim, invite = prepared(world)
    client.force_login(world.rival_member)
    assert client.post(reverse(name, args=[claim.reference])).status_code == 404
    url = reverse("partner_invite_send", args=[claim.reference])
    assert client.post(url, {"send-email": "x@y.example"}).status_code == 404
    invite.refresh_from_db()
    assert invite.revoked_at is None and invite.send_requested_at is None


def test_a_link_belongs_to_a_claim_the_partner_prepared(world):
    claim = world.submitted()
    with pytest.raises(ClaimError):
        invites.issue_invite(claim, user=world.partner_member)


def test_two_acceptances_do_not_both_win(world):
    _, invite = prepared(world)
    invites.accept_invite(invite, user=invitee())
    with pytest.raises(invites.InviteRefused):
        invites.accept_invite(invite, user=invitee("bob@northwind.example"))
    assert CustomerMembership.objects.filter(customer__tenant_id="northwind.example").count() == 1


def test_a_claim_signed_without_the_link_closes_it(world):
    woodgrove = OrganisationInput(world.customer.tenant_id, "", "woodgrove.example")
    claim, invite = prepared(world, organisation=woodgrove)
    lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=True)
    assert invites.open_token(invites.token_for(invite)).state == invites.InviteState.CLOSED
    with pytest.raises(invites.InviteRefused):
        invites.accept_invite(invite, user=world.approver)
