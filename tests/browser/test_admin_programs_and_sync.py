"""Program administrators and the claims team in Chromium: a catalog import with errors
and then a good one, approving it, copying catalogs into a new period, a sync run with
rejected rows, the sync conflicts page, and the customer's program chooser."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from claims_portal.partner_system import services
from claims_portal.partner_system.adapters import FileAdapter
from claims_portal.partner_system.models import SyncConflict, SyncRun
from partners.models import Program, SowCatalog
from tests import factories as f
from tests.partner_system_fakes import csv_text, drop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_user(world):
    return f.UserFactory(email="ada@vendor.example", is_staff=True, is_superuser=True)


def _catalog(world) -> SowCatalog:
    world.partner.partner_id = "P-CONTOSO"
    world.partner.save()
    return SowCatalog.objects.get(partner=world.partner, program=world.program)


def test_a_catalog_import_with_errors_then_a_good_one_then_approval(
    new_page, shoot, admin_user, world
):
    catalog = _catalog(world)
    page = new_page(admin_user)
    page.goto(f"/admin/partners/sowcatalog/{catalog.pk}/change/")
    assert "before approvals recorded who gave them" in page.content()  # as migrated data
    page.click("text=Import items (CSV)")
    bad = csv_text(
        "partner_id,workload,max_seats,valid_from,valid_until",
        "P-CONTOSO,exchange,500,2026-01-01,2026-12-31",
        "P-CONTOSO,sharepoint,,,",
        "P-FABRIKAM,teams,,,",
        "P-CONTOSO,intune,,2026-02-30,",
        "P-CONTOSO,exchange,20,,",
    )
    page.set_input_files(
        "input[name=file]",
        {"name": "contoso-fy.csv", "mimeType": "text/csv", "buffer": bad.encode()},
    )
    page.click("input[value=Preview]")
    page.wait_for_load_state()
    text = page.content()
    assert "4 rows are wrong, so nothing will be imported" in text
    assert "Unknown workload “sharepoint”." in text
    assert "listed twice (first on row 2)" in text
    assert page.locator("input[name=confirm]").count() == 0
    shoot(page, "catalog-import-preview-with-errors")

    good = csv_text(
        "partner_id,workload,max_seats,valid_from,valid_until",
        "P-CONTOSO,exchange,500,2026-01-01,2026-12-31",
        "P-CONTOSO,intune,50,,",
    )
    page.set_input_files(
        "input[name=file]",
        {"name": "contoso-fy.csv", "mimeType": "text/csv", "buffer": good.encode()},
    )
    page.check("input[name=replace]")
    page.click("input[value=Preview]")
    page.wait_for_load_state()
    assert "withdraws the approval" in page.content()
    shoot(page, "catalog-import-preview-good")
    page.click("input[name=confirm]")
    page.wait_for_load_state()
    assert "Imported contoso-fy.csv: 1 added, 1 changed, 1 removed, 0 unchanged." in page.content()
    assert "Revision 2 awaits approval" in page.content()
    shoot(page, "catalog-awaiting-approval")
    page.click("input[value='Approve revision 2 as saved']")
    page.wait_for_load_state()
    assert "Revision 2 approved by ada@vendor.example" in page.content()
    page.click("a.historylink")
    page.wait_for_load_state()
    assert "partners.catalog.imported" in page.content()
    assert "partners.catalog.approved" in page.content()
    assert "/history/" in page.url and "hash: an edit or a gap is detectable" in page.content()
    shoot(page, "catalog-history")


def test_copying_catalogs_into_a_new_period(new_page, shoot, admin_user, world):
    Program.objects.filter(pk=world.program.pk).update(
        name="Deployment FY26",
        start_date=datetime.date(2025, 7, 1),
        end_date=datetime.date(2026, 6, 30),
    )
    page = new_page(admin_user)
    page.goto(f"/admin/partners/program/{world.program.pk}/change/")
    page.click("text=Copy catalogs into a new period")
    page.fill("input[name=new_name]", "Deployment FY27")
    page.fill("input[name=new_slug]", "deployment-fy27")
    page.click("input[name=preview]")
    page.wait_for_load_state()
    assert "Preview: into Deployment FY27, dates moved by 365 days" in page.content()
    shoot(page, "copy-catalogs-preview")
    page.click("input[name=confirm]")
    page.wait_for_load_state()
    assert "2 catalogs with 5 items copied into Deployment FY27" in page.content()
    shoot(page, "copied-catalogs-awaiting-approval")
    page.goto(f"/admin/partners/program/{world.program.pk}/copy-catalogs/")
    page.select_option("select[name=target]", label="Deployment FY27")
    page.click("input[name=preview]")
    page.wait_for_load_state()
    assert page.locator("input[name=confirm]").count() == 0
    shoot(page, "copy-catalogs-again-nothing-to-do")


def test_a_sync_run_with_rejected_rows_and_the_conflicts_it_found(
    new_page, shoot, check_page, admin_user, world, tmp_path, settings
):
    settings.PARTNER_SYSTEM_DIR = tmp_path
    world.customer.tenant_id = "woodgrove.example"
    world.customer.save()
    world.rival.partner_id = "P-FABRIKAM"
    world.rival.save()
    f.AssociationFactory(
        customer=world.customer, workload=world.workloads[0], partner=world.partner
    )
    drop(
        tmp_path,
        "associations-2026-11-23.csv",
        csv_text(
            "tenant_id,workload,partner_id,since,ended_on",
            "woodgrove.example,exchange,P-FABRIKAM,2026-03-01,",
            "woodgrove.example,teams,P-FABRIKAM,2026-03-01,",
            "unknown.example,teams,P-FABRIKAM,2026-03-01,",
            "woodgrove.example,intune,P-NOBODY,2026-03-01,",
        ),
    )
    drop(
        tmp_path,
        "usage-2026-11-23.csv",
        csv_text(
            "tenant_id,workload,date,active_users,licensed_seats",
            "woodgrove.example,teams,2026-11-22,120,1000",
            "woodgrove.example,teams,2026-11-22,130,1000",
            "woodgrove.example,exchange,2026-11-22,1200,1000",
        ),
    )
    drop(tmp_path, "usage-2026-11-24.json", '[{"tenant_id": "woodgrove.example", "workload": "te')
    run = services.run_sync(trigger=SyncRun.Trigger.COMMAND, adapter=FileAdapter(tmp_path))
    assert (run.rows_rejected, run.files_rejected, run.conflicts) == (4, 1, 1)

    page = new_page(admin_user)
    page.goto("/admin/partner_system/syncrun/")
    shoot(page, "sync-runs")
    page.goto(f"/admin/partner_system/syncrun/{run.pk}/change/")
    text = page.content()
    assert "4 rows were rejected" in text and "Unknown partner “P-NOBODY”." in text
    assert "cut off" in text
    shoot(page, "sync-run-with-rejected-rows")

    reviewer = new_page(world.reviewer)
    reviewer.goto("/review/sync-conflicts/")
    assert world.customer.name in reviewer.content()
    check_page(reviewer, "sync-conflicts")
    reviewer.fill("textarea[name=note]", "The customer confirmed Contoso.")
    reviewer.click('button:has-text("Keep the portal\'s")')
    reviewer.wait_for_load_state()
    assert "stays with Contoso" in reviewer.content()
    assert SyncConflict.objects.get().state == SyncConflict.State.KEPT
    reviewer.goto("/review/sync-conflicts/?state=")
    check_page(reviewer, "sync-conflicts-resolved")


def test_the_customer_chooses_between_two_current_programs(new_page, check_page, world):
    today = timezone.localdate()
    rooms = f.ProgramFactory(
        name="Teams Rooms push",
        slug="teams-rooms",
        start_date=today - datetime.timedelta(days=5),
        end_date=today + datetime.timedelta(days=60),
    )
    rooms.workloads.set([world.workloads[1]])
    f.catalog(world.partner, rooms, [world.workloads[1]])
    page = new_page(world.approver)
    page.goto(f"/c/{world.partner.slug}/")
    assert "Which program is your claim for?" in page.content()
    check_page(page, "choose-program")
    page.click("text=Teams Rooms push")
    page.wait_for_load_state()
    assert page.url.endswith(f"/c/{world.partner.slug}/teams-rooms/")
    check_page(page, "claim-form-in-short-program")
