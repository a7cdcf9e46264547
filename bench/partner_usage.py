"""Importing 1,000,000 usage rows from the vendor's partner system: rows/s and peak memory.

    .venv/bin/python bench/partner_usage.py                  # 1,000,000 rows, ~2 min
    .venv/bin/python bench/partner_usage.py --rows 100000 --orm

Makes its own database (partner_usage_bench, marked so only this script drops it),
migrates it, adds --customers customers, writes the export files into a temporary drop
folder, and runs each import through the real path (`run_sync` with the file adapter) in
a fresh child process, so the peak resident memory reported (VmHWM) is that of one
sync run: Django, the connection, the reader, the COPY stream and the spooled rejections.

Runs measured:
  csv-new        every row a new snapshot (INSERT through COPY and ON CONFLICT)
  csv-unchanged  the same rows again in a new file: each compared, nothing written
  csv-changed    the same rows with every usage figure changed: each row updated
  jsonl-new      the first file as JSON lines, into an emptied table
  orm-new        with --orm: the ORM batch path (no PostgreSQL COPY), for comparison

Aim (issue 12): over 20,000 rows/s and under 300 MB.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "partner_usage_bench"
MARK = "partner_usage_bench: made by bench/partner_usage.py, dropped by it"
HEADER = "tenant_id,workload,date,active_users,licensed_seats\n"


def _psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAc", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def make_database() -> str:
    exists = _psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'")
    if exists:
        comment = _psql(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
            f" WHERE datname = '{DB_NAME}'"
        )
        if comment != MARK:
            sys.exit(f"{DB_NAME} exists and was not made by this script; not touching it.")
        _psql(f'DROP DATABASE "{DB_NAME}"')
    _psql(f'CREATE DATABASE "{DB_NAME}"')
    _psql(f"COMMENT ON DATABASE \"{DB_NAME}\" IS '{MARK}'")
    url = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": ""}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return url


def seed(url: str, customers: int) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = ""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "claims_portal.settings")
    import django

    django.setup()
    from customers.models import Customer
    from partners.models import Workload

    Workload.objects.bulk_create(
        [Workload(code="exchange", name="Exchange Online"), Workload(code="teams", name="Teams")]
    )
    Customer.objects.bulk_create(
        (
            Customer(name=f"Customer {n}", tenant_id=f"tenant-{n}.example", seats=1000)
            for n in range(1, customers + 1)
        ),
        batch_size=5000,
    )


def write_files(folder: Path, rows: int, customers: int) -> dict[str, Path]:
    """Rows spread over customers x two workloads x days, every key once."""
    per_day = customers * 2
    start = datetime.date(2024, 1, 1)
    days = [(start + datetime.timedelta(days=d)).isoformat() for d in range(rows // per_day + 1)]
    paths = {name: folder / name for name in ("new.csv", "changed.csv", "new.jsonl")}
    with (
        paths["new.csv"].open("w") as new,
        paths["changed.csv"].open("w") as changed,
        paths["new.jsonl"].open("w") as jsonl,
    ):
        new.write(HEADER)
        changed.write(HEADER)
        for n in range(rows):
            customer = n % customers + 1
            workload = "exchange" if (n // customers) % 2 == 0 else "teams"
            day = days[n // per_day]
            active = n % 97
            tenant = f"tenant-{customer}.example"
            new.write(f"{tenant},{workload},{day},{active},100\n")
            changed.write(f"{tenant},{workload},{day},{(active + 1) % 97},100\n")
            jsonl.write(
                json.dumps(
                    {
                        "tenant_id": tenant,
                        "workload": workload,
                        "date": day,
                        "active_users": active,
                        "licensed_seats": 100,
                    }
                )
                + "\n"
            )
    return paths


def child(url: str, drop: Path, name: str, source: Path, bulk: str) -> dict:
    """Run one import in a fresh process; returns its figures."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "PARTNER_SYSTEM_DIR": str(drop),
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdef-0123456789",
        "LOG_LEVEL": "WARNING",
    }
    inbox = drop / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    os.link(source, inbox / f"usage-{name}{source.suffix}")
    result = subprocess.run(
        [sys.executable, __file__, "--child", bulk],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _high_water_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that
    over from the parent across fork and exec, so it would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: this one, or its PostgreSQL backend.

    On a shared machine the wall clock says as much about the neighbours as about the
    import; CPU seconds of both ends say what the import itself costs.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(bulk: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "claims_portal.settings")
    import django

    django.setup()
    from claims_portal.partner_system import importers, services
    from claims_portal.partner_system.models import SyncRun

    if bulk == "orm":
        original = importers.import_usage
        services.IMPORTERS["usage"] = lambda *a, **k: original(*a, bulk="orm", **k)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    before = _high_water_mb()
    cpu_before = _cpu_seconds(os.getpid()), _cpu_seconds(backend)
    started = time.perf_counter()
    run = services.run_sync(trigger=SyncRun.Trigger.COMMAND)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds(os.getpid()) - cpu_before[0], _cpu_seconds(backend) - cpu_before[1]
    peak = _high_water_mb()
    print(
        json.dumps(
            {
                "status": run.status,
                "error": run.error,
                "rows": run.rows_read,
                "created": run.rows_created,
                "updated": run.rows_updated,
                "unchanged": run.rows_unchanged,
                "rejected": run.rows_rejected,
                "seconds": round(seconds, 2),
                "rows_per_s": round(run.rows_read / seconds),
                "client_cpu_s": round(cpu[0], 1),
                "server_cpu_s": round(cpu[1], 1),
                "rows_per_cpu_s": round(run.rows_read / max(sum(cpu), 1e-6)),
                "load_average": round(os.getloadavg()[0], 1),
                "peak_rss_mb": peak,
                "rss_before_mb": before,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--orm", action="store_true", help="also time the ORM batch path")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child)
        return
    url = make_database()
    seed(url, args.customers)
    results = []
    with tempfile.TemporaryDirectory(prefix="partner-usage-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        files = write_files(folder, args.rows, args.customers)
        print(f"wrote {args.rows:,} rows x 3 files in {time.perf_counter() - started:.0f} s")
        drop = folder / "drop"
        plan = [
            ("csv-new", files["new.csv"], "copy"),
            ("csv-unchanged", files["new.csv"], "copy"),
            ("csv-changed", files["changed.csv"], "copy"),
            ("jsonl-new", files["new.jsonl"], "copy"),
        ]
        if args.orm:
            # The ORM path is the embedded default's (SQLite): timed on a tenth of the rows.
            tenth = folder / "tenth.csv"
            with files["new.csv"].open() as full, tenth.open("w") as part:
                for _, line in zip(range(args.rows // 10 + 1), full, strict=False):
                    part.write(line)
            plan.append(("orm-new", tenth, "orm"))
        for name, source, bulk in plan:
            if name.endswith("-new"):
                # Empty, and forget the files applied: the same content is imported anew.
                _psql("TRUNCATE customers_usagesnapshot, partner_system_syncfile CASCADE", DB_NAME)
            if name == "csv-unchanged":
                # Same rows, one more blank line: another file's content, every row compared.
                copy = folder / "unchanged.csv"
                copy.write_bytes(source.read_bytes() + b"\n")
                source = copy
            figures = child(url, drop, name, source, bulk)
            figures["run"] = name
            results.append(figures)
            print(
                f"{name:<14} {figures['status']:<9} {figures['rows']:>9,} rows "
                f"{figures['seconds']:>6.1f} s {figures['rows_per_s']:>7,} rows/s | CPU "
                f"{figures['client_cpu_s']:>5.1f} s here + {figures['server_cpu_s']:>5.1f} s "
                f"PostgreSQL = {figures['rows_per_cpu_s']:>7,} rows per CPU-second | peak RSS "
                f"{figures['peak_rss_mb']:>5.1f} MB"
                f" (Django loaded: {figures['rss_before_mb']:.0f} MB)"
                f" | load {figures['load_average']} | created {figures['created']:,} "
                f"updated {figures['updated']:,} unchanged {figures['unchanged']:,}"
            )
            if figures["status"] != "succeeded":
                print(figures["error"])
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "partner_usage.json").write_text(json.dumps(results, indent=2))
    from django.db import connections  # noqa: I001 (Django was set up by seed())

    connections.close_all()
    if not args.keep:
        _psql(f'DROP DATABASE "{DB_NAME}"')


if __name__ == "__main__":
    main()
