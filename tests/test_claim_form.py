"""The claim form: drafts, the date, seat and contact rules, public-sector details, and
"nothing typed is ever lost" (failed validation, stale state, double submit, forged fields)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from claims import lifecycle
from claims.models import Claim, ClaimLine
from partners.models import PublicSectorField
from tests import factories as f

DAY = datetime.timedelta(days=1)


def _today():
    return timezone.localdate()


def _line(workload, *, start=None, end=None, seats="300", **extra):
    start = start if start is not None else (_today() + DAY).isoformat()
    end = end if end is not None else (_today() + 60 * DAY).isoformat()
    prefix = f"w{workload.pk}"
    data = {
        f"{prefix}-selected": "on",
        f"{prefix}-target_start": start,
        f"{prefix}-target_end": end,
        f"{prefix}-seats": seats,
    }
    data.update({f"{prefix}-{k}": v for k, v in extra.items()})
    return data


def _data(world, action="save", **overrides):
    data = {
        "action": action,
        "form_token": str(uuid.uuid4()),
        "contact-survey_contact_mode": "one",
        "contact-survey_contact_name": "Sam Survey",
        "contact-survey_contact_email": "sam@woodgrove.example",
        "contact-survey_contact_phone": "+44 20 7946 0958",
        **_line(world.workloads[0]),
    }
    data.update(overrides)
    return data


def _start(world):
    return reverse("claim_start", args=[world.partner.slug])


def _edit(claim):
    return reverse("claim_edit", args=[claim.reference])


# --- drafts ------------------------------------------------------------------------------


def test_a_draft_may_be_saved_half_done(client, world):
    client.force_login(world.contributor)
    w0 = world.workloads[0].pk
    data = {
        "action": "save",
        "contact-survey_contact_mode": "one",
        f"w{w0}-selected": "on",
        f"w{w0}-seats": "120",
    }
    response = client.post(_start(world), data)
    assert response.status_code == 302
    claim = Claim.objects.get()
    line = claim.lines.get()
    assert (line.target_start, line.target_end, line.seats) == (None, None, 120)
    assert claim.survey_contact_email == ""
    # Its page says what it still needs, and offers no routing until it is complete.
    page = client.get(reverse("customer_claim_detail", args=[claim.reference])).content.decode()
    assert "Before it can be sent or signed" in page
    assert "Exchange Online: give its target dates." in page
    with pytest.raises(lifecycle.ClaimError, match="is not complete yet"):
        lifecycle.route_to_approver(claim, user=world.contributor)


def test_the_contact_phone_and_per_service_contacts_are_kept(client, world):
    client.force_login(world.approver)
    w0, w1 = world.workloads[0], world.workloads[1]
    data = _data(
        world,
        **{"contact-survey_contact_mode": "per_service"},
        **_line(
            w0,
            survey_contact_name="Ann",
            survey_contact_email="ann@woodgrove.example",
            survey_contact_phone="+1 555 0100",
        ),
        **_line(w1, survey_contact_name="Bo", survey_contact_email="bo@woodgrove.example"),
    )
    assert client.post(_start(world), data).status_code == 302
    claim = Claim.objects.get()
    assert claim.survey_contact_name == "" and claim.survey_contact_phone == ""
    lines = {line.workload_id: line for line in claim.lines.all()}
    assert lines[w0.pk].survey_contact_phone == "+1 555 0100"
    assert lines[w1.pk].survey_contact_name == "Bo"


# --- bad input: a clear message, everything typed kept, no 500 -----------------------------

TOMORROW = "{tomorrow}"
BAD = [
    # (case, action, changes, message)
    ("start in the past", "save", {"w{w0}-target_start": "{yesterday}"}, "cannot be in the past"),
    (
        "completion before start",
        "save",
        {"w{w0}-target_start": "{in10}", "w{w0}-target_end": "{in5}"},
        "must be after the start",
    ),
    (
        "completion on the start day",
        "save",
        {"w{w0}-target_start": "{in10}", "w{w0}-target_end": "{in10}"},
        "must be after the start",
    ),
    (
        "start before the program",
        "save",
        {"w{w0}-target_start": "{before_program}"},
        "cannot be in the past",
    ),
    (
        "completion after the program",
        "save",
        {"w{w0}-target_end": "{after_program}"},
        "must fall within the program period",
    ),
    ("not a date", "save", {"w{w0}-target_start": "31/02/2027"}, "Enter a valid date"),
    ("zero seats", "save", {"w{w0}-seats": "0"}, "Give at least 1 seat."),
    ("negative seats", "save", {"w{w0}-seats": "-5"}, "Give at least 1 seat."),
    ("absurd seats", "save", {"w{w0}-seats": "10000001"}, "Give at most 10,000,000 seats."),
    ("seats as words", "save", {"w{w0}-seats": "lots"}, "Enter a whole number"),
    ("10,000-character name", "save", {"contact-survey_contact_name": "x" * 10_000}, "at most 120"),
    (
        "10,000-character email",
        "save",
        {"contact-survey_contact_email": "a" * 10_000 + "@x.example"},
        "Enter a valid email address",
    ),
    ("bad phone", "save", {"contact-survey_contact_phone": "call me"}, "Enter a phone number"),
    ("no service", "save", {"w{w0}-selected": ""}, "Pick at least one service"),
    ("review without dates", "review", {"w{w0}-target_end": ""}, "Give a target completion date"),
    ("review without contact", "review", {"contact-survey_contact_name": ""}, "Name the survey"),
    (
        "forged form token",
        "save",
        {"form_token": "'; DROP TABLE claims_claim; --"},
        "This form was out of date",
    ),
    ("forged version", "save", {"version": "-3"}, "This form was out of date"),
]


@pytest.mark.parametrize(("case", "action", "changes", "message"), BAD, ids=[b[0] for b in BAD])
def test_it_explains_bad_input_and_keeps_what_was_typed(
    client, world, case, action, changes, message
):
    client.force_login(world.approver)
    w0 = world.workloads[0].pk
    days = {
        "yesterday": (_today() - DAY).isoformat(),
        "tomorrow": (_today() + DAY).isoformat(),
        "in5": (_today() + 5 * DAY).isoformat(),
        "in10": (_today() + 10 * DAY).isoformat(),
        "before_program": (world.program.start_date - DAY).isoformat(),
        "after_program": (world.program.end_date + DAY).isoformat(),
    }
    data = _data(world, action=action)
    data.update({k.format(w0=w0): v.format(**days) for k, v in changes.items()})
    response = client.post(_start(world), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert Claim.objects.count() == 0
    # Everything else typed is still there.
    if "contact-survey_contact_name" not in changes:
        assert 'value="Sam Survey"' in body
    assert 'value="+44 20 7946 0958"' in body or "contact-survey_contact_phone" in changes


def test_it_refuses_a_service_of_another_program_or_switched_off(client, world):
    other_program = f.ProgramFactory()
    foreign = f.WorkloadFactory(code="elsewhere")
    other_program.workloads.add(foreign)
    inactive = world.workloads[2]
    inactive.is_active = False
    inactive.save()
    client.force_login(world.approver)
    # The forged fields are not part of the form: only the real service is saved.
    data = _data(world, **_line(foreign), **_line(inactive))
    assert client.post(_start(world), data).status_code == 302
    assert [line.workload for line in Claim.objects.get().lines.all()] == [world.workloads[0]]
    # And the service refuses them outright, whatever the form did.
    claim = Claim.objects.get()
    with pytest.raises(lifecycle.ClaimError, match="not offered in"):
        lifecycle.update_claim(
            claim,
            user=world.approver,
            data=world.claim_input([world.workloads[0], foreign]),
        )


def test_a_service_switched_off_after_it_was_saved_is_shown_not_dropped(client, world):
    claim = world.draft(workloads=world.workloads[:1])
    world.workloads[0].is_active = False
    world.workloads[0].save()
    client.force_login(world.approver)
    page = client.get(_edit(claim)).content.decode()
    assert "No longer offered" in page
    data = _data(world, version=str(lifecycle.last_version(claim)), **_line(world.workloads[1]))
    response = client.post(_edit(claim), data)
    assert response.status_code == 400
    assert "is no longer offered in this program; untick it" in response.content.decode()


def test_it_will_not_open_another_organisations_claim(client, world):
    theirs = world.draft(customer=world.other_customer, user=world.other_customer_user)
    client.force_login(world.approver)
    assert client.get(_edit(theirs)).status_code == 404
    assert client.post(_edit(theirs), _data(world)).status_code == 404
    page = reverse("customer_claim_detail", args=[theirs.reference])
    assert client.get(page).status_code == 404
    assert client.post(reverse("customer_claim_sign", args=[theirs.reference])).status_code == 404


# --- double submit ---------------------------------------------------------------------------


def test_a_form_sent_twice_makes_one_claim(client, world):
    client.force_login(world.approver)
    data = _data(world)
    first = client.post(_start(world), data)
    second = client.post(_start(world), data)
    claim = Claim.objects.get()
    assert (
        first["Location"]
        == second["Location"]
        == reverse("customer_claim_detail", args=[claim.reference])
    )
    assert claim.events.count() == 1


def test_another_persons_form_token_is_not_theirs_to_reuse(client, world):
    client.force_login(world.approver)
    data = _data(world)
    client.post(_start(world), data)
    client.force_login(world.other_customer_user)
    response = client.post(_start(world), data)
    # A token of someone else's claim neither reveals that claim nor makes a second one.
    assert response.status_code == 400
    body = response.content.decode()
    assert "This form was sent already by someone else" in body
    assert 'value="Sam Survey"' in body
    assert Claim.objects.count() == 1


def test_a_second_click_on_sign_finds_it_signed(client, world):
    claim = world.draft()
    client.force_login(world.approver)
    data = _data(world, action="sign", version=str(lifecycle.last_version(claim)))
    data.update(world_line := _line(world.workloads[0]))
    data.update({"sign-signed_name": "Alex Approver", "sign-attest": "on"})
    first = client.post(_edit(claim), data)
    assert first.status_code == 302
    second = client.post(_edit(claim), data)
    assert second.status_code == 302
    assert second["Location"].startswith(reverse("customer_claim_detail", args=[claim.reference]))
    claim.refresh_from_db()
    assert claim.status == Claim.Status.AWAITING_PARTNER
    assert list(claim.events.values_list("action", flat=True)) == ["created", "edit", "sign"]
    assert world_line


# --- stale state ----------------------------------------------------------------------------


def test_a_change_by_someone_else_is_never_overwritten(client, world):
    claim = world.draft(user=world.contributor)
    client.force_login(world.approver)
    version = lifecycle.last_version(claim)
    # The contributor saves a change while the approver has the form open.
    lifecycle.update_claim(claim, user=world.contributor, data=world.claim_input(seats=250))
    data = _data(world, version=str(version), **_line(world.workloads[0], seats="999"))
    response = client.post(_edit(claim), data)
    assert response.status_code == 409
    body = response.content.decode()
    assert "casey@woodgrove.example changed claim" in body
    assert 'value="999"' in body  # what the approver typed, kept
    assert set(claim.lines.values_list("seats", flat=True)) == {250}
    # Saved again from that page (now at the current version), it goes through.
    new_version = lifecycle.last_version(claim)
    assert f'name="version" value="{new_version}"' in body
    data["version"] = str(new_version)
    assert client.post(_edit(claim), data).status_code == 302
    assert claim.lines.get(workload=world.workloads[0]).seats == 999


def test_a_claim_signed_meanwhile_keeps_what_was_typed(client, world):
    claim = world.draft(user=world.contributor)
    version = lifecycle.last_version(claim)
    lifecycle.sign_and_submit(claim, user=world.approver, signed_name="Alex", attested=True)
    client.force_login(world.contributor)
    data = _data(world, version=str(version), **_line(world.workloads[0], seats="777"))
    response = client.post(_edit(claim), data)
    assert response.status_code == 409
    body = response.content.decode()
    assert "can no longer be changed" in body
    assert 'value="777"' in body
    assert "Save draft" not in body


# --- public-sector details --------------------------------------------------------------------


@pytest.fixture
def public_sector(world):
    world.customer.segment = "public_sector"
    world.customer.save()
    PublicSectorField.objects.create(
        program=world.program, key="agency", label="Agency code", required=True
    )
    PublicSectorField.objects.create(
        program=world.program, key="contract", label="Framework contract", required=False
    )
    return world


def test_public_sector_customers_answer_the_programs_questions(client, public_sector):
    world = public_sector
    client.force_login(world.approver)
    page = client.get(_start(world)).content.decode()
    assert "Agency code" in page and "Framework contract" in page
    response = client.post(_start(world), _data(world, action="review"))
    assert response.status_code == 400
    assert "This is required for public-sector claims." in response.content.decode()
    response = client.post(_start(world), _data(world, action="review", **{"ps-agency": "AG-7"}))
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert claim.public_sector_details["agency"] == {
        "label": "Agency code",
        "required": True,
        "value": "AG-7",
    }
    # A later change of the question in admin does not change what this claim says.
    PublicSectorField.objects.filter(key="agency").update(label="Agency")
    page = client.get(reverse("customer_claim_detail", args=[claim.reference])).content.decode()
    assert "Agency code" in page and "AG-7" in page


def test_commercial_customers_are_not_asked(client, world):
    PublicSectorField.objects.create(program=world.program, key="agency", label="Agency code")
    client.force_login(world.approver)
    assert "Agency code" not in client.get(_start(world)).content.decode()
    assert client.post(_start(world), _data(world, action="review")).status_code == 302
    assert Claim.objects.get().public_sector_details == {}


def test_the_public_sector_questions_are_set_in_admin(admin_client, world):
    url = reverse("admin:partners_program_change", args=[world.program.pk])
    assert "Public-sector fields" in admin_client.get(url).content.decode()


# --- approved lines are final ------------------------------------------------------------------


def test_an_approved_line_is_shown_as_final_on_a_returned_claim(client, world):
    claim = f.ClaimFactory(
        customer=world.customer,
        partner=world.partner,
        program=world.program,
        returned=True,
        workloads=world.workloads[:1],
        created_by=world.approver,
    )
    claim.lines.update(status=ClaimLine.Status.APPROVED)
    client.force_login(world.approver)
    assert "Approved: cannot change" in client.get(_edit(claim)).content.decode()
