"""Short programs beside the annual one: the claim URL takes the program, or asks which."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim
from partners.selectors import current_program, current_programs
from tests import factories as f


@pytest.fixture
def rooms(world):
    """A short "Teams Rooms" push this quarter, where Contoso has a catalog."""
    today = timezone.localdate()
    program = f.ProgramFactory(
        name="Teams Rooms push",
        slug="teams-rooms",
        start_date=today - datetime.timedelta(days=10),
        end_date=today + datetime.timedelta(days=80),
    )
    program.workloads.set([world.workloads[1]])
    f.catalog(world.partner, program, [world.workloads[1]])
    return program


def _start(world, program=None):
    if program is None:
        return reverse("claim_start", args=[world.partner.slug])
    return reverse("claim_start_in_program", args=[world.partner.slug, program.slug])


def test_one_current_program_opens_the_claim_form(client, world):
    client.force_login(world.approver)
    response = client.get(_start(world))
    assert response.status_code == 200
    assert response.context["program"] == world.program


def test_several_current_programs_ask_which(client, world, rooms):
    client.force_login(world.approver)
    response = client.get(_start(world))
    assert response.status_code == 200
    assert response.templates[0].name == "claims/choose_program.html"
    assert response.context["programs"] == [rooms, world.program]
    text = response.content.decode()
    assert _start(world, rooms) in text and _start(world, world.program) in text


def test_the_program_url_opens_the_form_in_that_program_and_the_claim_is_made_in_it(
    client, world, rooms
):
    client.force_login(world.approver)
    response = client.get(_start(world, rooms))
    assert response.status_code == 200
    assert response.context["program"] == rooms
    assert [line.workload.code for line in response.context["form"].lines] == ["teams"]
    today = timezone.localdate()
    prefix = f"w{world.workloads[1].pk}"
    response = client.post(
        _start(world, rooms),
        {
            "action": "save",
            "contact-survey_contact_mode": "one",
            "contact-survey_contact_name": "Sam Survey",
            "contact-survey_contact_email": "sam@woodgrove.example",
            f"{prefix}-selected": "on",
            f"{prefix}-target_start": today.isoformat(),
            f"{prefix}-target_end": (today + datetime.timedelta(days=30)).isoformat(),
            f"{prefix}-seats": "40",
        },
    )
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert claim.program == rooms
    assert claim.program_rules["partner_confirm_days"] == rooms.partner_confirm_days


def test_a_program_url_for_the_annual_program_works_too(client, world, rooms):
    client.force_login(world.approver)
    assert client.get(_start(world, world.program)).context["program"] == world.program


@pytest.mark.parametrize("which", ["ended", "future", "no-catalog", "unknown"])
def test_a_program_the_partner_takes_no_claims_in_today_is_a_404(client, world, which):
    today = timezone.localdate()
    if which == "ended":
        program = f.ProgramFactory(
            slug="old-push",
            start_date=today - datetime.timedelta(days=100),
            end_date=today - datetime.timedelta(days=1),
        )
        f.catalog(world.partner, program, [world.workloads[0]])
    elif which == "future":
        program = f.ProgramFactory(
            slug="next-push",
            start_date=today + datetime.timedelta(days=1),
            end_date=today + datetime.timedelta(days=100),
        )
        f.catalog(world.partner, program, [world.workloads[0]])
    elif which == "no-catalog":
        program = f.ProgramFactory(slug="edge-push")
        f.catalog(world.rival, program, [world.workloads[0]])
    else:
        program = f.ProgramFactory.build(slug="nothing-here")
    client.force_login(world.approver)
    response = client.get(_start(world, program))
    assert response.status_code == 404
    assert "takes no claims in this program right now" in response.content.decode()
    assert reverse("claim_start", args=[world.partner.slug]) in response.content.decode()


def test_program_urls_refuse_partner_and_claims_team_staff(client, world, rooms):
    url = _start(world, rooms)
    for user in (world.partner_member, world.reviewer):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.get(_start(world)).status_code == 403


def test_signed_out_the_chooser_shows_and_the_program_url_asks_to_sign_in(client, world, rooms):
    chooser = client.get(_start(world))
    assert chooser.status_code == 200
    assert chooser.templates[0].name == "claims/choose_program.html"
    landing = client.get(_start(world, rooms))
    assert landing.status_code == 200
    assert landing.templates[0].name == "claims/partner_landing.html"
    assert landing.context["program"] == rooms
    # A form posted after the session ended goes to sign-in and back to this program.
    response = client.post(_start(world, rooms), {"action": "save"})
    assert response.status_code == 302
    assert "login" in response["Location"] and "teams-rooms" in response["Location"]


def test_a_partner_code_in_the_program_url_goes_to_the_partner_slug(client, world, rooms):
    client.force_login(world.approver)
    response = client.get(reverse("claim_start_in_program", args=["contoso1", "teams-rooms"]))
    assert response.status_code == 302
    assert response["Location"] == _start(world, rooms)


def test_an_unknown_or_suspended_partner_is_a_404(client, world, rooms):
    client.force_login(world.approver)
    assert (
        client.get(reverse("claim_start_in_program", args=["nobody", "teams-rooms"])).status_code
        == 404
    )
    world.partner.is_active = False
    world.partner.save()
    assert client.get(_start(world, rooms)).status_code == 404


def test_the_selectors(world, rooms):
    assert current_programs(world.partner) == [rooms, world.program]
    assert current_program(world.partner) is None  # two: the customer must choose
    assert current_program(world.partner, "teams-rooms") == rooms
    assert current_program(world.partner, "nope") is None
    assert current_program(world.rival) == world.program
