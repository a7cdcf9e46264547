from __future__ import annotations

import copy
import datetime
import os
import shutil
import uuid
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.utils import timezone

from claims import lifecycle
from claims.lifecycle import ClaimInput, LineInput
from claims.models import Claim
from claims_portal.celery import app as celery_app
from tests import factories as f

REQUIRE_SERVICES = os.environ.get("CLAIMS_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


def _services_missing() -> str | None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL=redis://..."
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis at REDIS_URL does not answer: {exc}"
    return None


def _browser_missing() -> str | None:
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        return "needs Chromium at /usr/bin/chromium (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the playwright package"
    return None


def pytest_configure(config):
    # PBKDF2's deliberate slowness would dominate a suite that creates many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Threads (live server, worker) must not keep connections that outlive the test database.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


def pytest_runtest_setup(item):
    checks = []
    if item.get_closest_marker("services"):
        checks.append(_services_missing())
    if item.get_closest_marker("browser"):
        checks.append(_browser_missing())
    for missing in filter(None, checks):
        if REQUIRE_SERVICES:
            pytest.fail(f"CI requires this test to run, but it {missing}", pytrace=False)
        pytest.skip(missing)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path_factory):
    """Uploaded documents and images go to a throw-away folder, never the checkout."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path_factory.mktemp("private")


@pytest.fixture(autouse=True)
def _eager_tasks(request, settings):
    """Tasks run in-process unless a test starts a real worker."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    eager = not request.node.get_closest_marker("services")
    old = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = eager
    celery_app.conf.task_eager_propagates = eager
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Each test counts in its own cache keys (Redis when REDIS_URL is set): rate limits
    and throttles start at zero, and no test flushes a database the broker shares."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def celery_worker_live(transactional_db):
    """A real Celery worker on the Redis broker, in a thread of this process."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    def close_connections(**kwargs):
        # The worker thread's connections would otherwise keep the test database open.
        connections.close_all()

    task_postrun.connect(close_connections, weak=False)
    celery_app.control.purge()
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
    ) as worker:
        yield worker
    task_postrun.disconnect(close_connections)
    terminate_other_connections()


def terminate_other_connections() -> None:
    """End connections other threads left open, which would block dropping the test database."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


# The database of a data-heavy test: flushed afterwards like any transactional test, or, with
# CLAIMS_KEEP_TEST_DATA=1 (CI's second pass), written straight to a fresh test database that
# is left in place at the end, so `check_claim_outcomes` and `verify_claim_chain` can check
# what the data-heavy tests left behind.
if os.environ.get("CLAIMS_KEEP_TEST_DATA") == "1":

    @pytest.fixture(scope="session")
    def django_db_setup(django_test_environment, django_db_blocker):
        from django.test.utils import setup_databases

        with django_db_blocker.unblock():
            setup_databases(verbosity=0, interactive=False, aliases={"default"})
        yield  # and no teardown: the data stays for the checks

    @pytest.fixture
    def outcome_db(django_db_setup, django_db_blocker):
        with django_db_blocker.unblock():
            yield
            terminate_other_connections()

else:

    @pytest.fixture
    def outcome_db(transactional_db):
        yield
        terminate_other_connections()


@pytest.fixture
def stray_connections_closed(transactional_db):
    yield
    terminate_other_connections()


@dataclass
class World:
    program: object
    workloads: list
    partner: object
    rival: object
    customer: object
    other_customer: object
    approver: object
    contributor: object
    partner_member: object
    partner_admin: object
    rival_member: object
    other_customer_user: object
    reviewer: object
    lead: object

    def claim_input(self, workloads=None, **line_kwargs) -> ClaimInput:
        today = timezone.localdate()
        return ClaimInput(
            survey_contact_mode=Claim.SurveyContactMode.ONE_FOR_ALL,
            survey_contact_name="Sam Survey",
            survey_contact_email="sam@customer.example",
            lines=[
                LineInput(
                    workload_id=w.pk,
                    target_start=today,
                    target_end=today + datetime.timedelta(days=90),
                    seats=line_kwargs.get("seats", 500),
                )
                for w in (workloads or self.workloads[:2])
            ],
        )

    def draft(self, *, partner=None, workloads=None, customer=None, user=None) -> Claim:
        return lifecycle.create_claim(
            customer=customer or self.customer,
            partner=partner or self.partner,
            program=self.program,
            user=user or self.approver,
            data=self.claim_input(workloads),
        )

    def submitted(self, **kwargs) -> Claim:
        claim = self.draft(**kwargs)
        user = kwargs.get("user") or self.approver
        return lifecycle.sign_and_submit(
            claim, user=user, signed_name="Alex Approver", attested=True
        )


@pytest.fixture
def world(db) -> World:
    program = f.ProgramFactory()
    workloads = [
        f.WorkloadFactory(code="exchange", name="Exchange Online"),
        f.WorkloadFactory(code="teams", name="Microsoft Teams"),
        f.WorkloadFactory(code="intune", name="Microsoft Intune"),
    ]
    program.workloads.set(workloads)
    partner = f.PartnerFactory(name="Contoso", slug="contoso", code="CONTOSO1")
    rival = f.PartnerFactory(name="Fabrikam", slug="fabrikam", code="FABRIKAM")
    f.catalog(partner, program, workloads[:2])
    f.catalog(rival, program, workloads)
    customer = f.CustomerFactory(
        name="Woodgrove", tenant_id="woodgrove.example", verified_domains="woodgrove.example"
    )
    other_customer = f.CustomerFactory(
        name="Tailspin", tenant_id="tailspin.example", verified_domains="tailspin.example"
    )
    return World(
        program=program,
        workloads=workloads,
        partner=partner,
        rival=rival,
        customer=customer,
        other_customer=other_customer,
        approver=f.customer_user(customer, "approver", email="alex@woodgrove.example"),
        contributor=f.customer_user(customer, "contributor", email="casey@woodgrove.example"),
        partner_member=f.partner_user(partner, "member", email="pat@contoso.example"),
        partner_admin=f.partner_user(partner, "admin", email="boss@contoso.example"),
        rival_member=f.partner_user(rival, "member", email="fay@fabrikam.example"),
        other_customer_user=f.customer_user(
            other_customer, "approver", email="olga@tailspin.example"
        ),
        reviewer=f.claims_team_user(email="rita@vendor.example"),
        lead=f.claims_team_user(lead=True, email="lee@vendor.example"),
    )
