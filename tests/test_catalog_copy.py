"""Copying a program's catalogs into a new period: preview, shifted dates, nothing twice."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from claims_portal.audit import history
from partners import services
from partners.models import ChangePolicy, Program, SowCatalog, SowCatalogItem
from tests import factories as f

D = datetime.date


@pytest.fixture
def period(world):
    """The annual program 2026 with two catalogs, and an empty 2027 program."""
    source = world.program
    Program.objects.filter(pk=source.pk).update(
        start_date=D(2026, 1, 1), end_date=D(2026, 12, 31), min_seats=25
    )
    source.refresh_from_db()
    ChangePolicy.objects.create(program=source, no_growth_days=60)
    SowCatalogItem.objects.filter(catalog__program=source, workload__code="exchange").update(
        max_seats=800, valid_from=D(2026, 2, 1), valid_until=D(2026, 11, 30)
    )
    SowCatalogItem.objects.filter(
        catalog__program=source, catalog__partner=world.rival, workload__code="intune"
    ).update(valid_until=D(2026, 1, 10))
    target = f.ProgramFactory(
        name="FY2027", slug="fy2027", start_date=D(2027, 1, 1), end_date=D(2027, 6, 30)
    )
    target.workloads.set(world.workloads[:2])  # Intune is not offered in 2027
    return source, target


def test_the_plan_moves_dates_and_says_what_it_leaves_out(world, period):
    source, target = period
    plan = services.plan_catalog_copy(source=source, target=target)
    assert plan.shift == datetime.timedelta(days=365)
    assert [c.source.partner.name for c in plan.to_create] == ["Contoso", "Fabrikam"]
    contoso = {i.workload: i for i in plan.to_create[0].items}
    assert contoso["Exchange Online"].valid_from == D(2027, 2, 1)
    assert contoso["Exchange Online"].valid_until == D(2027, 11, 30)
    assert contoso["Exchange Online"].max_seats == 800
    fabrikam = {i.workload: i.skipped for i in plan.to_create[1].items}
    assert fabrikam["Microsoft Intune"] == "FY2027 does not offer this workload."
    assert plan.item_count == 4


def test_it_leaves_out_an_item_whose_shifted_dates_miss_the_target(world, period):
    source, target = period
    target.workloads.add(world.workloads[2])
    plan = services.plan_catalog_copy(source=source, target=target)
    fabrikam = {i.workload: i.skipped for i in plan.to_create[1].items}
    assert fabrikam["Microsoft Intune"] == ""  # until Jan 10 2027: inside FY2027
    # Starting in August, the shifted item starts after the six-month FY2027 has ended.
    SowCatalogItem.objects.filter(
        catalog__program=source, catalog__partner=world.rival, workload__code="intune"
    ).update(valid_from=D(2026, 8, 1), valid_until=None)
    plan = services.plan_catalog_copy(source=source, target=target)
    fabrikam = {i.workload: i.skipped for i in plan.to_create[1].items}
    assert fabrikam["Microsoft Intune"] == "Its shifted dates fall outside FY2027."


def test_copying_creates_unapproved_catalogs_once(world, period):
    source, target = period
    plan = services.copy_catalogs(source=source, target=target, user=world.lead)
    assert len(plan.to_create) == 2
    copies = SowCatalog.objects.filter(program=target).order_by("partner__name")
    assert [c.partner.name for c in copies] == ["Contoso", "Fabrikam"]
    assert all(c.approved_at is None and c.copied_from.program == source for c in copies)
    exchange = SowCatalogItem.objects.get(catalog=copies[0], workload__code="exchange")
    assert (exchange.valid_from, exchange.valid_until, exchange.max_seats) == (
        D(2027, 2, 1),
        D(2027, 11, 30),
        800,
    )
    assert sorted(copies[1].items.values_list("workload__code", flat=True)) == [
        "exchange",
        "teams",
    ]
    [entry] = history(copies[0])
    assert entry.action == "partners.catalog.copied"
    assert entry.data["shift_days"] == 365

    again = services.copy_catalogs(source=source, target=target, user=world.lead)
    assert again.to_create == [] and len(again.already_there) == 2
    assert SowCatalog.objects.filter(program=target).count() == 2
    assert SowCatalogItem.objects.filter(catalog__program=target).count() == 4
    assert [e.action for e in history(target)] == ["partners.program.catalogs_copied"] * 2


def test_it_leaves_alone_a_catalog_made_by_hand_in_the_target(world, period):
    source, target = period
    own = f.catalog(world.partner, target, [world.workloads[1]], approved=False)
    plan = services.copy_catalogs(source=source, target=target, user=world.lead)
    assert [c.source.partner.name for c in plan.to_create] == ["Fabrikam"]
    assert list(own.items.values_list("workload__code", flat=True)) == ["teams"]


def test_it_refuses_to_copy_a_program_into_itself(world, period):
    source, _ = period
    with pytest.raises(services.CatalogError):
        services.copy_catalogs(source=source, target=source, user=world.lead)


def test_a_new_period_takes_the_rules_workloads_and_policy(world, period):
    source, _ = period
    plan = services.copy_into_new_period(
        source=source,
        name="FY2028",
        slug="fy2028",
        start_date=D(2028, 1, 1),
        end_date=D(2028, 12, 31),
        user=world.lead,
    )
    new = Program.objects.get(slug="fy2028")
    assert plan.target == new and plan.shift.days == 730
    assert new.min_seats == 25
    assert set(new.workloads.all()) == set(source.workloads.all())
    assert new.change_policy.no_growth_days == 60
    assert SowCatalog.objects.filter(program=new).count() == 2
    assert [e.action for e in history(new)] == [
        "partners.program.created",
        "partners.program.catalogs_copied",
    ]


# --- The admin page ------------------------------------------------------------------


def _url(program):
    return reverse("admin:partners_program_copy_catalogs", args=[program.pk])


def test_the_page_previews_then_copies(admin_client, world, period):
    source, target = period
    response = admin_client.post(_url(source), {"target": target.pk, "preview": "1"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Preview: into FY2027, dates moved by 365 days" in text
    assert "2027-02-01" in text and "does not offer this workload" in text
    assert SowCatalog.objects.filter(program=target).count() == 0

    response = admin_client.post(_url(source), {"target": target.pk, "confirm": "1"})
    assert response.status_code == 302
    assert f"program__id__exact={target.pk}" in response["Location"]
    assert SowCatalog.objects.filter(program=target).count() == 2

    # Running it again: the preview says both are there, and nothing is copied twice.
    response = admin_client.post(_url(source), {"target": target.pk, "preview": "1"})
    assert "already has a catalog for this partner" in response.content.decode()
    assert 'name="confirm"' not in response.content.decode()
    admin_client.post(_url(source), {"target": target.pk, "confirm": "1"})
    assert SowCatalog.objects.filter(program=target).count() == 2


def test_the_page_copies_into_a_new_period(admin_client, world, period):
    source, _ = period
    page = admin_client.get(_url(source))
    assert page.status_code == 200
    assert page.context["form"]["new_start"].value() == D(2027, 1, 1)
    data = {
        "new_name": "FY2028",
        "new_slug": "fy2028",
        "new_start": "2028-01-01",
        "new_end": "2028-12-31",
    }
    preview = admin_client.post(_url(source), {**data, "preview": "1"})
    assert "dates moved by 730 days" in preview.content.decode()
    assert not Program.objects.filter(slug="fy2028").exists()
    assert admin_client.post(_url(source), {**data, "confirm": "1"}).status_code == 302
    assert SowCatalog.objects.filter(program__slug="fy2028").count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Pick a program, or give the new program a name, slug, start and end date."),
        ({"new_name": "FY2028", "new_slug": "fy2028"}, "give the new program a name, slug"),
        (
            {"target": "TARGET", "new_name": "X", "new_slug": "x"},
            "Pick an existing program or describe a new one, not both.",
        ),
        ({"target": "SOURCE"}, "Select a valid choice"),
        ({"target": "999999"}, "Select a valid choice"),
        ({"target": "abc"}, "Select a valid choice"),
        (
            {
                "new_name": "A",
                "new_slug": "fy2027",
                "new_start": "2028-01-01",
                "new_end": "2028-12-31",
            },
            "A program with this slug exists",
        ),
        (
            {"new_name": "A", "new_slug": "a", "new_start": "2028-12-31", "new_end": "2028-01-01"},
            "A program cannot end before it starts.",
        ),
        (
            {"new_name": "A", "new_slug": "a b", "new_start": "2028-01-01", "new_end": "x"},
            "Enter a valid",
        ),
        (
            {
                "new_name": "A" * 121,
                "new_slug": "a",
                "new_start": "2028-01-01",
                "new_end": "2028-02-01",
            },
            "at most 120 characters",
        ),
    ],
)
def test_bad_input_is_shown_and_nothing_is_copied(admin_client, world, period, data, message):
    source, target = period
    data = {
        k: {"TARGET": str(target.pk), "SOURCE": str(source.pk)}.get(v, v) for k, v in data.items()
    }
    before = (Program.objects.count(), SowCatalog.objects.count())
    response = admin_client.post(_url(source), {**data, "confirm": "1"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (Program.objects.count(), SowCatalog.objects.count()) == before


def test_staff_without_catalog_rights_is_refused(client, world, period):
    source, target = period
    client.force_login(f.UserFactory(is_staff=True))
    assert client.post(_url(source), {"target": target.pk, "confirm": "1"}).status_code == 403
    assert client.get(
        reverse("admin:partners_program_copy_catalogs", args=[999999])
    ).status_code in (
        403,
        404,
    )
    assert SowCatalog.objects.filter(program=target).count() == 0


def test_the_changelist_action_opens_the_copy_page(admin_client, world, period):
    source, target = period
    url = reverse("admin:partners_program_changelist")
    response = admin_client.post(
        url, {"action": "copy_catalogs_action", "_selected_action": [source.pk]}
    )
    assert response.status_code == 302 and response["Location"] == _url(source)
    response = admin_client.post(
        url,
        {"action": "copy_catalogs_action", "_selected_action": [source.pk, target.pk]},
        follow=True,
    )
    assert "Pick exactly one program to copy from." in response.content.decode()
