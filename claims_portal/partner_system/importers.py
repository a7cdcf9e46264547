"""Applying one export of the vendor's system: associations, or usage snapshots.

Each importer runs inside the transaction of its file (`sync.apply_batch`): every valid
row is applied, every wrong row is spooled as a rejection with its number and reason,
and a problem with the file as a whole (`FileProblem`) rolls all of it back.

Associations: the vendor's record is taken where the portal has none, or where the
portal's own came from the vendor earlier. Where the portal's own association (from a
claim or an administrator) disagrees, nothing is overwritten: a `SyncConflict` goes to
the claims team.

Usage: one `UsageSnapshot` per customer workload and day, inserted or updated in place
(so a file applied twice changes nothing), and each active association's usage figure
set from its latest snapshot. On PostgreSQL the rows stream through COPY into a staging
table and are applied with a few set-based statements (the 1,000,000-row benchmark in
bench/partner_usage.py); elsewhere (the embedded SQLite default) in ORM batches.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from django.db import connection
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from claims_portal.partner_system.formats import Row, read_rows
from claims_portal.partner_system.models import SyncConflict, SyncFile, SyncRejection, SyncRun
from customers.models import Association, Customer, UsageSnapshot
from partners.models import Partner, Workload

ASSOCIATION_COLUMNS = ["tenant_id", "workload", "partner_id", "since", "ended_on"]
ASSOCIATION_REQUIRED = ["tenant_id", "workload", "partner_id", "since"]
USAGE_COLUMNS = ["tenant_id", "workload", "date", "active_users", "licensed_seats"]
USAGE_REQUIRED = USAGE_COLUMNS
BATCH = 2000
PROGRESS_EVERY = 10_000
MAX_COUNT = 10_000_000

Progress = Callable[[int], None]


@dataclass
class Counts:
    rows_read: int = 0
    rows_created: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    conflicts: int = 0


_FLATTEN = str.maketrans({"\t": " ", "\n": " ", "\r": " ", "\x00": "␀"})


class Rejections:
    """Rejected rows, spooled to disk while the file is read, saved once it is done.

    Spooled rather than written at once so that a dry run, which rolls its changes back,
    still records what it would have rejected, and memory stays flat.
    """

    def __init__(self) -> None:
        self.spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
        self.count = 0

    def add(self, number: int, reason: str, raw: str) -> None:
        self.count += 1
        # One line per rejection in the spool; NUL cannot be stored in PostgreSQL text.
        clean = raw.translate(_FLATTEN)
        self.spool.write(f"{number}\t{reason.translate(_FLATTEN)[:300]}\t{clean[:500]}\n")

    def save(self, *, run: SyncRun, sync_file: SyncFile) -> None:
        self.spool.seek(0)
        batch: list[SyncRejection] = []
        for line in self.spool:
            number, reason, raw = line.rstrip("\n").split("\t", 2)
            batch.append(
                SyncRejection(
                    run=run, file=sync_file, row_number=int(number), reason=reason, raw=raw
                )
            )
            if len(batch) >= 5000:
                SyncRejection.objects.bulk_create(batch)
                batch = []
        if batch:
            SyncRejection.objects.bulk_create(batch)

    def close(self) -> None:
        self.spool.close()


def _date(value: str, column: str) -> datetime.date:
    if not value:
        raise ValueError(f"{column} is empty.")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{column} “{value[:40]}” is not a date (YYYY-MM-DD).") from None


def _count(value: str, column: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{column} “{value[:40]}” is not a whole number.") from None
    if number < 0 or number > MAX_COUNT:
        raise ValueError(f"{column} {number} is out of range (0 to {MAX_COUNT:,}).")
    return number


def _batched(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- Associations ----------------------------------------------------------------------


@dataclass(frozen=True)
class _AssociationRow:
    number: int
    raw: str
    tenant: str
    workload_id: int
    partner_id: int
    since: datetime.date
    ended_on: datetime.date | None


def import_associations(
    stream: IO[bytes],
    fmt: str,
    *,
    run: SyncRun,
    rejections: Rejections,
    progress: Progress,
) -> Counts:
    counts = Counts()
    workloads = {code.lower(): pk for code, pk in Workload.objects.values_list("code", "pk")}
    partners = dict(Partner.objects.values_list("partner_id", "pk"))
    first_seen: dict[tuple[str, int], int] = {}
    today = timezone.localdate()
    rows = read_rows(stream, fmt, columns=ASSOCIATION_COLUMNS, required=ASSOCIATION_REQUIRED)
    for batch in _batched(rows, BATCH):
        valid: list[_AssociationRow] = []
        for row in batch:
            counts.rows_read += 1
            if counts.rows_read % PROGRESS_EVERY == 0:
                progress(counts.rows_read)
            problem, parsed = _check_association(row, workloads, partners, today)
            if parsed is not None:
                key = (parsed.tenant, parsed.workload_id)
                if key in first_seen:
                    problem = (
                        f"The customer workload is listed twice (first on row {first_seen[key]})."
                    )
                else:
                    first_seen[key] = row.number
            if problem or parsed is None:
                rejections.add(row.number, problem, row.raw)
                continue
            valid.append(parsed)
        _apply_associations(valid, run=run, counts=counts, rejections=rejections)
    counts.rows_rejected = rejections.count
    return counts


def _check_association(
    row: Row, workloads: dict[str, int], partners: dict[str, int], today: datetime.date
) -> tuple[str, _AssociationRow | None]:
    if row.values is None:
        return row.problem, None
    tenant, workload, partner, since_text, ended_text = (v.strip() for v in row.values)
    for name, value in zip(
        ASSOCIATION_COLUMNS, (tenant, workload, partner, since_text), strict=False
    ):
        if not value:
            return f"{name} is empty.", None
    workload_id = workloads.get(workload.lower())
    if workload_id is None:
        return f"Unknown workload “{workload[:40]}”.", None
    partner_id = partners.get(partner)
    if partner_id is None:
        return f"Unknown partner “{partner[:40]}”.", None
    try:
        since = _date(since_text, "since")
        ended_on = _date(ended_text, "ended_on") if ended_text else None
    except ValueError as exc:
        return str(exc), None
    if since > today:
        return f"since {since} is in the future.", None
    if ended_on is not None and ended_on < since:
        return "ended_on is before since.", None
    if len(tenant) > 64:
        return "tenant_id is longer than 64 characters.", None
    return "", _AssociationRow(
        row.number, row.raw, tenant, workload_id, partner_id, since, ended_on
    )


def _apply_associations(
    rows: list[_AssociationRow], *, run: SyncRun, counts: Counts, rejections: Rejections
) -> None:
    if not rows:
        return
    tenants = dict(
        Customer.objects.filter(tenant_id__in={r.tenant for r in rows}).values_list(
            "tenant_id", "pk"
        )
    )
    # The customer's row lock is what claim evaluation takes before it grants an
    # association: holding it, an import and an evaluation never both write one.
    customer_ids = sorted(set(tenants.values()))
    list(
        Customer.objects.select_for_update()
        .filter(pk__in=customer_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    active = {
        (a.customer_id, a.workload_id): a
        for a in Association.objects.filter(customer_id__in=customer_ids, ended_on=None)
    }
    for row in rows:
        customer_id = tenants.get(row.tenant)
        if customer_id is None:
            rejections.add(row.number, f"Unknown customer tenant “{row.tenant[:64]}”.", row.raw)
            continue
        key = (customer_id, row.workload_id)
        outcome, now_active = _apply_association(row, customer_id, active.get(key), run=run)
        if now_active is None:
            active.pop(key, None)
        else:
            active[key] = now_active
        if outcome == "created":
            counts.rows_created += 1
        elif outcome in ("moved", "ended"):
            counts.rows_updated += 1
        elif outcome == "conflict":
            counts.conflicts += 1
        else:
            counts.rows_unchanged += 1


def _apply_association(
    row: _AssociationRow, customer_id: int, current: Association | None, *, run: SyncRun
) -> tuple[str, Association | None]:
    """What the row does, and the customer workload's active association afterwards."""
    imported = Association.Origin.PARTNER_SYSTEM
    if row.ended_on is not None:
        if current is None or current.partner_id != row.partner_id:
            return "unchanged", current  # history of something not current in the portal
        if current.origin != imported:
            _conflict(row, customer_id, current, SyncConflict.Kind.ENDED, run=run)
            return "conflict", current
        current.ended_on = max(row.ended_on, current.since)
        current.save(update_fields=["ended_on"])
        return "ended", None
    if current is None:
        created = Association.objects.create(
            customer_id=customer_id,
            workload_id=row.workload_id,
            partner_id=row.partner_id,
            since=row.since,
            origin=imported,
        )
        return "created", created
    if current.partner_id == row.partner_id:
        return "unchanged", current
    if current.origin != imported:
        _conflict(row, customer_id, current, SyncConflict.Kind.OTHER_PARTNER, run=run)
        return "conflict", current
    # The vendor moved a workload it had told us about: its record stands.
    current.ended_on = max(row.since, current.since)
    current.save(update_fields=["ended_on"])
    moved = Association.objects.create(
        customer_id=customer_id,
        workload_id=row.workload_id,
        partner_id=row.partner_id,
        since=current.ended_on,
        origin=imported,
    )
    return "moved", moved


