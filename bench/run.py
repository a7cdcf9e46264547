"""Page and evaluation benchmarks: query counts and timings as the data grows.

Run with `make bench` (or `.venv/bin/python bench/run.py`); set DATABASE_URL to measure
on PostgreSQL. It builds a throw-away test database, so it never touches real data.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "claims_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "50,500").split(",")]
REPEATS = int(os.environ.get("BENCH_REPEATS", "20"))


def seed(world, count: int, start: int) -> None:
    from claims import lifecycle
    from claims.models import Claim
    from tests import factories as f

    for i in range(start, count):
        customer = f.CustomerFactory()
        user = f.customer_user(customer, "approver")
        workloads = world["workloads"][i % 3 : i % 3 + 1]
        claim = lifecycle.create_claim(
            customer=customer,
            partner=world["partner"],
            program=world["program"],
            user=user,
            data=world["input"](workloads),
        )
        claim = lifecycle.sign_and_submit(claim, user=user, signed_name="B", attested=True)
        if i % 2:
            from approvals.services import evaluate_claim

            lifecycle.confirm_claim(claim, user=world["partner_user"])
            evaluate_claim(claim_id=claim.pk)
    assert Claim.objects.count() == count


def measure(client, url: str) -> tuple[int, float]:
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
    return len(executed), statistics.median(timings)


def main() -> None:
    import datetime

    from django.test import Client
    from django.utils import timezone

    from claims.lifecycle import ClaimInput, LineInput
    from tests import factories as f

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    # Keep one connection: closing it after each request would empty the query log.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = None
    connection.settings_dict["CONN_MAX_AGE"] = None
    import logging

    logging.getLogger("celery").setLevel(logging.WARNING)
    setup_test_environment()
    # Tasks run in-process: the benchmark measures our code, not the broker.
    from claims_portal.celery import app

    app.conf.task_always_eager = True
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        program = f.ProgramFactory()
        workloads = [f.WorkloadFactory(code=c) for c in ("exchange", "teams", "intune")]
        program.workloads.set(workloads)
        partner = f.PartnerFactory()
        f.catalog(partner, program, workloads[:2])
        today = timezone.localdate()

        def claim_input(ws):
            return ClaimInput(
                survey_contact_mode="one",
                survey_contact_name="S",
                survey_contact_email="s@example.com",
                lines=[
                    LineInput(w.pk, today, today + datetime.timedelta(days=30), 300) for w in ws
                ],
            )

        world = {
            "program": program,
            "workloads": workloads,
            "partner": partner,
            "partner_user": f.partner_user(partner),
            "input": claim_input,
        }
        reviewer = f.claims_team_user()
        print(f"database: {connection.vendor}; median of {REPEATS} requests")
        print(f"{'claims':>7} {'page':<28} {'queries':>7} {'median ms':>10}")
        seeded = 0
        for size in SIZES:
            began = time.perf_counter()
            seed(world, size, seeded)
            per_claim = (time.perf_counter() - began) / (size - seeded) * 1000
            seeded = size
            partner_client, review_client = Client(), Client()
            partner_client.force_login(world["partner_user"])
            review_client.force_login(reviewer)
            from claims.models import Claim

            sample = Claim.objects.order_by("-pk").first().reference
            pages = [
                (partner_client, "/partner/"),
                (partner_client, "/partner/?status=in_review&sort=due"),
                (partner_client, f"/partner/claims/{sample}/"),
                (review_client, "/review/"),
            ]
            for client, url in pages:
                queries, ms = measure(client, url)
                label = url if len(url) < 28 else url[:25] + "..."
                print(f"{size:>7} {label:<28} {queries:>7} {ms:>10.1f}")
            print(f"{size:>7} {'create+sign(+confirm+check)':<28} {'':>7} {per_claim:>10.1f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
