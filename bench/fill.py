"""Fill a PostgreSQL database with a year of claims at scale, for the page benchmarks.

    .venv/bin/python bench/fill.py                 # 1,000,000 claims into claims_bench
    .venv/bin/python bench/fill.py --scale 0.01    # 10,000 claims, for a quick try

The database is dropped and created again (only one this script created: it carries a
comment saying so), migrated with `manage.py migrate`, and filled with set-based SQL run
by the server (`INSERT ... SELECT ... FROM generate_series(...)`), so nothing crosses the
wire row by row. Table and column names come from the models' `_meta`, and models are
found by class name wherever they live, so renames and moves between apps carry over.

What the rows look like follows what the code writes (claims.lifecycle, claims.events,
approvals.services, claims.notifications): the same statuses, event actions and roles,
reason codes and JSON shapes, reference numbers CLM-YYYY-NNNNNN per calendar year with
the ReferenceCounter rows to match. Random choices come from hashes of row numbers, so
the same arguments give the same data. Not everything holds together the way the life
cycle would make it: see `Known shortcuts` in bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import people  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/claims_bench"
# COMMENT ON DATABASE: the mark that lets a later run drop this database again.
MARKER = "claims portal benchmark data, made by bench/fill.py; safe to drop and fill again"

WORKLOADS = [
    ("exchange-online", "Exchange Online"),
    ("teams", "Microsoft Teams"),
    ("sharepoint-online", "SharePoint Online"),
    ("onedrive", "OneDrive for Business"),
    ("intune", "Microsoft Intune"),
    ("entra-id", "Microsoft Entra ID"),
    ("defender-endpoint", "Defender for Endpoint"),
    ("defender-office", "Defender for Office 365"),
    ("purview", "Microsoft Purview"),
    ("teams-rooms", "Teams Rooms"),
    ("windows-365", "Windows 365"),
    ("copilot", "Microsoft 365 Copilot"),
]

# status: (share of all claims, how far back it reaches in days or None for the whole
# year, bias towards recent: age = reach * u ** bias). Open claims are mostly recent.
STATUS_SHAPE = {
    "draft": (0.02, 90, 2),
    "awaiting_customer_approval": (0.01, 60, 2),
    "awaiting_partner": (0.06, 30, 2),
    "returned_to_customer": (0.02, 90, 2),
    "evaluating": (0.001, 0.003, 1),
    "in_review": (0.20, 60, 3),
    "approved": (0.52, None, 1),
    "partially_approved": (0.06, None, 1),
    "rejected": (0.059, None, 1),
    "withdrawn": (0.05, None, 1),
}
# Share of approved claims that went through the exception queue before approval.
APPROVED_AFTER_REVIEW = 0.15
# How often each rule is the reason a line goes to review (weights, rule code).
REASON_WEIGHTS = {
    "existing_claim": 35,
    "not_in_catalog": 25,
    "duplicate": 10,
    "public_sector": 10,
    "below_minimum": 8,
    "claim_limit": 3,
    "open_dispute": 5,
    "partner_inactive": 2,
    # The filler leaves Claim.custom_sow empty, so this rule never fails here.
    "custom_sow": 0,
}
CHANGE_REQUEST_SHARES = {
    "open": 0.2,
    "awaiting_response": 0.2,
    "in_review": 0.1,
    "granted": 0.2,
    "denied": 0.2,
    "withdrawn": 0.1,
}
REVIEWERS = 10


# --- Arguments --------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every size below")
    parser.add_argument("--claims", type=int, help="default 1,000,000 x scale")
    parser.add_argument("--partners", type=int, help="default 1,000 x scale (at least 2)")
    parser.add_argument("--customers", type=int, help="default 50,000 x scale")
    parser.add_argument(
        "--largest-partner", type=int, help="claims of partner 1; default 5.5%% of claims"
    )
    parser.add_argument(
        "--customer-skew",
        type=float,
        default=1.5,
        help="customer of a claim is C * u**skew: 1 is uniform; 1.5 gives customer 1 "
        "about 740 of 1M claims",
    )
    parser.add_argument(
        "--notification-days",
        type=float,
        default=30,
        help="write notifications for the events of the last N days only (0: none)",
    )
    parser.add_argument("--change-requests", type=int, help="default claims / 500")
    args = parser.parse_args(argv)
    scale = args.scale
    args.claims = args.claims or max(100, round(1_000_000 * scale))
    args.partners = args.partners or max(2, round(1_000 * scale))
    args.customers = args.customers or max(10, round(50_000 * scale))
    args.largest_partner = args.largest_partner or round(args.claims * 0.055)
    if args.change_requests is None:
        args.change_requests = args.claims // 500
    return args


def partner_counts(claims: int, partners: int, largest: int) -> list[int]:
    """Claims per partner, Zipf-like (rank ** -s) with s chosen so partner 1 has `largest`."""

    def weights(s: float) -> list[float]:
        return [rank**-s for rank in range(1, partners + 1)]

    def top_share(s: float) -> float:
        w = weights(s)
        return w[0] / sum(w)

    target = min(1.0, largest / claims)
    low, high = 0.0, 8.0
    if top_share(low) < target:
        for _ in range(60):
            mid = (low + high) / 2
            low, high = (mid, high) if top_share(mid) < target else (low, mid)
    w = weights(low)
    total = sum(w)
    exact = [claims * x / total for x in w]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(partners), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: claims - sum(counts)]:
        counts[i] += 1
    return counts


# --- Names from the models ----------------------------------------------------------


def model(name: str):
    """The model class called `name`, in whichever app it lives now."""
    from django.apps import apps

    found = [m for m in apps.get_models() if m.__name__ == name]
    if len(found) != 1:
        raise LookupError(f"expected one model named {name}, found {found}")
    return found[0]


class Table:
    """`{t}` is the quoted table, `{t.field}` the quoted column of that field, in format()."""

    def __init__(self, model_class) -> None:
        self.model = model_class

    def __str__(self) -> str:
        from django.db import connection

        return connection.ops.quote_name(self.model._meta.db_table)

    def __getattr__(self, name: str) -> str:
        from django.db import connection

        meta = self.model._meta
        field = meta.pk if name == "pk" else meta.get_field(name)
        return connection.ops.quote_name(field.column)


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def rnd(key: str, salt: int) -> str:
    """A number in [0, 1) drawn from a hash of `key`: the same key gives the same number."""
    return (
        f"((hashint8extended(({key})::bigint, {salt}) & 9007199254740991)::float8"
        " / 9007199254740992.0)"
    )


def pad(expr: str, width: int) -> str:
    # lpad() would cut longer numbers short.
    return f"lpad(({expr})::text, greatest({width}, length(({expr})::text)), '0')"


def add_business_days(ts: str, days: int) -> str:
    """SQL for claims_portal.business_days.add_business_days (Monday to Friday, UTC)."""
    dow = f"extract(isodow FROM ({ts}) AT TIME ZONE 'UTC')::int"
    weekday = f"least({dow}, 5)"
    return (
        f"(({ts}) + make_interval(days => {days} + 2 * (({weekday} - 1 + {days}) / 5)"
        f" - ({dow} - {weekday})))"
    )


def case(expr: str, mapping: dict[str, str], default: str = "NULL") -> str:
    whens = " ".join(f"WHEN {lit(k)} THEN {v}" for k, v in mapping.items())
    return f"(CASE {expr} {whens} ELSE {default} END)"


# --- Running SQL with timings ------------------------------------------------------


class Steps:
    def __init__(self) -> None:
        self.began = time.perf_counter()

    @contextmanager
    def step(self, name: str):
        print(f"  {name} ...", end="", flush=True)
        began = time.perf_counter()
        yield
        seconds = time.perf_counter() - began
        print(f" {seconds:.1f} s", flush=True)

    def total(self) -> float:
        return time.perf_counter() - self.began


def execute(sql: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.rowcount


# --- Database set-up -----------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
        ident = sql.Identifier(name)
        if row is not None:
            if row[0] != MARKER:
                raise SystemExit(
                    f"Database {name} exists and was not made by bench/fill.py; "
                    "not dropping it. Pick another --database-url or drop it yourself."
                )
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(ident, sql.Literal(MARKER)))


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "claims_portal.settings"}
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


class LoadWithoutIndexes:
    """Drops the secondary indexes, unique and foreign-key constraints of the big tables
    and puts them back afterwards: building an index once is far faster than keeping it
    up to date through millions of inserts, and re-adding each foreign key checks every
    row the filler wrote."""

    def __init__(self, tables: list[str]) -> None:
        self.tables = tables
        self.constraints: list[tuple[str, str, str]] = []
        self.indexes: list[str] = []

    def drop(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
                    [table],
                )
                for name, definition in cursor.fetchall():
                    self.constraints.append((table, name, definition))
                cursor.execute(
                    "SELECT pg_get_indexdef(i.indexrelid), i.indexrelid::regclass::text"
                    " FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
                    " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                    " WHERE c.conindid = i.indexrelid)",
                    [table],
                )
                for definition, name in cursor.fetchall():
                    self.indexes.append(definition)
                    cursor.execute(f"DROP INDEX {name}")
            for table, name, _definition in self.constraints:
                quote = connection.ops.quote_name
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")

    def restore(self) -> None:
        from django.db import connection

        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for definition in self.indexes:
                cursor.execute(definition)
            # Unique constraints first: nothing here references them, but keep the order
            # Django made them in.
            for table, name, definition in sorted(
                self.constraints, key=lambda c: "FOREIGN" in c[2]
            ):
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                )


# --- The filler --------------------------------------------------------------------------


class Filler:
    def __init__(self, args: argparse.Namespace, steps: Steps) -> None:
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        self.args = args
        self.steps = steps
        self.now = timezone.now().replace(microsecond=0)
        self.elapsed_days = 330
        self.start = (self.now - datetime.timedelta(days=self.elapsed_days)).date()
        self.end = self.start + datetime.timedelta(days=364)
        user_model = get_user_model()
        self.models = {
            name: model(name)
            for name in [
                "Program",
                "Workload",
                "Partner",
                "PartnerMembership",
                "SowCatalog",
                "SowCatalogItem",
                "Customer",
                "CustomerMembership",
                "Association",
                "Claim",
                "ClaimLine",
                "Event",
                "Notification",
                "ReferenceCounter",
                "Decision",
                "ReviewTask",
                "ChangePolicy",
                "ChangeRequest",
                "EmailAddress",
            ]
        }
        self.models["User"] = user_model
        self.names = {name.lower(): Table(m) for name, m in self.models.items()}
        self.check_choices()
        C, P = args.customers, args.partners
        # User ids: customer i's approver is user i, partner p's member is user C + p.
        self.k = {
            "N": args.claims,
            "C": C,
            "P": P,
            "R": REVIEWERS,
            "U_PARTNER": C,
            "U_REVIEWER": C + P,
            "U_LEAD": C + P + REVIEWERS + 1,
            "U_PARTNER_ADMIN": C + P + REVIEWERS + 2,
            "now": f"'{self.now.isoformat()}'::timestamptz",
            "start": f"'{self.start.isoformat()}'::date",
        }

    def check_choices(self) -> None:
        """The SQL below names statuses literally: fail now if the models renamed one."""
        m = self.models
        expected = {
            "claim statuses": (set(STATUS_SHAPE), set(m["Claim"].Status.values)),
            "line statuses": (
                {"pending", "approved", "in_review", "rejected"},
                set(m["ClaimLine"].Status.values),
            ),
            "change request statuses": (
                set(CHANGE_REQUEST_SHARES),
                set(m["ChangeRequest"].Status.values),
            ),
            "rule codes": (set(REASON_WEIGHTS), set(self.rule_codes())),
        }
        for what, (ours, theirs) in expected.items():
            if ours != theirs:
                raise SystemExit(f"bench/fill.py is out of date: {what} {ours} vs {theirs}")

    def sql(self, template: str) -> int:
        return execute(template.format(**self.names, **self.k))

    # The steps, in order.

    def run(self) -> None:
        steps = self.steps
        with steps.step("session settings"):
            execute("SET work_mem = '256MB'")
            execute("SET synchronous_commit = off")
        big = [
            self.models[name]._meta.db_table
            for name in [
                "Claim",
                "ClaimLine",
                "Event",
                "Decision",
                "ReviewTask",
                "Association",
                "Notification",
            ]
        ]
        loader = LoadWithoutIndexes(big)
        with steps.step("drop indexes and constraints of the big tables"):
            loader.drop()
        with steps.step("program, workloads, change policy, groups"):
            self.reference_data()
        with steps.step("partners, SOW catalogs"):
            self.partners()
        with steps.step("customers"):
            self.customers()
        with steps.step("users, email addresses, memberships"):
            self.users()
        with steps.step("plan claims (staging table)"):
            self.plan_claims()
        with steps.step("claims"):
            self.claims()
        with steps.step("plan lines (staging table)"):
            self.plan_lines()
        with steps.step("claim lines"):
            self.lines()
        with steps.step("decisions"):
            self.decisions()
        with steps.step("review tasks"):
            self.review_tasks()
        with steps.step("events"):
            self.events()
        with steps.step("associations"):
            self.associations()
        with steps.step("change requests"):
            self.change_requests()
        with steps.step("notifications"):
            self.notifications()
        with steps.step("drop staging tables"):
            execute("DROP TABLE bench_plan, bench_line_plan, bench_workloads, bench_paths")
        with steps.step("reset sequences"):
            self.reset_sequences()
        with steps.step("indexes and constraints (validates foreign keys)"):
            loader.restore()

    def reference_data(self) -> None:
        from django.contrib.auth.models import Group

        from claims_portal.roles import CLAIMS_LEAD_GROUP, CLAIMS_REVIEWER_GROUP

        m = self.models
        program = m["Program"].objects.create(
            name=f"Deployment Services FY{(self.end.year) % 100:02d} (bench)",
            slug="bench-deployment-services",
            start_date=self.start,
            end_date=self.end,
            min_seats=150,
        )
        self.program_id = program.pk
        self.k["program_id"] = program.pk
        self.k["review_days"] = program.review_days
        self.k["confirm_days"] = program.partner_confirm_days
        self.k["correction_days"] = program.correction_days
        workloads = m["Workload"].objects.bulk_create(
            m["Workload"](code=code, name=name) for code, name in WORKLOADS
        )
        program.workloads.set(workloads)
        m["ChangePolicy"].objects.create(program=program)
        for name in (CLAIMS_REVIEWER_GROUP, CLAIMS_LEAD_GROUP):
            Group.objects.create(name=name)
        self.k["W"] = len(workloads)
        self.sql(
            """
            CREATE UNLOGGED TABLE bench_workloads AS
            SELECT (row_number() OVER (ORDER BY {workload.pk}) - 1)::int AS idx,
                   {workload.pk} AS id, {workload.code} AS code, {workload.name} AS name
            FROM {workload}
            """
        )

    def partners(self) -> None:
        number = pad("g", 4)
        self.sql(
            f"""
            INSERT INTO {{partner}} ({{partner.pk}}, {{partner.name}}, {{partner.slug}},
                {{partner.code}}, {{partner.partner_id}}, {{partner.logo}},
                {{partner.contact_email}}, {{partner.is_active}},
                {{partner.public_sector_authorised}}, {{partner.created_at}})
            SELECT g, 'Bench Partner ' || {number}, 'partner-' || {number},
                   'BP' || {pad("g", 6)}, 'P-' || {pad("g", 6)}, '',
                   'claims@partner-' || {number} || '.bench.example',
                   g = 1 OR {rnd("g", 1)} >= 0.01,
                   g = 1 OR {rnd("g", 2)} < 0.3,
                   {{start}} - interval '400 days' + {rnd("g", 3)} * interval '300 days'
            FROM generate_series(1, {{P}}) g
            """
        )
        self.sql(
            """
            INSERT INTO {sowcatalog} ({sowcatalog.pk}, {sowcatalog.partner},
                {sowcatalog.program}, {sowcatalog.approved_on}, {sowcatalog.notes})
            SELECT g, g, {program_id}, {start}, '' FROM generate_series(1, {P}) g
            """
        )
        # Most workloads: each pair is left out of the catalog with probability 0.15.
        self.sql(
            f"""
            INSERT INTO {{sowcatalogitem}} ({{sowcatalogitem.catalog}},
                {{sowcatalogitem.workload}}, {{sowcatalogitem.max_seats}},
                {{sowcatalogitem.valid_from}}, {{sowcatalogitem.valid_until}})
            SELECT g, w.id, NULL, NULL, NULL
            FROM generate_series(1, {{P}}) g CROSS JOIN bench_workloads w
            WHERE {rnd("g * 1000 + w.idx", 4)} >= 0.15
            ORDER BY g, w.id
            """
        )

    def customers(self) -> None:
        from django.db.models import TextChoices

        segment: type[TextChoices] = self.models["Customer"].Segment
        number = pad("g", 6)
        r = rnd("g", 5)
        self.sql(
            f"""
            INSERT INTO {{customer}} ({{customer.pk}}, {{customer.name}}, {{customer.tenant_id}},
                {{customer.verified_domains}}, {{customer.segment}}, {{customer.seats}},
                {{customer.created_at}})
            SELECT g, 'Bench Customer ' || {number},
                   'customer-' || {number} || '.onmicrosoft.com',
                   CASE WHEN {rnd("g", 6)} < 0.05 THEN ''
                        ELSE 'customer-' || {number} || '.bench.example' END,
                   CASE WHEN {r} < 0.80 THEN {lit(segment.COMMERCIAL)}
                        WHEN {r} < 0.92 THEN {lit(segment.PUBLIC_SECTOR)}
                        ELSE {lit(segment.EDUCATION)} END,
                   CASE WHEN g = 1 THEN 25000
                        ELSE round(exp(ln(20) + {rnd("g", 7)} * (ln(100000) - ln(20))))::int END,
                   {{start}} - interval '700 days' + {rnd("g", 8)} * interval '1000 days'
            FROM generate_series(1, {{C}}) g
            """
        )

    def users(self) -> None:
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group

        from claims_portal.roles import CLAIMS_LEAD_GROUP, CLAIMS_REVIEWER_GROUP

        # One hash for everyone: every bench user signs in with people.PASSWORD.
        password = lit(make_password(people.PASSWORD))
        self.sql(
            f"""
            INSERT INTO {{user}} ({{user.pk}}, {{user.password}}, {{user.last_login}},
                {{user.is_superuser}}, {{user.username}}, {{user.first_name}},
                {{user.last_name}}, {{user.email}}, {{user.is_staff}}, {{user.is_active}},
                {{user.date_joined}})
            SELECT id, {password}, NULL, false, email, '', '', email, false, true,
                   {{start}} - interval '200 days' + {rnd("id", 9)} * interval '400 days'
            FROM (
                SELECT g AS id, 'approver@customer-' || {pad("g", 6)} || '.bench.example' AS email
                FROM generate_series(1, {{C}}) g
                UNION ALL
                SELECT {{U_PARTNER}} + g, 'member@partner-' || {pad("g", 4)} || '.bench.example'
                FROM generate_series(1, {{P}}) g
                UNION ALL
                SELECT {{U_REVIEWER}} + g, 'reviewer' || {pad("g", 2)} || '@vendor.bench.example'
                FROM generate_series(1, {{R}}) g
                UNION ALL SELECT {{U_LEAD}}, {lit(people.LEAD)}
                UNION ALL SELECT {{U_PARTNER_ADMIN}}, {lit(people.PARTNER_ADMIN)}
            ) u
            """
        )
        self.sql(
            """
            INSERT INTO {emailaddress} ({emailaddress.user}, {emailaddress.email},
                {emailaddress.verified}, {emailaddress.primary})
            SELECT {user.pk}, {user.email}, true, true FROM {user} ORDER BY {user.pk}
            """
        )
        reviewers = Group.objects.get(name=CLAIMS_REVIEWER_GROUP)
        lead = Group.objects.get(name=CLAIMS_LEAD_GROUP)
        through = self.models["User"].groups.through
        user_field = self.models["User"].groups.field.m2m_field_name()
        group_field = self.models["User"].groups.field.m2m_reverse_field_name()
        through.objects.bulk_create(
            [
                through(
                    **{f"{user_field}_id": self.k["U_REVIEWER"] + n, f"{group_field}": reviewers}
                )
                for n in range(1, REVIEWERS + 1)
            ]
            + [through(**{f"{user_field}_id": self.k["U_LEAD"], f"{group_field}": lead})]
        )
        roles = self.models["CustomerMembership"].Role
        self.sql(
            f"""
            INSERT INTO {{customermembership}} ({{customermembership.user}},
                {{customermembership.customer}}, {{customermembership.role}},
                {{customermembership.created_at}})
            SELECT g, g, {lit(roles.APPROVER)}, {{start}} - interval '100 days'
            FROM generate_series(1, {{C}}) g
            """
        )
        roles = self.models["PartnerMembership"].Role
        self.sql(
            f"""
            INSERT INTO {{partnermembership}} ({{partnermembership.user}},
                {{partnermembership.partner}}, {{partnermembership.role}},
                {{partnermembership.created_at}})
            SELECT {{U_PARTNER}} + g, g, {lit(roles.MEMBER)}, {{start}} - interval '100 days'
            FROM generate_series(1, {{P}}) g
            UNION ALL
            SELECT {{U_PARTNER_ADMIN}}, 1, {lit(roles.ADMIN)}, {{start}} - interval '100 days'
            """
        )
        self.sql("UPDATE {user} SET {user.last_login} = {now} WHERE {user.pk} > {U_REVIEWER}")

    def plan_claims(self) -> None:
        """One row per claim with every choice made: partner, customer, status, times."""
        args = self.args
        counts = partner_counts(args.claims, args.partners, args.largest_partner)
        status_case, bound = [], 0.0
        for status, (share, _reach, _bias) in STATUS_SHAPE.items():
            bound += share
            status_case.append(f"WHEN r_status < {bound!r} THEN {lit(status)}")
        self.k["largest"] = counts[0]
        ages = {}
        for status, (_share, reach, bias) in STATUS_SHAPE.items():
            if reach is None:
                ages[status] = f"(2 + ({self.elapsed_days} - 2) * r_age)"
            else:
                ages[status] = f"least({self.elapsed_days}, {reach} * power(r_age, {bias}))"
        steps = sorted(s for s in range(1, len(WORKLOADS)) if math.gcd(s, len(WORKLOADS)) == 1)

        def gap(prev: str, typical_days: float, salt: int) -> str:
            # The next step follows after a typical delay, but never past a quarter of the
            # time left until now, so every step of every claim lies in the past.
            return (
                f"({prev} + least({typical_days} * {rnd('k', salt)} * interval '1 day',"
                f" ({{now}} - {prev}) * 0.25))"
            )

        self.sql(
            f"""
            CREATE UNLOGGED TABLE bench_plan AS
            WITH slots AS (
                SELECT c.partner_id::int AS partner_id,
                       row_number() OVER (ORDER BY c.partner_id, g) AS k
                FROM unnest(ARRAY[{",".join(map(str, counts))}]::int[])
                     WITH ORDINALITY AS c(n, partner_id)
                CROSS JOIN LATERAL generate_series(1, c.n) AS g
            ),
            drawn AS (
                SELECT k, partner_id,
                       least({{C}}, 1 + floor({{C}} * power({rnd("k", 11)},
                             {args.customer_skew})))::int AS customer_id,
                       {rnd("k", 12)} AS r_status, {rnd("k", 13)} AS r_age,
                       {rnd("k", 14)} AS r_lines, {rnd("k", 15)} AS r_contact,
                       {rnd("k", 16)} AS r_review,
                       floor({rnd("k", 17)} * {{W}})::int AS wstart,
                       (ARRAY[{",".join(map(str, steps))}])[1 + floor({rnd("k", 18)}
                             * {len(steps)})::int] AS wstep
                FROM slots
            ),
            shaped AS (
                SELECT d.*, (CASE {" ".join(status_case)} ELSE 'withdrawn' END) AS status
                FROM drawn d
            ),
            aged AS (
                SELECT s.*,
                       {{now}} - {case("s.status", ages, "0")} * interval '1 day' AS created_at,
                       least({{W}}, CASE WHEN s.status = 'partially_approved'
                             THEN 2 + floor(s.r_lines * 4) ELSE 1 + floor(s.r_lines * 5)
                             END)::int AS nlines,
                       s.status IN ('partially_approved', 'rejected')
                           OR (s.status = 'approved' AND s.r_review < {APPROVED_AFTER_REVIEW})
                           AS via_review
                FROM shaped s
            ),
            timed AS (
                SELECT a.*, t1.routed_at, t1.signed_at, t2.partner_acted_at
                FROM aged a
                CROSS JOIN LATERAL (SELECT
                    CASE WHEN a.status = 'awaiting_customer_approval'
                         THEN {gap("a.created_at", 2, 21)} END AS routed_at,
                    CASE WHEN a.status NOT IN ('draft', 'awaiting_customer_approval')
                         THEN {gap("a.created_at", 3, 22)} END AS signed_at) t1
                CROSS JOIN LATERAL (SELECT
                    CASE WHEN a.status NOT IN ('draft', 'awaiting_customer_approval',
                                               'awaiting_partner')
                         THEN {gap("t1.signed_at", 4, 23)} END AS partner_acted_at) t2
            ),
            evaluated AS (
                SELECT t.*,
                       CASE WHEN t.status IN ('in_review', 'approved', 'partially_approved',
                                              'rejected')
                            THEN least({{now}}, t.partner_acted_at
                                 + (1 + 90 * {rnd("k", 24)}) * interval '1 second')
                       END AS evaluated_at
                FROM timed t
            )
            SELECT row_number() OVER (ORDER BY e.created_at, e.k) AS claim_id, e.*,
                   CASE WHEN e.via_review THEN {gap("e.evaluated_at", 6, 25)}
                        WHEN e.status = 'approved' THEN e.evaluated_at END AS decided_at,
                   extract(year FROM e.created_at AT TIME ZONE 'UTC')::int AS ref_year
            FROM evaluated e
            """
        )
        execute("CREATE UNIQUE INDEX ON bench_plan (claim_id)")
        execute("ANALYZE bench_plan")

    # Survey contacts: one for the whole claim (85%), or one per service.

    def survey_contact(self, p: str) -> tuple[str, str, str]:
        """SQL for the claim's survey contact mode, email and name."""
        modes = self.models["Claim"].SurveyContactMode
        one = f"{p}.r_contact < 0.85"
        email = f"'survey@customer-' || {pad(p + '.customer_id', 6)} || '.bench.example'"
        return (
            f"CASE WHEN {one} THEN {lit(modes.ONE_FOR_ALL)} ELSE {lit(modes.PER_SERVICE)} END",
            f"CASE WHEN {one} THEN {email} ELSE '' END",
            f"CASE WHEN {one} THEN 'Survey Contact' ELSE '' END",
        )

    def line_contact(self) -> tuple[str, str]:
        """SQL for a line's survey contact email and name (bench_line_plan l)."""
        per_service = "l.r_contact >= 0.85"
        email = f"'contact' || l.j || '@customer-' || {pad('l.customer_id', 6)} || '.bench.example'"
        return (
            f"CASE WHEN {per_service} THEN {email} ELSE '' END",
            f"CASE WHEN {per_service} THEN 'Contact ' || l.j ELSE '' END",
        )

    def claims(self) -> None:
        S = self.models["Claim"].Status
        mode, survey, name = self.survey_contact("p")
        due = {
            S.AWAITING_PARTNER: add_business_days("p.signed_at", self.k["confirm_days"]),
            S.RETURNED_TO_CUSTOMER: add_business_days(
                "p.partner_acted_at", self.k["correction_days"]
            ),
            S.IN_REVIEW: add_business_days("p.evaluated_at", self.k["review_days"]),
        }
        number = "row_number() OVER (PARTITION BY p.ref_year ORDER BY p.claim_id)"
        self.sql(
            f"""
            INSERT INTO {{claim}} ({{claim.pk}}, {{claim.reference}}, {{claim.partner}},
                {{claim.customer}}, {{claim.program}}, {{claim.status}},
                {{claim.survey_contact_mode}}, {{claim.survey_contact_name}},
                {{claim.survey_contact_email}}, {{claim.custom_sow}}, {{claim.created_by}},
                {{claim.signed_by}}, {{claim.signed_name}}, {{claim.signed_at}},
                {{claim.submitted_at}}, {{claim.decided_at}}, {{claim.due_at}},
                {{claim.created_at}}, {{claim.updated_at}})
            SELECT p.claim_id, 'CLM-' || p.ref_year || '-' || {pad(number, 6)},
                   p.partner_id, p.customer_id, {{program_id}}, p.status,
                   {mode}, {name}, {survey},
                   '', p.customer_id, CASE WHEN p.signed_at IS NOT NULL THEN p.customer_id END,
                   CASE WHEN p.signed_at IS NOT NULL
                        THEN 'Approver ' || {pad("p.customer_id", 6)} ELSE '' END,
                   p.signed_at, p.signed_at, p.decided_at,
                   {case("p.status", due)},
                   p.created_at,
                   greatest(p.created_at, p.routed_at, p.signed_at, p.partner_acted_at,
                            p.evaluated_at, p.decided_at)
            FROM bench_plan p
            ORDER BY p.claim_id
            """
        )
        self.sql(
            """
            INSERT INTO {referencecounter} ({referencecounter.pk}, {referencecounter.last})
            SELECT ref_year, count(*) FROM bench_plan GROUP BY ref_year
            """
        )

    def plan_lines(self) -> None:
        """One row per claim line: workload, whether the rules passed it, why not, its status."""
        rules = self.rule_codes()
        picks, bound, total = [], 0, sum(REASON_WEIGHTS.values())
        for code, weight in REASON_WEIGHTS.items():
            bound += weight
            picks.append(f"WHEN {{r}} < {bound / total!r} THEN {rules.index(code) + 1}")
        pick = "(CASE " + " ".join(picks) + f" ELSE {rules.index('existing_claim') + 1} END)"
        lk = "(p.k * 16 + j)"
        self.sql(
            f"""
            CREATE UNLOGGED TABLE bench_line_plan AS
            SELECT row_number() OVER (ORDER BY x.claim_id, x.j) AS line_id, x.*,
                   CASE WHEN x.passed IS NULL THEN 'pending'
                        WHEN x.passed OR x.claim_status = 'approved' THEN 'approved'
                        WHEN x.claim_status = 'in_review' THEN 'in_review'
                        ELSE 'rejected' END AS status,
                   CASE WHEN x.passed = false THEN {pick.format(r=rnd(lk.replace("p.", "x."), 32))}
                        END AS code1,
                   CASE WHEN x.passed = false AND {rnd(lk.replace("p.", "x."), 33)} < 0.2
                        THEN {pick.format(r=rnd(lk.replace("p.", "x."), 34))} END AS code2
            FROM (
                SELECT p.claim_id, p.k, j, p.partner_id, p.customer_id,
                       p.status AS claim_status, p.via_review, p.evaluated_at, p.decided_at,
                       p.r_contact, w.id AS workload_id, w.code AS workload_code,
                       w.name AS workload_name,
                       CASE
                           WHEN p.status NOT IN ('in_review', 'approved', 'partially_approved',
                                                 'rejected') THEN NULL
                           WHEN p.status = 'approved' AND NOT p.via_review THEN true
                           WHEN p.status = 'rejected' OR j = 0 THEN false
                           WHEN p.status = 'partially_approved' AND j = 1 THEN true
                           ELSE {rnd(lk, 31)} < 0.6
                       END AS passed,
                       (p.created_at AT TIME ZONE 'UTC')::date
                           + (14 + floor({rnd(lk, 35)} * 46))::int AS target_start,
                       (30 + floor({rnd(lk, 36)} * 335))::int AS target_days,
                       (50 + floor(power({rnd(lk, 37)}, 2) * 4950))::int AS seats
                FROM bench_plan p
                CROSS JOIN LATERAL generate_series(0, p.nlines - 1) AS j
                JOIN bench_workloads w ON w.idx = mod(p.wstart + j * p.wstep, {{W}})
            ) x
            """
        )
        # code2 is a second reason only when it differs from the first.
        execute("UPDATE bench_line_plan SET code2 = NULL WHERE code2 = code1")
        execute("CREATE INDEX ON bench_line_plan (claim_id)")
        execute("ANALYZE bench_line_plan")

    def lines(self) -> None:
        contact, name = self.line_contact()
        self.sql(
            f"""
            INSERT INTO {{claimline}} ({{claimline.pk}}, {{claimline.claim}},
                {{claimline.workload}}, {{claimline.target_start}}, {{claimline.target_end}},
                {{claimline.seats}}, {{claimline.survey_contact_name}},
                {{claimline.survey_contact_email}}, {{claimline.status}})
            SELECT l.line_id, l.claim_id, l.workload_id, l.target_start,
                   l.target_start + l.target_days, l.seats,
                   {name}, {contact}, l.status
            FROM bench_line_plan l
            ORDER BY l.line_id
            """
        )

    # Decisions and review reasons.

    def rule_codes(self) -> list[str]:
        from approvals.rules import REASON_LABELS, RULES

        codes = [rule.__name__ for rule in RULES]
        if set(codes) != set(REASON_LABELS):
            codes = list(REASON_LABELS)
        return codes

    def detail_text(self, code: str) -> str:
        """SQL for the detail the rule `code` gives when it fails (bench_line_plan l)."""
        other_partner = pad(
            f"1 + mod(l.partner_id + floor({rnd('l.line_id', 41)} * ({{P}} - 1))::int, {{P}})", 4
        )
        texts = {
            "partner_inactive": "'The partner is suspended.'",
            "not_in_catalog": "l.workload_name || ' is not in the partner''s SOW catalog.'",
            "custom_sow": "'The claim carries a custom SOW.'",
            "existing_claim": (
                f"'Bench Partner ' || {other_partner} || ' is partner of record since '"
                " || to_char({start}, 'YYYY-MM-DD') || '.'"
            ),
            "duplicate": "'The partner already holds this workload.'",
            "claim_limit": "'The partner has reached the program''s limit of 500.'",
            "public_sector": "'The partner is not authorised for public-sector customers.'",
            "below_minimum": (
                "'The customer has ' || (10 + mod(l.line_id, 140)) || ' seats; the minimum is 150.'"
            ),
            "open_dispute": "'A dispute is open on this workload.'",
        }
        return texts.get(code, lit(code))

    def detail(self, code_index: str) -> str:
        """SQL for the detail of the failed rule at this (1-based) index of rule_codes()."""
        whens = " ".join(
            f"WHEN {i} THEN {self.detail_text(code)}"
            for i, code in enumerate(self.rule_codes(), start=1)
        )
        return f"(CASE {code_index} {whens} END)"

    def failed_codes(self) -> str:
        rules = "ARRAY[" + ", ".join(lit(c) for c in self.rule_codes()) + "]"
        return (
            f"CASE WHEN l.code2 IS NULL THEN jsonb_build_array(({rules})[l.code1])"
            f" ELSE jsonb_build_array(({rules})[least(l.code1, l.code2)],"
            f" ({rules})[greatest(l.code1, l.code2)]) END"
        )

    def failed_details(self) -> str:
        first = self.detail("least(l.code1, coalesce(l.code2, l.code1))")
        second = self.detail("greatest(l.code1, l.code2)")
        return (
            f"CASE WHEN l.code2 IS NULL THEN jsonb_build_array({first})"
            f" ELSE jsonb_build_array({first}, {second}) END"
        )

    def decisions(self) -> None:
        results = []
        for i, code in enumerate(self.rule_codes(), start=1):
            failed = f"coalesce(l.code1 = {i} OR l.code2 = {i}, false)"
            results.append(
                f"jsonb_build_object('rule', {lit(code)}, 'passed', NOT {failed},"
                f" 'detail', CASE WHEN {failed} THEN {self.detail_text(code)} ELSE '' END)"
            )
        self.sql(
            f"""
            INSERT INTO {{decision}} ({{decision.line}}, {{decision.passed}},
                {{decision.reason_codes}}, {{decision.results}}, {{decision.created_at}})
            SELECT l.line_id, l.passed,
                   CASE WHEN l.passed THEN jsonb_build_array() ELSE {self.failed_codes()} END,
                   jsonb_build_array({", ".join(results)}),
                   l.evaluated_at
            FROM bench_line_plan l
            WHERE l.passed IS NOT NULL
            ORDER BY l.evaluated_at, l.line_id
            """
        )

    def review_tasks(self) -> None:
        state = self.models["ReviewTask"].State
        reviewer = "{U_REVIEWER} + 1 + mod(p.k, {R})"
        self.sql(
            f"""
            INSERT INTO {{reviewtask}} ({{reviewtask.claim}}, {{reviewtask.customer}},
                {{reviewtask.partner}}, {{reviewtask.program}}, {{reviewtask.reasons}},
                {{reviewtask.assignee}}, {{reviewtask.state}}, {{reviewtask.due_at}},
                {{reviewtask.created_at}}, {{reviewtask.closed_at}})
            SELECT p.claim_id, p.customer_id, p.partner_id, {{program_id}}, r.reasons,
                   CASE WHEN p.status <> 'in_review' OR {rnd("p.k", 51)} < 0.3
                        THEN {reviewer} END,
                   CASE WHEN p.status = 'in_review' THEN {lit(state.OPEN)}
                        ELSE {lit(state.DONE)} END,
                   {add_business_days("p.evaluated_at", self.k["review_days"])},
                   p.evaluated_at,
                   CASE WHEN p.status <> 'in_review' THEN p.decided_at END
            FROM bench_plan p
            JOIN (
                SELECT l.claim_id,
                       jsonb_agg(jsonb_build_object('line', l.line_id,
                                 'workload', l.workload_name, 'codes', {self.failed_codes()},
                                 'details', {self.failed_details()}) ORDER BY l.j) AS reasons
                FROM bench_line_plan l
                WHERE l.passed = false
                GROUP BY l.claim_id
            ) r ON r.claim_id = p.claim_id
            WHERE p.status = 'in_review' OR p.via_review
            ORDER BY p.evaluated_at, p.claim_id
            """
        )

    # The chain of custody.

    def paths(self) -> list[tuple[str, bool, int, str, str, str]]:
        """Each status's way through the life cycle: (status, via_review, seq, action, from, to)."""
        from claims.lifecycle import TRANSITIONS

        S = self.models["Claim"].Status
        to = {
            "created": S.DRAFT,
            "route": S.AWAITING_CUSTOMER_APPROVAL,
            "sign": S.AWAITING_PARTNER,
            "return": S.RETURNED_TO_CUSTOMER,
            "confirm": S.EVALUATING,
            "withdraw": S.WITHDRAWN,
        }
        evaluated = ["created", "sign", "confirm", "evaluate"]
        ways = {
            (S.DRAFT, False): ["created"],
            (S.AWAITING_CUSTOMER_APPROVAL, False): ["created", "route"],
            (S.AWAITING_PARTNER, False): ["created", "sign"],
            (S.RETURNED_TO_CUSTOMER, False): ["created", "sign", "return"],
            (S.EVALUATING, False): ["created", "sign", "confirm"],
            (S.IN_REVIEW, False): evaluated,
            (S.APPROVED, False): evaluated,
            (S.APPROVED, True): [*evaluated, "decide"],
            (S.PARTIALLY_APPROVED, True): [*evaluated, "decide"],
            (S.REJECTED, True): [*evaluated, "decide"],
            (S.WITHDRAWN, False): ["created", "sign", "withdraw"],
        }
        rows = []
        for (status, via_review), actions in ways.items():
            current = ""
            for seq, action in enumerate(actions, start=1):
                if action != "created" and action not in TRANSITIONS:
                    raise LookupError(f"claims.lifecycle has no action {action!r} any more")
                if action == "evaluate":
                    target = S.IN_REVIEW if via_review or status == S.IN_REVIEW else S.APPROVED
                elif action == "decide":
                    target = status
                else:
                    target = to[action]
                rows.append((str(status), via_review, seq, action, current, str(target)))
                current = str(target)
        return rows

    def events(self) -> None:
        from claims.events import GENESIS_HASH
        from claims.lifecycle import Role

        values = ", ".join(
            f"({lit(s)}, {str(v).lower()}, {seq}, {lit(a)}, {lit(f)}, {lit(t)})"
            for s, v, seq, a, f, t in self.paths()
        )
        execute(
            "CREATE UNLOGGED TABLE bench_paths (status text, via_review boolean, seq int,"
            " action text, from_status text, to_status text);"
            f" INSERT INTO bench_paths VALUES {values}"
        )
        customer, partner = "p.customer_id", "{U_PARTNER} + p.partner_id"
        reviewer = "{U_REVIEWER} + 1 + mod(p.k, {R})"
        actor = case(
            "w.action",
            {
                "created": customer,
                "route": customer,
                "sign": customer,
                "withdraw": customer,
                "return": partner,
                "confirm": partner,
                "decide": reviewer,
            },
        )
        role = case(
            "w.action",
            {
                "return": lit(Role.PARTNER),
                "confirm": lit(Role.PARTNER),
                "evaluate": lit(Role.SYSTEM),
                "decide": lit(Role.CLAIMS_TEAM),
            },
            lit(Role.APPROVER),
        )
        at = case(
            "w.action",
            {
                "created": "p.created_at",
                "route": "p.routed_at",
                "sign": "p.signed_at",
                "return": "p.partner_acted_at",
                "confirm": "p.partner_acted_at",
                "withdraw": "p.partner_acted_at",
                "evaluate": "p.evaluated_at",
                "decide": "p.decided_at",
            },
        )
        mode, survey, _name = self.survey_contact("p")
        changes = case(
            "w.action",
            {
                "created": (
                    f"jsonb_build_object('survey_contact_mode', {mode},"
                    f" 'survey_contact_email', {survey}, 'lines', j.lines)"
                ),
                "sign": (
                    "jsonb_build_object('signed_name', 'Approver ' || "
                    f"{pad('p.customer_id', 6)}, 'signed_by', su.email)"
                ),
                "evaluate": "jsonb_build_object('lines', j.evaluated)",
                "decide": "jsonb_build_object('lines', j.decided)",
            },
            "jsonb_build_object()",
        )
        comment = case(
            "w.action",
            {
                "return": "'Please correct the target dates and seats.'",
                "decide": (
                    "CASE WHEN p.status = 'rejected'"
                    " THEN 'Another partner holds these workloads.' ELSE '' END"
                ),
            },
            "''",
        )

        def chain_hash(seq: str) -> str:
            return (
                f"encode(sha256(convert_to('bench:' || p.claim_id || ':' || {seq}, 'UTF8')), 'hex')"
            )

        # The hashes are unique and each prev_hash is the hash of the event before, but
        # they are not the SHA-256 of the event's content that claims.events computes
        # (that needs Python's JSON encoding), so verify_claim_chain reports every
        # bench claim as altered. Pages only read them.
        self.sql(
            f"""
            INSERT INTO {{event}} ({{event.claim}}, {{event.seq}}, {{event.action}},
                {{event.actor}}, {{event.actor_label}}, {{event.actor_role}},
                {{event.from_status}}, {{event.to_status}}, {{event.changes}},
                {{event.comment}}, {{event.created_at}}, {{event.prev_hash}}, {{event.hash}})
            SELECT e.claim_id, e.seq, e.action, e.actor,
                   coalesce(u.email, 'Claims portal (automatic)'), e.role, e.from_status,
                   e.to_status, e.changes, e.comment, e.at, e.prev_hash, e.hash
            FROM (
                SELECT p.claim_id, w.seq, w.action, {actor} AS actor, {role} AS role,
                       w.from_status, w.to_status, {comment} AS comment,
                       date_trunc('second', {at}) AS at,
                       CASE WHEN w.seq = 1 THEN {lit(GENESIS_HASH)}
                            ELSE {chain_hash("w.seq - 1")} END AS prev_hash,
                       {chain_hash("w.seq")} AS hash,
                       {changes} AS changes
                FROM bench_plan p
                JOIN bench_paths w ON w.status = p.status AND w.via_review = p.via_review
                JOIN (
                    SELECT l.claim_id,
                           jsonb_agg(jsonb_build_object(
                               'workload', l.workload_id,
                               'target_start', to_char(l.target_start, 'YYYY-MM-DD'),
                               'target_end', to_char(l.target_start + l.target_days, 'YYYY-MM-DD'),
                               'seats', l.seats, 'survey_contact', {self.line_contact()[0]})
                               ORDER BY l.j) AS lines,
                           jsonb_object_agg(l.workload_code,
                               CASE WHEN l.passed THEN 'approved' ELSE 'in_review' END)
                               FILTER (WHERE l.passed IS NOT NULL) AS evaluated,
                           jsonb_object_agg(l.workload_code, l.status)
                               FILTER (WHERE l.passed = false) AS decided
                    FROM bench_line_plan l
                    GROUP BY l.claim_id
                ) j ON j.claim_id = p.claim_id
                JOIN {{user}} su ON su.{{user.pk}} = p.customer_id
            ) e
            LEFT JOIN {{user}} u ON u.{{user.pk}} = e.actor
            ORDER BY e.at, e.claim_id, e.seq
            """
        )

    def associations(self) -> None:
        # Every approved line made its partner partner of record (approvals.services.
        # grant_association); a later grant to another partner ended the earlier one, and a
        # grant to the partner already holding it changed nothing.
        self.sql(
            f"""
            INSERT INTO {{association}} ({{association.customer}}, {{association.workload}},
                {{association.partner}}, {{association.since}}, {{association.ended_on}},
                {{association.source_claim}}, {{association.active_usage_pct}},
                {{association.usage_growth_pct}}, {{association.usage_updated_at}})
            WITH granted AS (
                SELECT l.customer_id, l.workload_id, l.partner_id, l.claim_id, l.line_id,
                       CASE WHEN l.passed THEN l.evaluated_at ELSE l.decided_at END AS at
                FROM bench_line_plan l
                WHERE l.status = 'approved'
            ),
            changed AS (
                SELECT g.*, lag(g.partner_id) OVER (PARTITION BY g.customer_id, g.workload_id
                                                    ORDER BY g.at, g.line_id) AS before
                FROM granted g
            ),
            kept AS (
                SELECT c.*, (c.at AT TIME ZONE 'UTC')::date AS since,
                       lead((c.at AT TIME ZONE 'UTC')::date) OVER (
                           PARTITION BY c.customer_id, c.workload_id ORDER BY c.at, c.line_id
                       ) AS ended_on
                FROM changed c
                WHERE c.before IS DISTINCT FROM c.partner_id
            )
            SELECT k.customer_id, k.workload_id, k.partner_id, k.since, k.ended_on, k.claim_id,
                   round((100 * {rnd("k.line_id", 61)})::numeric, 2),
                   round((60 * {rnd("k.line_id", 62)} - 20)::numeric, 2),
                   {{now}} - {rnd("k.line_id", 63)} * interval '7 days'
            FROM kept k
            ORDER BY k.at, k.line_id
            """
        )

    def change_requests(self) -> None:
        if not self.args.change_requests:
            return
        status_case, bound = [], 0.0
        for status, share in CHANGE_REQUEST_SHARES.items():
            bound += share
            status_case.append(f"WHEN {rnd('a.id', 71)} < {bound!r} THEN {lit(status)}")
        status = "(CASE " + " ".join(status_case) + " ELSE 'withdrawn' END)"
        self.sql(
            f"""
            INSERT INTO {{changerequest}} ({{changerequest.customer}}, {{changerequest.workload}},
                {{changerequest.from_partner}}, {{changerequest.to_partner}},
                {{changerequest.claim}}, {{changerequest.eligible}},
                {{changerequest.eligibility}}, {{changerequest.reason}},
                {{changerequest.evidence}}, {{changerequest.status}},
                {{changerequest.waiver_signed_at}}, {{changerequest.losing_partner_response}},
                {{changerequest.respond_by}}, {{changerequest.created_by}},
                {{changerequest.created_at}})
            SELECT c.customer, c.workload, c.partner,
                   1 + mod(c.partner + floor({rnd("c.id", 72)} * ({{P}} - 1))::int, {{P}}),
                   NULL, c.usage < 20,
                   jsonb_build_object('active_usage_pct', c.usage, 'threshold_pct', 20,
                                      'no_growth_days', 90),
                   'The current partner has not delivered the service.', '', c.status,
                   CASE WHEN c.status = 'granted' AND c.usage >= 20
                        THEN c.at + interval '3 days' END,
                   CASE WHEN c.status IN ('in_review', 'denied')
                        THEN 'We are delivering; see the attached usage report.' ELSE '' END,
                   CASE WHEN c.status = 'awaiting_response'
                        THEN {add_business_days("c.at", 10)} END,
                   c.customer, c.at
            FROM (
                SELECT a.{{association.pk}} AS id, a.{{association.customer}} AS customer,
                       a.{{association.workload}} AS workload,
                       a.{{association.partner}} AS partner,
                       coalesce(a.{{association.active_usage_pct}}, 50) AS usage,
                       {status} AS status,
                       {{now}} - {rnd("a.id", 73)} * interval '120 days' AS at
                FROM (SELECT * FROM {{association}} WHERE {{association.ended_on}} IS NULL) a
                ORDER BY {rnd("a.id", 74)}
                LIMIT {self.args.change_requests}
            ) c
            ORDER BY c.at
            """.replace("a.id", "a.{association.pk}")
        )

    def notifications(self) -> None:
        days = self.args.notification_days
        if not days:
            return
        labels = {str(value): str(label) for value, label in self.models["Claim"].Status.choices}
        cm, pm = self.names["customermembership"], self.names["partnermembership"]
        approver = self.models["CustomerMembership"].Role.APPROVER
        # claims.notifications._subject: "<reference>: <label of the new status>".
        what = case("s.to_status", {k: lit(v) for k, v in labels.items()}, "s.action")
        read = rnd("s.id * 7 + s.user_id", 81)
        self.sql(
            f"""
            INSERT INTO {{notification}} ({{notification.user}}, {{notification.claim}},
                {{notification.event}}, {{notification.subject}}, {{notification.created_at}},
                {{notification.claimed_at}}, {{notification.emailed_at}},
                {{notification.attempts}}, {{notification.read_at}})
            WITH recent AS (
                SELECT e.{{event.pk}} AS id, e.{{event.claim}} AS claim_id,
                       e.{{event.action}} AS action, e.{{event.actor}} AS actor,
                       e.{{event.to_status}} AS to_status, e.{{event.created_at}} AS at,
                       c.{{claim.reference}} AS reference, c.{{claim.customer}} AS customer_id,
                       c.{{claim.partner}} AS partner_id
                FROM {{event}} e JOIN {{claim}} c ON c.{{claim.pk}} = e.{{event.claim}}
                WHERE e.{{event.created_at}} >= {{now}} - interval '{days} days'
                  AND e.{{event.action}} NOT IN ('created', 'edit')
            ),
            sent AS (
                SELECT r.*, m.{cm.user} AS user_id
                FROM recent r JOIN {cm} m ON m.{cm.customer} = r.customer_id
                WHERE r.action <> 'route' OR m.{cm.role} = {lit(approver)}
                UNION ALL
                SELECT r.*, m.{pm.user}
                FROM recent r JOIN {pm} m ON m.{pm.partner} = r.partner_id
                WHERE r.action <> 'route'
            )
            SELECT s.user_id, s.claim_id, s.id, s.reference || ': ' || {what},
                   s.at, s.at + interval '2 seconds', s.at + interval '5 seconds', 1,
                   CASE WHEN s.at < {{now}} - interval '2 days' AND {read} < 0.6
                        THEN s.at + interval '1 day' END
            FROM sent s
            WHERE s.user_id IS DISTINCT FROM s.actor
            ORDER BY s.at, s.id, s.user_id
            """
        )

    def reset_sequences(self) -> None:
        from django.core.management.color import no_style
        from django.db import connection

        from_models = list(self.models.values())
        from django.contrib.auth.models import Group

        for statement in connection.ops.sequence_reset_sql(no_style(), [*from_models, Group]):
            execute(statement)

    def report(self) -> None:
        from django.db import connection

        print("\nrows and sizes (table + indexes + TOAST):")
        rows = []
        with connection.cursor() as cursor:
            for table in sorted(m._meta.db_table for m in self.models.values()):
                quoted = connection.ops.quote_name(table)
                cursor.execute(
                    f"SELECT count(*), pg_total_relation_size(%s) FROM {quoted}", [table]
                )
                count, size = cursor.fetchone()
                rows.append((table, count, size))
            cursor.execute("SELECT pg_database_size(current_database())")
            total = cursor.fetchone()[0]
        for table, count, size in rows:
            print(f"  {table:<34} {count:>12,} {size / 2**20:>10,.0f} MB")
        print(f"  {'database':<34} {'':>12} {total / 2**20:>10,.0f} MB")


