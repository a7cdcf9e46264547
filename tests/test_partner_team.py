"""/partner/team/ and /partner/profile/: admins manage, members read, others get nothing."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from claims_portal.audit import history, verify_history
from partners import team
from partners.models import PartnerInvitation, PartnerMembership
from tests import factories as f
from tests import uploads as u


def _invite(client, world, email="new@contoso.example", role="member", callbacks=None):
    client.force_login(world.partner_admin)
    with callbacks(execute=True):
        return client.post(reverse("partner_team_invite"), {"email": email, "role": role})


def _link(message) -> str:
    return re.search(r"https?://\S+/partner/join/\S+/", message.body).group(0)


def test_an_admin_invites_and_the_invited_person_joins(
    client, world, django_capture_on_commit_callbacks
):
    response = _invite(client, world, callbacks=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["new@contoso.example"]
    assert "Contoso" in message.subject
    path = _link(message).split("testserver")[-1].replace("http://127.0.0.1:8000", "")
    path = path[path.index("/partner/join/") :]

    client.logout()
    anonymous = client.get(path).content.decode()
    assert "Sign in, or create an account, with new@contoso.example" in anonymous

    newcomer = f.UserFactory(email="new@contoso.example")
    client.force_login(newcomer)
    response = client.post(path)
    assert response["Location"] == reverse("partner_dashboard")
    membership = PartnerMembership.objects.get(user=newcomer)
    assert (membership.partner, membership.role) == (world.partner, "member")
    assert client.get(reverse("partner_dashboard")).status_code == 200
    assert [e.action for e in history(world.partner)] == [
        "partners.member.invited",
        "partners.member.joined",
    ]
    assert verify_history(world.partner) == []
    # The link is used up.
    assert client.post(path).status_code == 410


def test_the_invitation_is_for_its_address_only(client, world, django_capture_on_commit_callbacks):
    _invite(client, world, callbacks=django_capture_on_commit_callbacks)
    invitation = PartnerInvitation.objects.get()
    path = reverse("partner_team_join", args=[team.token_for(invitation)])
    for user in (f.UserFactory(email="other@contoso.example"), world.rival_member):
        client.force_login(user)
        response = client.post(path)
        assert response.status_code == 403
    assert not PartnerMembership.objects.filter(user__email="other@contoso.example").exists()
    assert PartnerMembership.objects.get(user=world.rival_member).partner == world.rival


@pytest.mark.parametrize("state", ["expired", "revoked", "altered"])
def test_a_dead_invitation_says_what_to_do(client, world, state):
    invitation = team.invite_member(
        partner=world.partner, user=world.partner_admin, email="new@contoso.example", role="admin"
    )
    token = team.token_for(invitation)
    if state == "expired":
        PartnerInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    elif state == "revoked":
        team.revoke_invitation(invitation, user=world.partner_admin)
    else:
        token = token[:-3] + "xyz"
    client.force_login(f.UserFactory(email="new@contoso.example"))
    response = client.post(reverse("partner_team_join", args=[token]))
    assert response.status_code == (400 if state == "altered" else 410)
    assert "This invitation does not work" in response.content.decode()
    assert not PartnerMembership.objects.filter(user__email="new@contoso.example").exists()


def test_inviting_again_replaces_the_open_invitation(world):
    first = team.invite_member(
        partner=world.partner, user=world.partner_admin, email="New@Contoso.example", role="member"
    )
    second = team.invite_member(
        partner=world.partner, user=world.partner_admin, email="new@contoso.example", role="admin"
    )
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert team.open_token(team.token_for(first)).state == team.InvitationState.REVOKED
    assert team.open_token(team.token_for(second)).state == team.InvitationState.VALID


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"email": "not-an-address", "role": "member"}, "Enter a valid email address"),
        ({"email": "x@contoso.example", "role": "owner"}, "Select a valid choice"),
        ({"email": "pat@contoso.example", "role": "member"}, "is in your team already"),
    ],
)
def test_a_bad_invitation_is_refused_with_what_was_typed(client, world, data, says):
    client.force_login(world.partner_admin)
    response = client.post(reverse("partner_team_invite"), data)
    assert response.status_code in (400, 409)
    body = response.content.decode()
    assert says in body
    assert data["email"] in body
    assert not PartnerInvitation.objects.exists()


def test_members_see_the_team_but_cannot_manage_it(client, world):
    client.force_login(world.partner_member)
    body = client.get(reverse("partner_team")).content.decode()
    assert "boss@contoso.example" in body and "pat@contoso.example" in body
    assert "Invite someone" not in body
    admin = PartnerMembership.objects.get(user=world.partner_admin)
    for name, args, data in [
        ("partner_team_invite", [], {"email": "x@contoso.example", "role": "admin"}),
        ("partner_team_role", [admin.pk], {"role": "member"}),
        ("partner_team_remove", [admin.pk], {}),
    ]:
        assert client.post(reverse(name, args=args), data).status_code == 403
    admin.refresh_from_db()
    assert admin.role == "admin"
    assert not PartnerInvitation.objects.exists()


def test_another_partners_admin_cannot_reach_our_people(client, world):
    rival_admin = f.partner_user(world.rival, "admin", email="ria@fabrikam.example")
    ours = PartnerMembership.objects.get(user=world.partner_member)
    invitation = team.invite_member(
        partner=world.partner, user=world.partner_admin, email="n@contoso.example", role="member"
    )
    client.force_login(rival_admin)
    assert (
        client.post(reverse("partner_team_role", args=[ours.pk]), {"role": "admin"}).status_code
        == 404
    )
    assert client.post(reverse("partner_team_remove", args=[ours.pk])).status_code == 404
    assert client.post(reverse("partner_team_revoke", args=[invitation.pk])).status_code == 404
    assert "pat@contoso.example" not in client.get(reverse("partner_team")).content.decode()
    ours.refresh_from_db()
    assert ours.role == "member"


@pytest.mark.parametrize("who", ["approver", "reviewer"])
def test_the_team_and_profile_are_for_partners(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get(reverse("partner_team")).status_code == 403
    assert client.get(reverse("partner_profile")).status_code == 403


def test_an_admin_sets_roles_but_never_leaves_the_team_without_one(client, world):
    client.force_login(world.partner_admin)
    member = PartnerMembership.objects.get(user=world.partner_member)
    admin = PartnerMembership.objects.get(user=world.partner_admin)
    client.post(reverse("partner_team_role", args=[member.pk]), {"role": "admin"})
    member.refresh_from_db()
    assert member.role == "admin"
    client.post(reverse("partner_team_role", args=[member.pk]), {"role": "member"})
    response = client.post(reverse("partner_team_role", args=[admin.pk]), {"role": "member"})
    assert response.status_code == 409
    assert "only admin" in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == "admin"
    changes = [e.data for e in history(world.partner) if e.action.endswith("role_changed")]
    assert changes == [
        {"email": "pat@contoso.example", "from": "member", "to": "admin"},
        {"email": "pat@contoso.example", "from": "admin", "to": "member"},
    ]


def test_a_removed_member_is_signed_out_and_refused_at_once(client, world):
    from django.test import Client

    theirs = Client()
    theirs.force_login(world.partner_member)
    assert theirs.get(reverse("partner_dashboard")).status_code == 200
    assert Session.objects.count() == 1

    client.force_login(world.partner_admin)
    member = PartnerMembership.objects.get(user=world.partner_member)
    response = client.post(reverse("partner_team_remove", args=[member.pk]))
    assert response.status_code == 302
    assert not PartnerMembership.objects.filter(pk=member.pk).exists()
    # Their very next request: no session, so the sign-in page.
    response = theirs.get(reverse("partner_dashboard"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    [entry] = [e for e in history(world.partner) if e.action == "partners.member.removed"]
    assert entry.data == {"email": "pat@contoso.example", "role": "member", "sessions_ended": 1}
    # The admin's own session is untouched.
    assert client.get(reverse("partner_team")).status_code == 200


def test_even_without_a_recorded_session_a_removed_member_has_no_access(client, world):
    client.force_login(world.partner_member)
    PartnerMembership.objects.filter(user=world.partner_member).delete()
    assert client.get(reverse("partner_dashboard")).status_code == 403


def test_the_last_admin_cannot_be_removed(client, world):
    client.force_login(world.partner_admin)
    admin = PartnerMembership.objects.get(user=world.partner_admin)
    response = client.post(reverse("partner_team_remove", args=[admin.pk]))
    assert response.status_code == 409
    assert PartnerMembership.objects.filter(pk=admin.pk).exists()


# --- The profile ---------------------------------------------------------------------------


def _profile(**changes):
    return {"name": "Contoso Ltd", "contact_email": "claims@contoso.example", **changes}


def test_an_admin_changes_the_profile_and_the_logo_is_reencoded(client, world):
    client.force_login(world.partner_admin)
    logo = u.png(size=(1200, 600))
    response = client.post(reverse("partner_profile"), _profile(logo=logo))
    assert response.status_code == 302
    world.partner.refresh_from_db()
    assert world.partner.name == "Contoso Ltd"
    assert world.partner.logo.name.endswith(".png")
    served = client.get(world.partner.logo.url)
    assert served["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(b"".join(served.streaming_content))) as image:
        assert image.size == (512, 256)
    [entry] = history(world.partner)
    assert entry.action == "partners.profile.changed"
    assert entry.data["name"] == {"from": "Contoso", "to": "Contoso Ltd"}
    assert entry.data["logo"] == "replaced"


@pytest.mark.parametrize(
    ("logo", "says"),
    [
        (u.bomb(), "at most 16 million pixels"),
        (u.pdf(name="logo.png", content=u.SVG), "markup"),
        (u.pdf(name="logo.png", content=u.HTML), "web page"),
    ],
)
def test_a_bad_logo_is_refused_and_nothing_changes(client, world, logo, says):
    client.force_login(world.partner_admin)
    response = client.post(reverse("partner_profile"), _profile(logo=logo))
    assert response.status_code == 400
    assert says in response.content.decode()
    assert "Contoso Ltd" in response.content.decode()  # typed values kept
    world.partner.refresh_from_db()
    assert world.partner.name == "Contoso" and not world.partner.logo
    assert not history(world.partner).exists()


def test_members_read_the_profile_only(client, world):
    client.force_login(world.partner_member)
    body = client.get(reverse("partner_profile")).content.decode()
    assert "admins can change the profile" in body
    assert 'name="contact_email"' not in body
    assert client.post(reverse("partner_profile"), _profile()).status_code == 403
    world.partner.refresh_from_db()
    assert world.partner.name == "Contoso"
