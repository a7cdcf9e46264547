"""Measure pages served for real against the filled database (see bench/fill.py).

    .venv/bin/python bench/pages.py                    # every page in PAGES, 30 requests each
    .venv/bin/python bench/pages.py --explain          # and EXPLAIN ANALYZE the slowest SQL
    .venv/bin/python bench/pages.py --only review -n 50
    .venv/bin/python bench/pages.py --page "partner:/partner/?sort=due" --page "lead:/review/"

It starts gunicorn (one sync worker, bench.settings) on a free port of the loopback, signs
each role in by writing a Django session straight into the database, and requests every
page N times after a warm-up, each request followed by one to /bench/trivial/ (a view
that touches neither session nor database). Server time comes from the Server-Timing
header written by bench.middleware; the ratio to the trivial view, measured in the same
moments, is what stays comparable on a busy machine.

Why gunicorn and not runserver: it is what the Dockerfile serves production with, it has
no autoreloader or development static handler, and one sync worker handles one request
at a time, so nothing else on the server competes with the request being measured.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import people  # noqa: E402

OUT = ROOT / "bench" / "out"
TRIVIAL = "/bench/trivial/"
# The page size of the portal's lists (Paginator(..., 25) in the views).
PAGE_SIZE = 25


@dataclass(frozen=True)
class Page:
    """A page to measure: who asks (a role in people.BY_ROLE) and the path.

    `{name}` in the path is filled from PLACEHOLDERS for that user, e.g. the last page
    number. `csv` pages are streamed exports: timed to the last byte, rows counted.
    """

    role: str
    path: str
    csv: bool = False
    label: str = ""


PAGES = [
    Page("partner", "/partner/"),
    Page("partner", "/partner/?status=in_review"),
    Page("partner", "/partner/?page={partner_last_page}", label="partner /partner/?page=last"),
    Page("partner", "/partner/?sort=due"),
    Page("partner", "/partner/?export=csv", csv=True),
    Page("partner", "/partner/claims/{partner_claim}/", label="partner claim detail"),
    # The claims team's queue (issue 9): each view, filtered, last page, CSV, one claim.
    Page("reviewer", "/review/"),
    Page("reviewer", "/review/?view=mine"),
    Page("reviewer", "/review/?view=unassigned"),
    Page("reviewer", "/review/?view=overdue"),
    Page("reviewer", "/review/?view=decided"),
    Page("lead", "/review/", label="lead /review/ (with the assign form)"),
    Page("reviewer", "/review/?reason=duplicate"),
    Page("reviewer", "/review/?partner=BP000001"),
    Page("reviewer", "/review/?age=30&sort=oldest"),
    Page("reviewer", "/review/?assignee=none&reason=public_sector&sort=newest"),
    Page("reviewer", "/review/?q=Bench+Customer+000001"),
    Page("reviewer", "/review/?q={review_claim}", label="reviewer /review/?q=<reference>"),
    Page("reviewer", "/review/?page={review_last_page}", label="reviewer /review/?page=<last>"),
    Page("reviewer", "/review/?page=last"),
    Page("reviewer", "/review/?view=mine&page=last"),
    Page("reviewer", "/review/?view=overdue&page=last"),
    Page("reviewer", "/review/?view=mine&export=csv", csv=True),
    Page("reviewer", "/review/?export=csv", csv=True),
    Page("reviewer", "/review/claims/{review_claim}/", label="reviewer claim detail"),
    Page("customer", "/claims/"),
    Page("customer", "/claims/?page={customer_last_page}", label="customer /claims/?page=last"),
]


def _last_page(count: int) -> int:
    return max(1, math.ceil(count / PAGE_SIZE))


def _partner_last_page(roles) -> int:
    from claims.selectors import claims_for_partner

    return _last_page(claims_for_partner(roles).order_by().count())


def _review_last_page(roles) -> int:
    from approvals.selectors import open_review_tasks

    return _last_page(open_review_tasks(roles).order_by().count())


def _customer_last_page(roles) -> int:
    from claims.selectors import claims_for_customer

    return _last_page(claims_for_customer(roles).order_by().count())


def _partner_claim(roles) -> str:
    from claims.models import Claim
    from claims.selectors import claims_for_partner

    # A decided claim that went through review has the longest history.
    claims = claims_for_partner(roles).filter(status=Claim.Status.PARTIALLY_APPROVED)
    return claims.order_by("-created_at").values_list("reference", flat=True)[0]


def _review_claim(roles) -> str:
    from approvals.selectors import open_review_tasks

    return open_review_tasks(roles).values_list("claim__reference", flat=True)[0]


# Values for `{name}` in Page.path, computed once per user through the app's selectors.
PLACEHOLDERS = {
    "partner_last_page": _partner_last_page,
    "review_last_page": _review_last_page,
    "customer_last_page": _customer_last_page,
    "partner_claim": _partner_claim,
    "review_claim": _review_claim,
}


# --- Arguments ----------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/claims_bench"
        ),
    )
    parser.add_argument("-n", "--requests", type=int, default=30, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="requests before measuring")
    parser.add_argument(
        "--csv-requests", type=int, default=3, help="measured requests per CSV export"
    )
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="ROLE:PATH",
        help="measure this instead of PAGES (repeatable); roles: " + ", ".join(people.BY_ROLE),
    )
    parser.add_argument("--only", help="measure only PAGES whose label contains this")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest SQL")
    parser.add_argument("--explain-top", type=int, default=3, help="statements per page")
    parser.add_argument("--plan-lines", type=int, default=14, help="plan lines printed")
    parser.add_argument(
        "--server", help="measure a server already running bench.settings (base URL)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def selected_pages(args: argparse.Namespace) -> list[Page]:
    if args.page:
        pages = []
        for spec in args.page:
            role, _, path = spec.partition(":")
            if role not in people.BY_ROLE or not path.startswith("/"):
                raise SystemExit(f"--page wants ROLE:/path, got {spec!r}")
            pages.append(Page(role, path, csv="export=csv" in path))
        return pages
    pages = PAGES
    if args.only:
        pages = [p for p in pages if args.only in label_of(p)]
    return pages


def label_of(page: Page) -> str:
    return page.label or f"{page.role} {page.path}"


# --- The server -----------------------------------------------------------------------


class Server:
    def __init__(self, args: argparse.Namespace) -> None:
        self.process: subprocess.Popen | None = None
        self.base = args.server
        self.args = args

    def __enter__(self) -> Server:
        if self.base:
            host, port = self.base.split("//", 1)[-1].rstrip("/").split(":")
            self.host, self.port = host, int(port)
            return self
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.host, self.port = "127.0.0.1", probe.getsockname()[1]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": self.args.database_url,
        }
        self.log = open(OUT / "gunicorn.log", "w")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "claims_portal.wsgi:application",
                "--bind",
                f"{self.host}:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "900",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if get(self, TRIVIAL).status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise SystemExit(f"gunicorn did not come up; see {OUT / 'gunicorn.log'}")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.log.close()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    client_ms: float


def get(server: Server, path: str, cookie: str = "", headers: dict | None = None) -> Response:
    # gunicorn's sync workers close the connection after each response: a new one each time.
    conn = http.client.HTTPConnection(server.host, server.port, timeout=900)
    began = time.perf_counter()
    try:
        conn.request(
            "GET", path, headers={**({"Cookie": cookie} if cookie else {}), **(headers or {})}
        )
        raw = conn.getresponse()
        body = raw.read()
        client_ms = (time.perf_counter() - began) * 1000
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, body, client_ms)
    finally:
        conn.close()


def server_timing(response: Response) -> dict[str, float]:
    timings = {}
    for part in response.headers.get("server-timing", "").split(","):
        match = re.match(r"\s*(\w+);dur=([\d.]+)", part)
        if match:
            timings[match[1]] = float(match[2])
    return timings


def read_report(name: str) -> dict:
    path = OUT / "reports" / f"{name}.json"
    # The report of a streamed response is written when its last chunk has gone.
    for _ in range(100):
        if path.exists():
            data = json.loads(path.read_text())
            path.unlink()
            return data
        time.sleep(0.05)
    raise SystemExit(f"no report {path}: is the server running bench.settings?")


# --- Sign-ins ------------------------------------------------------------------------------


class SignIns:
    """A session per role, written into the database: no password round trips."""

    def __init__(self) -> None:
        self.stores = []
        self.users = {}

    def cookie(self, role: str) -> str:
        from importlib import import_module

        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

        user = self.user(role)
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        self.stores.append(store)
        return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"

    def user(self, role: str):
        from django.contrib.auth import get_user_model

        if role not in self.users:
            email = people.BY_ROLE[role]
            user = get_user_model().objects.filter(email=email).first()
            if user is None:
                raise SystemExit(f"No user {email}: fill the database first (bench/fill.py).")
            self.users[role] = user
        return self.users[role]

    def close(self) -> None:
        for store in self.stores:
            store.delete()


# --- Measuring ------------------------------------------------------------------------------


@dataclass
class Figures:
    label: str
    path: str
    status: int = 0
    note: str = ""
    app_ms: list[float] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)
    trivial_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    size: int = 0
    rows: int | None = None

    def summary(self) -> dict:
        data = {"label": self.label, "path": self.path, "status": self.status, "note": self.note}
        if not self.app_ms:
            return data
        p50, p95 = pct(self.app_ms, 50), pct(self.app_ms, 95)
        t50, t95 = pct(self.trivial_ms, 50), pct(self.trivial_ms, 95)
        data.update(
            requests=len(self.app_ms),
            p50_ms=p50,
            p95_ms=p95,
            db_p50_ms=pct(self.db_ms, 50),
            client_p50_ms=pct(self.client_ms, 50),
            trivial_p50_ms=t50,
            trivial_p95_ms=t95,
            ratio_p50=p50 / t50 if t50 else None,
            ratio_p95=p95 / t95 if t95 else None,
            queries=sorted(set(self.queries)),
            queries_constant=len(set(self.queries)) == 1,
            bytes=self.size,
        )
        if self.rows is not None:
            data.update(rows=self.rows, rows_per_s=self.rows / (p50 / 1000) if p50 else None)
        return data


def pct(values: list[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    ordered = sorted(values)
    # Nearest rank: with 30 samples p95 is the second slowest.
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def measure(server: Server, page: Page, path: str, cookie: str, args) -> Figures:
    figures = Figures(label_of(page), path)
    first = get(server, path, cookie)
    figures.status = first.status
    if first.status != 200:
        figures.note = f"HTTP {first.status}" + (
            f" to {first.headers.get('location')}" if "location" in first.headers else ""
        )
        return figures
    is_csv = first.headers.get("content-type", "").startswith("text/csv")
    if page.csv and not is_csv:
        figures.note = f"not CSV ({first.headers.get('content-type')}): no export yet?"
        return figures
    # A streamed response runs its queries after the headers went: figures from the report.
    streamed = "x-bench-streaming" in first.headers
    for _ in range(args.warmup - 1):
        get(server, path, cookie)
        get(server, TRIVIAL, cookie)
    for _ in range(args.csv_requests if page.csv or streamed else args.requests):
        if streamed:
            name = f"stream-{uuid.uuid4().hex}"
            response = get(server, path, cookie, {"X-Bench-Report": name})
            report = read_report(name)
            app_ms, db_ms, queries = report["app_ms"], report["db_ms"], report["queries"]
        else:
            response = get(server, path, cookie)
            timing = server_timing(response)
            app_ms, db_ms = timing["app"], timing["db"]
            queries = int(response.headers["x-bench-queries"])
        if is_csv:
            figures.rows = max(0, response.body.count(b"\n") - 1)
        figures.app_ms.append(app_ms)
        figures.db_ms.append(db_ms)
        figures.client_ms.append(response.client_ms)
        figures.queries.append(queries)
        figures.size = len(response.body)
        trivial = get(server, TRIVIAL, cookie)
        figures.trivial_ms.append(server_timing(trivial)["app"])
        if trivial.headers.get("x-bench-queries") != "0":
            figures.note = "the trivial view ran queries!"
    return figures


HEADER = (
    f"{'page':<38} {'p50 ms':>8} {'p95 ms':>8} {'db p50':>7} {'triv p50':>8}"
    f" {'x p50':>6} {'x p95':>6} {'queries':>9} {'KB':>7}"
)


def print_header() -> None:
    print(HEADER)
    print("-" * len(HEADER))


def print_row(row: dict) -> None:
    label = row["label"] if len(row["label"]) <= 38 else row["label"][:35] + "..."
    if "p50_ms" not in row:
        print(f"{label:<38} {row['note'] or 'HTTP ' + str(row['status'])}")
        return
    queries = "/".join(map(str, row["queries"]))
    queries += "" if row["queries_constant"] else " (varies)"
    print(
        f"{label:<38} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['db_p50_ms']:>7.1f}"
        f" {row['trivial_p50_ms']:>8.2f} {row['ratio_p50']:>6.0f} {row['ratio_p95']:>6.0f}"
        f" {queries:>9} {row['bytes'] / 1024:>7.1f}"
    )
    if row.get("rows") is not None:
        print(f"{'':<38} {row['rows']:,} rows, {row['rows_per_s']:,.0f} rows/s streamed")
    if row["note"]:
        print(f"{'':<38} {row['note']}")


# --- EXPLAIN ----------------------------------------------------------------------------------


def explain(server: Server, page: Page, path: str, cookie: str, args) -> dict:
    from django.db import connection, transaction

    name = f"sql-{uuid.uuid4().hex}"
    get(server, path, cookie, {"X-Bench-Report": name, "X-Bench-SQL": "1"})
    statements = read_report(name)["statements"]
    grouped: dict[str, list[float]] = {}
    for statement in statements:
        grouped.setdefault(statement["template"], []).append(statement["ms"])
    repeated = {sql: ms for sql, ms in grouped.items() if len(ms) > 1}
    selects = [s for s in statements if s["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
    slowest = sorted(selects, key=lambda s: s["ms"], reverse=True)[: args.explain_top]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", label_of(page)).strip("-")
    folder = OUT / "explain"
    folder.mkdir(parents=True, exist_ok=True)
    lines_out = [f"# {label_of(page)}: {path}", f"# {len(statements)} statements:"]
    lines_out += [f"#   {s['ms']:8.1f} ms  {_short(s['sql'])}" for s in statements] + [""]
    print(f"\n== {label_of(page)}: {len(statements)} statements", end="")
    print(f", {len(repeated)} repeated" if repeated else "")
    for statement in statements:
        print(f"   {statement['ms']:>8.1f} ms  {_short(statement['sql'])}")
    for sql, ms in sorted(repeated.items(), key=lambda item: -sum(item[1])):
        print(f"   repeated x{len(ms)} ({sum(ms):.1f} ms): {sql[:140]}")
    plans = []
    for statement in slowest:
        # EXPLAIN ANALYZE runs the statement: inside a transaction that is rolled back.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])
            plan = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True)
        plans.append({"ms": statement["ms"], "sql": statement["sql"], "plan": plan})
        print(f"\n-- {statement['ms']:.1f} ms in the request: {statement['sql'][:300]}")
        for line in plan[: args.plan_lines]:
            print("   " + line)
        if len(plan) > args.plan_lines:
            print(f"   ... {len(plan) - args.plan_lines} more lines in {folder / slug}.txt")
        lines_out += [f"-- {statement['ms']:.1f} ms", statement["sql"], "", *plan, ""]
    (folder / f"{slug}.txt").write_text("\n".join(lines_out))
    return {"label": label_of(page), "statements": len(statements), "plans": plans}


def _short(sql: str) -> str:
    """The statement with its column list elided, cut to one line."""
    text = " ".join(sql.split())
    columns = re.match(r"SELECT (.*?) FROM ", text)
    if columns and len(columns[1]) > 40:
        text = "SELECT … " + text[columns.end(1) + 1 :]
    return text if len(text) <= 150 else text[:147] + "..."


# --- Main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import connection

    OUT.mkdir(exist_ok=True)
    pages = selected_pages(args)
    signins = SignIns()
    results, explained = [], []
    try:
        with Server(args) as server:
            print(
                f"{connection.settings_dict['NAME']}: about {_count_claims(connection):,} claims;"
                f" {args.requests} requests per page after {args.warmup} warm-up."
            )
            print("Server time from Server-Timing; x = ratio to the trivial view.\n")
            print_header()
            cookies, measured = {}, []
            for page in pages:
                if page.role not in cookies:
                    cookies[page.role] = signins.cookie(page.role)
                path = _fill(page.path, signins.user(page.role))
                figures = measure(server, page, path, cookies[page.role], args)
                results.append(figures.summary())
                print_row(results[-1])
                if figures.app_ms:
                    measured.append((page, path))
            for page, path in measured if args.explain else []:
                explained.append(explain(server, page, path, cookies[page.role], args))
    finally:
        signins.close()
    trivial = [row["trivial_p50_ms"] for row in results if "trivial_p50_ms" in row]
    if trivial:
        print(f"\ntrivial view: median of the per-page p50s {statistics.median(trivial):.2f} ms")
    if args.json:
        args.json.write_text(json.dumps({"pages": results, "explain": explained}, indent=2))


def _count_claims(connection) -> int:
    from claims.models import Claim

    # The planner's estimate: a count(*) of a million rows would take a while.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [Claim._meta.db_table],
        )
        return cursor.fetchone()[0]


def _fill(path: str, user) -> str:
    from claims_portal.roles import roles_for

    # The selectors take the asking person's roles, as the views pass them.
    roles = roles_for(user)
    names = set(re.findall(r"{(\w+)}", path))
    return path.format(**{name: PLACEHOLDERS[name](roles) for name in names})


if __name__ == "__main__":
    main()
