"""SOW catalog items as CSV: export, and import with a preview and row-level errors.

An import is all or nothing: the file is read whole and checked row by row first; when
any row is wrong, nothing is written and every wrong row is listed with its number and
the reason. The preview shows exactly what applying the file will change, and applying
refuses to proceed when the catalog changed since the preview (the plan's fingerprint).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from claims_portal.audit import log_action
from partners.models import SowCatalog, SowCatalogItem, Workload
from partners.services import CatalogError, catalog_edited

COLUMNS = ["partner_id", "workload", "max_seats", "valid_from", "valid_until"]
REQUIRED = {"partner_id", "workload"}
MAX_BYTES = 512 * 1024
MAX_ROWS = 5000


@dataclass(frozen=True)
class RowError:
    row: int
    reason: str


@dataclass(frozen=True)
class ItemValues:
    max_seats: int | None
    valid_from: datetime.date | None
    valid_until: datetime.date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_seats": self.max_seats,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }


@dataclass(frozen=True)
class PlannedRow:
    row: int
    workload: Workload
    action: str  # "create", "update" or "unchanged"
    values: ItemValues
    # field -> (now, after the import), for updates
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class ImportPlan:
    catalog: SowCatalog
    filename: str
    sha256: str
    replace: bool
    rows: list[PlannedRow] = field(default_factory=list)
    # Items the file does not list, deleted when `replace` is set.
    deletions: list[SowCatalogItem] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # A problem with the file as a whole (not text, no header, too large).
    file_error: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_error

    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            counts[row.action] += 1
        counts["delete"] = len(self.deletions)
        counts["errors"] = len(self.errors)
        return counts

    @property
    def changes_anything(self) -> bool:
        counts = self.counts()
        return bool(counts["create"] or counts["update"] or counts["delete"])

    def fingerprint(self) -> str:
        """Identifies what applying this plan does to the catalog at this revision."""
        payload = {
            "catalog": self.catalog.pk,
            "revision": self.catalog.revision,
            "sha256": self.sha256,
            "replace": self.replace,
            "rows": [(r.workload.pk, r.action, r.values.as_dict()) for r in self.rows],
            "deletions": sorted(item.pk for item in self.deletions),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _decode(content: bytes) -> str:
    # Spreadsheets save UTF-8 with a byte order mark; utf-8-sig reads both.
    return content.decode("utf-8-sig")


def _date(value: str, column: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            _("%(column)s “%(value)s” is not a date (write it as YYYY-MM-DD).")
            % {"column": column, "value": value[:40]}
        ) from None


def _seats(value: str) -> int | None:
    if not value:
        return None
    try:
        seats = int(value)
    except ValueError:
        seats = 0
    if seats < 1 or seats > 10_000_000:
        raise ValueError(
            _("max_seats “%(value)s” is not a whole number of at least 1.") % {"value": value[:40]}
        )
    return seats


def plan_import(
    catalog: SowCatalog, content: bytes, *, filename: str = "", replace: bool = False
) -> ImportPlan:
    """Check every row of the file against the catalog and say what importing it would do."""
    plan = ImportPlan(
        catalog=catalog,
        filename=filename[:200],
        sha256=hashlib.sha256(content).hexdigest(),
        replace=replace,
    )
    if len(content) > MAX_BYTES:
        plan.file_error = _("The file is larger than %(kb)s KB.") % {"kb": MAX_BYTES // 1024}
        return plan
    try:
        text = _decode(content)
    except UnicodeDecodeError:
        plan.file_error = _("The file is not UTF-8 text; save it as “CSV UTF-8”.")
        return plan
    if "\x00" in text:
        plan.file_error = _("The file is not a CSV text file.")
        return plan
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        plan.file_error = _("The file is empty.")
        return plan
    except csv.Error as exc:
        plan.file_error = _("The file is not valid CSV: %(error)s") % {"error": exc}
        return plan
    missing = REQUIRED - set(header)
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        plan.file_error = _(
            "The first row must name the columns %(columns)s (missing: %(missing)s; unknown or "
            "repeated: %(unknown)s)."
        ) % {
            "columns": ", ".join(COLUMNS),
            "missing": ", ".join(sorted(missing)) or "—",
            "unknown": ", ".join(unknown + [n for n in set(header) if header.count(n) > 1]) or "—",
        }
        return plan

    workloads = {w.code: w for w in Workload.objects.all()}
    offered = set(catalog.program.workloads.values_list("pk", flat=True))
    items = {item.workload_id: item for item in catalog.items.select_related("workload")}
    partner = catalog.partner
    seen: dict[int, int] = {}
    row_number = 1
    try:
        for record in reader:
            row_number += 1
            if row_number - 1 > MAX_ROWS:
                plan.file_error = _("The file has more than %(n)s rows.") % {"n": MAX_ROWS}
                return plan
            if not any(cell.strip() for cell in record):
                continue  # a blank line, as spreadsheets leave at the end
            if len(record) != len(header):
                plan.errors.append(
                    RowError(
                        row_number,
                        _("The row has %(got)s cells; the header has %(want)s.")
                        % {"got": len(record), "want": len(header)},
                    )
                )
                continue
            values = {name: cell.strip() for name, cell in zip(header, record, strict=True)}
            error = _check_row(values, partner_id=partner.partner_id, partner_code=partner.code)
            workload = workloads.get(values["workload"].lower())
            if error is None and workload is None:
                error = _("Unknown workload “%(code)s”.") % {"code": values["workload"][:40]}
            if error is None and workload is not None and workload.pk not in offered:
                error = _("%(workload)s is not offered by %(program)s.") % {
                    "workload": workload.name,
                    "program": catalog.program.name,
                }
            if error is None and workload is not None and workload.pk in seen:
                error = _("%(workload)s is listed twice (first on row %(first)s).") % {
                    "workload": workload.name,
                    "first": seen[workload.pk],
                }
            parsed: ItemValues | None = None
            if error is None:
                try:
                    parsed = ItemValues(
                        max_seats=_seats(values.get("max_seats", "")),
                        valid_from=_date(values.get("valid_from", ""), "valid_from"),
                        valid_until=_date(values.get("valid_until", ""), "valid_until"),
                    )
                except ValueError as exc:
                    error = str(exc)
            if (
                error is None
                and parsed is not None
                and parsed.valid_from
                and parsed.valid_until
                and parsed.valid_until < parsed.valid_from
            ):
                error = _("valid_until is before valid_from.")
            if error is not None or workload is None or parsed is None:
                plan.errors.append(RowError(row_number, error or ""))
                continue
            seen[workload.pk] = row_number
            plan.rows.append(_planned(row_number, workload, parsed, items.get(workload.pk)))
    except csv.Error as exc:
        plan.errors.append(RowError(row_number, _("Not valid CSV: %(error)s") % {"error": exc}))
    if not plan.rows and not plan.errors:
        plan.file_error = _("The file has a header but no rows.")
    if replace:
        plan.deletions = [item for pk, item in items.items() if pk not in seen]
    return plan


def _check_row(values: dict[str, str], *, partner_id: str, partner_code: str) -> str | None:
    if not values["partner_id"]:
        return _("partner_id is empty.")
    if not values["workload"]:
        return _("workload is empty.")
    if values["partner_id"] not in (partner_id, partner_code):
        return _("The row is for partner “%(other)s”, not this catalog's partner (%(own)s).") % {
            "other": values["partner_id"][:40],
            "own": partner_id,
        }
    return None


def _planned(
    row: int, workload: Workload, values: ItemValues, item: SowCatalogItem | None
) -> PlannedRow:
    if item is None:
        return PlannedRow(row, workload, "create", values)
    now = ItemValues(item.max_seats, item.valid_from, item.valid_until).as_dict()
    after = values.as_dict()
    changes = {name: (now[name], after[name]) for name in now if now[name] != after[name]}
    return PlannedRow(row, workload, "update" if changes else "unchanged", values, changes)


def apply_import(
    catalog: SowCatalog,
    content: bytes,
    *,
    user: User,
    fingerprint: str,
    filename: str = "",
    replace: bool = False,
) -> ImportPlan:
    """Write the file's items, all or nothing, exactly as previewed, and record who did it."""
    with transaction.atomic():
        locked = SowCatalog.objects.select_for_update().get(pk=catalog.pk)
        plan = plan_import(locked, content, filename=filename, replace=replace)
        if not plan.ok:
            raise CatalogError(_("The file has errors; nothing was imported."))
        if plan.fingerprint() != fingerprint:
            raise CatalogError(
                _(
                    "The catalog changed since the preview; nothing was imported. "
                    "Check the new preview."
                )
            )
        items = {item.workload_id: item for item in locked.items.all()}
        created, updated = [], {}
        for row in plan.rows:
            if row.action == "create":
                SowCatalogItem.objects.create(
                    catalog=locked,
                    workload=row.workload,
                    max_seats=row.values.max_seats,
                    valid_from=row.values.valid_from,
                    valid_until=row.values.valid_until,
                )
                created.append(row.workload.code)
            elif row.action == "update":
                item = items[row.workload.pk]
                item.max_seats = row.values.max_seats
                item.valid_from = row.values.valid_from
                item.valid_until = row.values.valid_until
                item.save(update_fields=["max_seats", "valid_from", "valid_until"])
                updated[row.workload.code] = {k: list(v) for k, v in row.changes.items()}
        deleted = [item.workload.code for item in plan.deletions]
        SowCatalogItem.objects.filter(pk__in=[item.pk for item in plan.deletions]).delete()
        record = {
            "file": plan.filename,
            "sha256": plan.sha256,
            "replace": replace,
            "created": created,
            "updated": updated,
            "deleted": deleted,
            "unchanged": plan.counts()["unchanged"],
        }
        if plan.changes_anything:
            catalog_edited(locked, user=user, action="partners.catalog.imported", changes=record)
        else:
            # Nothing changed, so the approval stands; the import is still on record.
            log_action(locked, "partners.catalog.imported", user=user, data=record)
    return plan


def export_rows(catalogs: Iterable[SowCatalog]) -> Iterator[list[str]]:
    """The header and one row per item, in the columns an import reads back."""
    yield COLUMNS
    for catalog in catalogs:
        for item in catalog.items.select_related("workload").order_by("workload__code"):
            yield [
                catalog.partner.partner_id,
                item.workload.code,
                "" if item.max_seats is None else str(item.max_seats),
                item.valid_from.isoformat() if item.valid_from else "",
                item.valid_until.isoformat() if item.valid_until else "",
            ]