def _conflict(
    row: _AssociationRow,
    customer_id: int,
    current: Association,
    kind: str,
    *,
    run: SyncRun,
) -> None:
    existing = (
        SyncConflict.objects.select_for_update()
        .filter(
            customer_id=customer_id,
            workload_id=row.workload_id,
            imported_partner_id=row.partner_id,
            kind=kind,
            state=SyncConflict.State.OPEN,
        )
        .first()
    )
    if existing is not None:
        if existing.last_run_id != run.pk:
            existing.last_run = run
            existing.times_seen += 1
            existing.save(update_fields=["last_run", "times_seen"])
        return
    SyncConflict.objects.create(
        customer_id=customer_id,
        workload_id=row.workload_id,
        association=current,
        portal_partner_id=current.partner_id,
        imported_partner_id=row.partner_id,
        kind=kind,
        imported_since=row.since,
        imported_ended_on=row.ended_on,
        first_run=run,
        last_run=run,
    )


# --- Usage -------------------------------------------------------------------------------

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def _usage_values(row: Row) -> tuple[str, tuple[str, str, str, int, int, int] | None]:
    """(problem, (tenant, workload, date, active, licensed, usage in hundredths of a %))."""
    if row.values is None:
        return row.problem, None
    tenant, workload, day, active_text, licensed_text = row.values
    tenant, workload, day = tenant.strip(), workload.strip().lower(), day.strip()
    if not tenant:
        return "tenant_id is empty.", None
    if len(tenant) > 64:
        return "tenant_id is longer than 64 characters.", None
    if not workload:
        return "workload is empty.", None
    try:
        # The date as PostgreSQL and every reader will take it, whatever ISO form it came in.
        day = _date(day, "date").isoformat()
        active = _count(active_text.strip(), "active_users")
        licensed = _count(licensed_text.strip(), "licensed_seats")
    except ValueError as exc:
        return str(exc), None
    if licensed == 0:
        return "licensed_seats is 0: there is no usage to measure.", None
    if active > licensed:
        return f"active_users ({active}) exceed licensed_seats ({licensed}).", None
    # Rounded half up to hundredths of a percent, in integers (no Decimal per row).
    hundredths = (active * 20000 + licensed) // (2 * licensed)
    return "", (tenant, workload[:40], day, active, licensed, hundredths)