def vacuum_analyze() -> None:
    from django.db import connection

    # VACUUM sets the visibility map (index-only scans) and hint bits, as autovacuum
    # would have long done in production; ANALYZE gives the planner its statistics.
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    steps = Steps()
    print(
        f"Filling {urlsplit(args.database_url).path.lstrip('/')}: {args.claims:,} claims, "
        f"{args.partners:,} partners, {args.customers:,} customers"
    )
    with steps.step("create database"):
        recreate_database(args.database_url)
    with steps.step("migrate"):
        migrate(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    filler = Filler(args, steps)
    filler.run()
    with steps.step("vacuum and analyze"):
        vacuum_analyze()
    filler.report()
    claims = filler.k["largest"]
    print(f"\nDone in {steps.total() / 60:.1f} min. Program {filler.start} to {filler.end}.")
    print(f"Sign-ins (password {people.PASSWORD}):")
    print(f"  {people.PARTNER_MEMBER:<44} partner member, partner 1 ({claims:,} claims)")
    print(f"  {people.PARTNER_ADMIN:<44} partner admin, partner 1")
    print(f"  {people.REVIEWER:<44} claims reviewer (reviewer01..{REVIEWERS:02d})")
    print(f"  {people.LEAD:<44} claims lead")
    print(f"  {people.CUSTOMER_APPROVER:<44} customer approver, customer 1 (the most claims)")
    print("  approver@customer-NNNNNN.bench.example, member@partner-NNNN.bench.example: others")


if __name__ == "__main__":
    main()
