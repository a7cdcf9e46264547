"""Catalog items as CSV: preview, row-level errors, all or nothing, audited; export round trip."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claims_portal.audit import history
from partners import catalog_csv, services
from partners.models import SowCatalog, SowCatalogItem
from tests import factories as f

HEADER = "partner_id,workload,max_seats,valid_from,valid_until\n"


@pytest.fixture
def catalog(world) -> SowCatalog:
    cat = SowCatalog.objects.get(partner=world.partner, program=world.program)
    world.partner.partner_id = "P-CONTOSO"
    world.partner.save()
    cat.refresh_from_db()
    return cat


def _items(catalog):
    return {
        i.workload.code: (i.max_seats, i.valid_from, i.valid_until)
        for i in catalog.items.select_related("workload")
    }


GOOD = (
    HEADER + "P-CONTOSO,exchange,900,2026-01-01,2026-12-31\n"
    "P-CONTOSO,teams,,,\n"
    "CONTOSO1,intune,50,,2026-06-30\n"
)


def test_a_good_file_previews_then_applies_and_is_audited(world, catalog):
    plan = catalog_csv.plan_import(catalog, GOOD.encode(), filename="contoso.csv")
    assert plan.ok
    assert plan.counts() == {"create": 1, "update": 1, "unchanged": 1, "delete": 0, "errors": 0}
    assert [(r.row, r.workload.code, r.action) for r in plan.rows] == [
        (2, "exchange", "update"),
        (3, "teams", "unchanged"),
        (4, "intune", "create"),
    ]
    assert plan.rows[0].changes == {
        "max_seats": (None, 900),
        "valid_from": (None, "2026-01-01"),
        "valid_until": (None, "2026-12-31"),
    }
    assert _items(catalog)["exchange"] == (None, None, None)  # a preview writes nothing

    catalog_csv.apply_import(
        catalog,
        GOOD.encode(),
        user=world.lead,
        fingerprint=plan.fingerprint(),
        filename="contoso.csv",
    )
    catalog.refresh_from_db()
    assert _items(catalog) == {
        "exchange": (900, datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)),
        "teams": (None, None, None),
        "intune": (50, None, datetime.date(2026, 6, 30)),
    }
    assert catalog.approved_at is None and catalog.revision == 2
    [entry] = history(catalog)
    assert entry.action == "partners.catalog.imported"
    assert entry.actor_label == "lee@vendor.example"
    assert entry.data["file"] == "contoso.csv"
    assert entry.data["created"] == ["intune"]
    assert entry.data["updated"]["exchange"]["max_seats"] == [None, 900]
    assert entry.data["approval_withdrawn"] is True


def test_replace_removes_what_the_file_does_not_list(world, catalog):
    content = (HEADER + "P-CONTOSO,teams,,,\n").encode()
    plan = catalog_csv.plan_import(catalog, content, replace=True)
    assert [i.workload.code for i in plan.deletions] == ["exchange"]
    catalog_csv.apply_import(
        catalog, content, user=world.lead, fingerprint=plan.fingerprint(), replace=True
    )
    assert list(_items(catalog)) == ["teams"]
    assert history(catalog).get().data["deleted"] == ["exchange"]


def test_an_unchanged_file_keeps_the_approval_and_is_still_recorded(world, catalog):
    content = (HEADER + "P-CONTOSO,exchange,,,\nP-CONTOSO,teams,,,\n").encode()
    plan = catalog_csv.plan_import(catalog, content)
    assert not plan.changes_anything
    catalog_csv.apply_import(catalog, content, user=world.lead, fingerprint=plan.fingerprint())
    catalog.refresh_from_db()
    assert catalog.is_approved and catalog.revision == 1
    assert history(catalog).get().data["unchanged"] == 2


ROW_ERRORS = [
    ("P-CONTOSO,sharepoint,,,", "Unknown workload “sharepoint”."),
    (
        "P-CONTOSO,exchange,,2026-13-01,",
        "valid_from “2026-13-01” is not a date (write it as YYYY-MM-DD).",
    ),
    ("P-CONTOSO,exchange,,,31/12/2026", "valid_until “31/12/2026” is not a date"),
    ("P-CONTOSO,exchange,,2026-06-01,2026-05-01", "valid_until is before valid_from."),
    (
        "P-FABRIKAM,exchange,,,",
        "The row is for partner “P-FABRIKAM”, not this catalog's partner (P-CONTOSO).",
    ),
    (",exchange,,,", "partner_id is empty."),
    ("P-CONTOSO,,,,", "workload is empty."),
    ("P-CONTOSO,exchange,0,,", "max_seats “0” is not a whole number of at least 1."),
    ("P-CONTOSO,exchange,many,,", "max_seats “many” is not a whole number"),
    ("P-CONTOSO,exchange,-5,,", "max_seats “-5” is not a whole number"),
    ("P-CONTOSO,exchange", "The row has 2 cells; the header has 5."),
    ("P-CONTOSO,exchange,,,,extra", "The row has 6 cells; the header has 5."),
    (
        "P-CONTOSO,teams,,,\nP-CONTOSO,teams,5,,",
        "Microsoft Teams is listed twice (first on row 3).",
    ),
]


@pytest.mark.parametrize(("row", "reason"), ROW_ERRORS)
def test_a_wrong_row_is_reported_with_its_number_and_nothing_is_written(
    world, catalog, row, reason
):
    content = (HEADER + "P-CONTOSO,intune,10,,\n" + row + "\n").encode()
    before = _items(catalog)
    plan = catalog_csv.plan_import(catalog, content)
    assert not plan.ok
    [error] = plan.errors
    assert error.row == 3 + row.count("\n")
    assert reason in error.reason
    with pytest.raises(services.CatalogError, match="nothing was imported"):
        catalog_csv.apply_import(catalog, content, user=world.lead, fingerprint=plan.fingerprint())
    assert _items(catalog) == before
    assert history(catalog).count() == 0


def test_a_workload_the_program_does_not_offer_is_refused(world, catalog):
    f.WorkloadFactory(code="sharepoint", name="SharePoint Online")
    plan = catalog_csv.plan_import(catalog, (HEADER + "P-CONTOSO,sharepoint,,,\n").encode())
    assert [e.reason for e in plan.errors] == [
        f"SharePoint Online is not offered by {world.program.name}."
    ]


def test_every_wrong_row_is_listed_at_once(world, catalog):
    content = (HEADER + "P-CONTOSO,nope,,,\nP-CONTOSO,teams,,,\nP-OTHER,exchange,,,\n").encode()
    plan = catalog_csv.plan_import(catalog, content)
    assert [e.row for e in plan.errors] == [2, 4]
    assert [r.row for r in plan.rows] == [3]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (HEADER.encode(), "The file has a header but no rows."),
        (b"workload,seats\nexchange,1\n", "missing: partner_id"),
        (b"partner_id,workload,workload\n", "unknown or repeated: workload"),
        ("partner_id,workload\nP-CONTOSO,übung\n".encode("latin-1"), "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        (b"partner_id,workload\n\x00\x00", "not a CSV text file"),
        (b"x" * (catalog_csv.MAX_BYTES + 1), "larger than 512 KB"),
        (
            (HEADER + "P-CONTOSO,teams,,,\n" * (catalog_csv.MAX_ROWS + 1)).encode(),
            "more than 5000 rows",
        ),
    ],
)
def test_a_file_that_is_wrong_as_a_whole_says_why(world, catalog, content, message):
    plan = catalog_csv.plan_import(catalog, content)
    assert not plan.ok
    assert message in plan.file_error


def test_a_spreadsheet_file_with_bom_crlf_and_blank_lines_reads(world, catalog):
    content = ("\ufeff" + HEADER.replace("\n", "\r\n") + "P-CONTOSO,Teams,,,\r\n,,,,\r\n").encode()
    plan = catalog_csv.plan_import(catalog, content)
    assert plan.ok and [r.action for r in plan.rows] == ["unchanged"]


def test_it_refuses_to_apply_when_the_catalog_changed_since_the_preview(world, catalog):
    plan = catalog_csv.plan_import(catalog, GOOD.encode())
    SowCatalogItem.objects.filter(catalog=catalog, workload__code="teams").update(max_seats=3)
    with pytest.raises(services.CatalogError, match="changed since the preview"):
        catalog_csv.apply_import(
            catalog, GOOD.encode(), user=world.lead, fingerprint=plan.fingerprint()
        )
    assert "intune" not in _items(catalog)


def test_an_export_imports_back_unchanged(world, catalog):
    SowCatalogItem.objects.filter(catalog=catalog, workload__code="exchange").update(
        max_seats=12, valid_from=datetime.date(2026, 3, 1)
    )
    rows = list(catalog_csv.export_rows([catalog]))
    assert rows == [
        catalog_csv.COLUMNS,
        ["P-CONTOSO", "exchange", "12", "2026-03-01", ""],
        ["P-CONTOSO", "teams", "", "", ""],
    ]
    content = "".join(",".join(r) + "\n" for r in rows).encode()
    plan = catalog_csv.plan_import(catalog, content, replace=True)
    assert plan.ok and not plan.changes_anything


# --- The admin pages ----------------------------------------------------------------


def _upload(admin_client, catalog, content, **extra):
    url = reverse("admin:partners_sowcatalog_import", args=[catalog.pk])
    return admin_client.post(
        url, {"file": SimpleUploadedFile("items.csv", content, "text/csv"), **extra}
    )


def test_the_admin_preview_lists_errors_and_offers_no_import(admin_client, world, catalog):
    content = (HEADER + "P-CONTOSO,intune,10,,\nP-CONTOSO,nope,,,\nP-X,teams,,,\n").encode()
    response = _upload(admin_client, catalog, content)
    assert response.status_code == 400
    text = response.content.decode()
    assert "2 rows are wrong, so nothing will be imported" in text
    assert "Unknown workload “nope”." in text
    assert "not this catalog&#x27;s partner" in text or "not this catalog's partner" in text
    assert 'name="confirm"' not in text
    assert "intune" not in _items(catalog)


def test_the_admin_import_applies_what_the_preview_showed(admin_client, world, catalog):
    response = _upload(admin_client, catalog, GOOD.encode())
    assert response.status_code == 200
    confirm = response.context["confirm_form"]
    data = {name: confirm[name].value() for name in confirm.fields}
    data["replace"] = "" if not data["replace"] else "on"
    response = admin_client.post(
        reverse("admin:partners_sowcatalog_import", args=[catalog.pk]),
        {**data, "confirm": "1"},
        follow=True,
    )
    assert "Imported items.csv: 1 added, 1 changed, 0 removed, 1 unchanged." in (
        response.content.decode()
    )
    assert _items(catalog)["intune"] == (50, None, datetime.date(2026, 6, 30))
    assert history(catalog).get().actor_label == "admin@example.com"


@pytest.mark.parametrize(
    "tamper",
    [
        {"content": "not base64!!"},
        {"content": ""},
        {"fingerprint": ""},
        {"fingerprint": "0" * 64},
        {"content": base64.b64encode((HEADER + "P-CONTOSO,nope,,,\n").encode()).decode()},
    ],
)
def test_a_confirm_that_does_not_match_a_good_preview_writes_nothing(
    admin_client, world, catalog, tamper
):
    response = _upload(admin_client, catalog, GOOD.encode())
    confirm = response.context["confirm_form"]
    data = {name: confirm[name].value() or "" for name in confirm.fields}
    data.update(tamper)
    response = admin_client.post(
        reverse("admin:partners_sowcatalog_import", args=[catalog.pk]), {**data, "confirm": "1"}
    )
    assert response.status_code in (400, 409)
    assert "intune" not in _items(catalog)
    assert history(catalog).count() == 0


def test_a_double_submitted_confirm_imports_once(admin_client, world, catalog):
    response = _upload(admin_client, catalog, GOOD.encode())
    confirm = response.context["confirm_form"]
    data = {name: confirm[name].value() or "" for name in confirm.fields}
    url = reverse("admin:partners_sowcatalog_import", args=[catalog.pk])
    assert admin_client.post(url, {**data, "confirm": "1"}).status_code == 302
    second = admin_client.post(url, {**data, "confirm": "1"})
    assert second.status_code == 409
    assert "changed since the preview" in second.content.decode()
    assert [e.action for e in history(catalog)] == ["partners.catalog.imported"]


def test_the_upload_form_refuses_a_missing_or_oversized_file(admin_client, world, catalog):
    url = reverse("admin:partners_sowcatalog_import", args=[catalog.pk])
    assert admin_client.post(url, {}).status_code == 400
    response = _upload(admin_client, catalog, b"x" * (catalog_csv.MAX_BYTES + 1))
    assert response.status_code == 400
    assert "larger than 512 KB" in response.content.decode()


def test_export_downloads_the_catalog_and_the_action_several(admin_client, world, catalog):
    response = admin_client.get(reverse("admin:partners_sowcatalog_export", args=[catalog.pk]))
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines() == [
        ",".join(catalog_csv.COLUMNS),
        "P-CONTOSO,exchange,,,",
        "P-CONTOSO,teams,,,",
    ]
    both = admin_client.post(
        reverse("admin:partners_sowcatalog_changelist"),
        {"action": "export_action", "_selected_action": [c.pk for c in SowCatalog.objects.all()]},
    )
    lines = b"".join(both.streaming_content).decode().splitlines()
    assert len(lines) == 1 + 2 + 3


def test_the_import_page_is_for_administrators_only(client, world, catalog):
    url = reverse("admin:partners_sowcatalog_import", args=[catalog.pk])
    client.force_login(world.partner_admin)
    assert client.get(url).status_code == 302  # to the admin sign-in
    client.force_login(f.UserFactory(is_staff=True))
    assert client.get(url).status_code == 403