def _percent(hundredths: int) -> Decimal:
    return Decimal(hundredths) / HUNDRED


def import_usage(
    stream: IO[bytes],
    fmt: str,
    *,
    run: SyncRun,
    rejections: Rejections,
    progress: Progress,
    bulk: str | None = None,
) -> Counts:
    """`bulk`: "copy" (PostgreSQL) or "orm"; by default the fastest the database allows."""
    bulk = bulk or ("copy" if connection.vendor == "postgresql" else "orm")
    rows = read_rows(stream, fmt, columns=USAGE_COLUMNS, required=USAGE_REQUIRED)
    if bulk == "copy":
        counts = _usage_by_copy(rows, rejections=rejections, progress=progress)
    else:
        counts = _usage_by_orm(rows, rejections=rejections, progress=progress)
    counts.rows_rejected = rejections.count
    return counts


_STAGE = "partner_system_usage_stage"
# COPY's text format: these would end or split a field.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _usage_by_copy(rows: Iterator[Row], *, rejections: Rejections, progress: Progress) -> Counts:
    """Stream the rows into a staging table with COPY, then apply them in a few statements.

    The staging table holds what was read; the statements resolve tenants and workloads
    with joins, reject the rows naming ones the portal does not know and the repeats of a
    customer workload and day, and upsert the rest in the unique key's order (integer
    keys: no collation-aware sorting of a million tenant names).
    """
    counts = Counts()
    snapshot = UsageSnapshot._meta.db_table
    customer = Customer._meta.db_table
    workload = Workload._meta.db_table
    association = Association._meta.db_table
    with connection.cursor() as cursor:
        # Room to sort and hash a whole file in memory, for this transaction only.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGE} (row_no integer, tenant text, workload text,"
            " day date, active integer, licensed integer, hundredths integer) ON COMMIT DROP"
        )
        raw_cursor = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        staged = 0
        with raw_cursor.copy(f"COPY {_STAGE} FROM STDIN") as copy:
            lines: list[str] = []
            report_at = PROGRESS_EVERY
            for row in rows:
                counts.rows_read += 1
                if counts.rows_read >= report_at:
                    progress(counts.rows_read)
                    report_at += PROGRESS_EVERY
                problem, values = _usage_values(row)
                if values is None:
                    rejections.add(row.number, problem, row.raw)
                    continue
                tenant, code, day, active, licensed, hundredths = values
                staged += 1
                lines.append(
                    f"{row.number}\t{_copy_text(tenant)}\t{_copy_text(code)}\t{day}\t"
                    f"{active}\t{licensed}\t{hundredths}\n"
                )
                if len(lines) >= 5000:
                    copy.write("".join(lines))
                    lines = []
            if lines:
                copy.write("".join(lines))
        rejected_while_reading = rejections.count
        cursor.execute(f"ANALYZE {_STAGE}")
        cursor.execute(
            f"""
            SELECT s.row_no,
                   concat_ws(',', s.tenant, s.workload, s.day, s.active, s.licensed),
                   CASE WHEN c.id IS NULL
                            THEN 'Unknown customer tenant “' || left(s.tenant, 64) || '”.'
                        ELSE 'Unknown workload “' || left(s.workload, 40) || '”.'
                   END
            FROM {_STAGE} s
            LEFT JOIN {customer} c ON c.tenant_id = s.tenant
            LEFT JOIN {workload} w ON w.code = s.workload
            WHERE c.id IS NULL OR w.id IS NULL
            ORDER BY s.row_no
            """
        )
        while chunk := cursor.fetchmany(5000):
            for number, raw, reason in chunk:
                rejections.add(number, reason, raw)
        unknown = rejections.count - rejected_while_reading
        # The first row of each customer workload and day, by ids, in the unique index's
        # order; a count short of the known rows means the file repeats some.
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE {_STAGE}_keyed ON COMMIT DROP AS
            SELECT DISTINCT ON (c.id, w.id, s.day)
                   c.id AS customer_id, w.id AS workload_id, s.day, s.active, s.licensed,
                   s.hundredths
            FROM {_STAGE} s
            JOIN {customer} c ON c.tenant_id = s.tenant
            JOIN {workload} w ON w.code = s.workload
            ORDER BY c.id, w.id, s.day, s.row_no
            """
        )
        distinct = cursor.rowcount
        known = staged - unknown
        # What a foreign key's trigger would do for every row (the snapshot table has none):
        # keep each customer and workload named from being deleted until this commits.
        cursor.execute(
            f"SELECT 1 FROM {customer} WHERE id IN"
            f" (SELECT DISTINCT customer_id FROM {_STAGE}_keyed) FOR KEY SHARE"
        )
        cursor.execute(
            f"SELECT 1 FROM {workload} WHERE id IN"
            f" (SELECT DISTINCT workload_id FROM {_STAGE}_keyed) FOR KEY SHARE"
        )
        cursor.execute(
            f"""
            WITH applied AS (
                INSERT INTO {snapshot} AS u
                    (customer_id, workload_id, date, active_users, licensed_seats,
                     active_usage_pct, imported_at)
                SELECT customer_id, workload_id, day, active, licensed,
                       hundredths::numeric / 100, now()
                FROM {_STAGE}_keyed
                ON CONFLICT (customer_id, workload_id, date) DO UPDATE
                    SET active_users = EXCLUDED.active_users,
                        licensed_seats = EXCLUDED.licensed_seats,
                        active_usage_pct = EXCLUDED.active_usage_pct,
                        imported_at = EXCLUDED.imported_at
                    WHERE (u.active_users, u.licensed_seats, u.active_usage_pct)
                          IS DISTINCT FROM
                          (EXCLUDED.active_users, EXCLUDED.licensed_seats,
                           EXCLUDED.active_usage_pct)
                RETURNING (xmax = 0) AS created
            )
            SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created)
            FROM applied
            """
        )
        created, updated = cursor.fetchone()
        if known != distinct:
            # Rare: a file that repeats a customer workload and day. Name every repeat.
            cursor.execute(
                f"""
                SELECT row_no, raw, 'The customer workload and date are listed twice '
                       || '(first on row ' || first_row || ').'
                FROM (
                    SELECT s.row_no,
                           concat_ws(',', s.tenant, s.workload, s.day, s.active, s.licensed)
                               AS raw,
                           min(s.row_no) OVER (PARTITION BY c.id, w.id, s.day) AS first_row
                    FROM {_STAGE} s
                    JOIN {customer} c ON c.tenant_id = s.tenant
                    JOIN {workload} w ON w.code = s.workload
                ) r
                WHERE row_no <> first_row
                ORDER BY row_no
                """
            )
            while chunk := cursor.fetchmany(5000):
                for number, raw, reason in chunk:
                    rejections.add(number, reason, raw)
        # Each active association shows the latest usage the vendor reported for it.
        cursor.execute(
            f"""
            UPDATE {association} a
            SET active_usage_pct = latest.active_usage_pct, usage_updated_at = now()
            FROM (
                SELECT DISTINCT ON (u.customer_id, u.workload_id)
                       u.customer_id, u.workload_id, u.active_usage_pct
                FROM {snapshot} u
                JOIN (SELECT DISTINCT customer_id, workload_id FROM {_STAGE}_keyed) t
                  ON t.customer_id = u.customer_id AND t.workload_id = u.workload_id
                ORDER BY u.customer_id, u.workload_id, u.date DESC
            ) latest
            WHERE a.customer_id = latest.customer_id AND a.workload_id = latest.workload_id
              AND a.ended_on IS NULL
              AND a.active_usage_pct IS DISTINCT FROM latest.active_usage_pct
            """
        )
        cursor.execute(f"DROP TABLE {_STAGE}_keyed, {_STAGE}")
    counts.rows_created = created
    counts.rows_updated = updated
    counts.rows_unchanged = counts.rows_read - rejections.count - created - updated
    return counts


def _usage_by_orm(rows: Iterator[Row], *, rejections: Rejections, progress: Progress) -> Counts:
    counts = Counts()
    workloads = dict(Workload.objects.values_list("code", "pk"))
    # Every customer workload and day seen, to refuse repeats: bounded by the file, which
    # on this path (no PostgreSQL) is the embedded default's size, not the benchmark's.
    first_seen: dict[tuple[str, str, str], int] = {}
    for batch in _batched(rows, BATCH):
        parsed: list[tuple[int, str, tuple[str, str, str, int, int, int]]] = []
        for row in batch:
            counts.rows_read += 1
            if counts.rows_read % PROGRESS_EVERY == 0:
                progress(counts.rows_read)
            problem, values = _usage_values(row)
            if values is None:
                rejections.add(row.number, problem, row.raw)
                continue
            key = values[:3]
            if key in first_seen:
                rejections.add(
                    row.number,
                    "The customer workload and date are listed twice "
                    f"(first on row {first_seen[key]}).",
                    row.raw,
                )
                continue
            first_seen[key] = row.number
            parsed.append((row.number, row.raw, values))
        tenants = dict(
            Customer.objects.filter(tenant_id__in={v[0] for _, _, v in parsed}).values_list(
                "tenant_id", "pk"
            )
        )
        wanted: dict[tuple[int, int, datetime.date], tuple[int, int, Decimal]] = {}
        for number, raw, (tenant, code, day, active, licensed, hundredths) in parsed:
            pct = _percent(hundredths)
            if tenant not in tenants:
                rejections.add(number, f"Unknown customer tenant “{tenant[:64]}”.", raw)
            elif code not in workloads:
                rejections.add(number, f"Unknown workload “{code[:40]}”.", raw)
            else:
                wanted[(tenants[tenant], workloads[code], datetime.date.fromisoformat(day))] = (
                    active,
                    licensed,
                    pct,
                )
        if not wanted:
            continue
        existing = {
            (u.customer_id, u.workload_id, u.date): u
            for u in UsageSnapshot.objects.filter(
                customer_id__in={k[0] for k in wanted},
                workload_id__in={k[1] for k in wanted},
                date__in={k[2] for k in wanted},
            )
        }
        new, changed = [], []
        for ids, (active, licensed, pct) in wanted.items():
            snapshot = existing.get(ids)
            if snapshot is None:
                new.append(
                    UsageSnapshot(
                        customer_id=ids[0],
                        workload_id=ids[1],
                        date=ids[2],
                        active_users=active,
                        licensed_seats=licensed,
                        active_usage_pct=pct,
                    )
                )
            elif (snapshot.active_users, snapshot.licensed_seats, snapshot.active_usage_pct) != (
                active,
                licensed,
                pct,
            ):
                snapshot.active_users, snapshot.licensed_seats = active, licensed
                snapshot.active_usage_pct = pct
                snapshot.imported_at = timezone.now()
                changed.append(snapshot)
        UsageSnapshot.objects.bulk_create(new)
        UsageSnapshot.objects.bulk_update(
            changed, ["active_users", "licensed_seats", "active_usage_pct", "imported_at"]
        )
        counts.rows_created += len(new)
        counts.rows_updated += len(changed)
        counts.rows_unchanged += len(wanted) - len(new) - len(changed)
        latest = UsageSnapshot.objects.filter(
            customer_id=OuterRef("customer_id"), workload_id=OuterRef("workload_id")
        ).order_by("-date")
        Association.objects.filter(
            Exists(latest),
            customer_id__in={k[0] for k in wanted},
            workload_id__in={k[1] for k in wanted},
            ended_on=None,
        ).update(
            active_usage_pct=Subquery(latest.values("active_usage_pct")[:1]),
            usage_updated_at=timezone.now(),
        )
    return counts
