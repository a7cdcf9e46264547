"""Faults with real parts: a broker of the test's own (redis-server on 6391-6393) that it stops
and starts, `celery worker` processes it kills, and a database that refuses the worker for a
while. Each test ends with the claim decided exactly once and every email sent exactly once.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from approvals.models import Decision
from claims import lifecycle
from claims.models import Claim, Event, Notification
from claims_portal.models import OutboxMessage
from tests.faults import RedisServer, Worker, database_url, mail_count, use_broker, wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
]

S = Claim.Status


class Lab:
    """The brokers and workers of one test; everything is stopped at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.brokers: list[RedisServer] = []
        self.workers: list[Worker] = []

    def broker(self, port: int) -> RedisServer:
        broker = RedisServer(port, self.workdir)
        broker.start()
        self.brokers.append(broker)
        use_broker(broker.url)
        return broker

    def worker(self, broker: RedisServer, **kwargs) -> Worker:
        worker = Worker(broker, self.workdir, **kwargs)
        self.workers.append(worker)
        return worker.start()

    @property
    def mail(self) -> Path:
        return self.workdir / "mail"

    def logs(self) -> str:
        return "\n".join(w.output()[-4000:] for w in self.workers)

    def close(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(Exception):
                worker.stop()
        for broker in self.brokers:
            with contextlib.suppress(Exception):
                broker.stop()
        from django.conf import settings

        use_broker(settings.CELERY_BROKER_URL)


@pytest.fixture
def lab(tmp_path, stray_connections_closed):
    lab = Lab(tmp_path)
    yield lab
    lab.close()


def _emailed() -> bool:
    return not Notification.objects.filter(emailed_at=None).exists()


def _settled(lab: Lab, broker: RedisServer, claim: Claim) -> None:
    """Wait for the claim's decision, every email and a broker with nothing left to deliver."""
    assert wait_for(
        lambda: Claim.objects.get(pk=claim.pk).status not in (S.EVALUATING, S.AWAITING_PARTNER),
        120,
    ), lab.logs()
    assert wait_for(_emailed, 120), lab.logs()
    assert wait_for(lambda: not OutboxMessage.objects.exists(), 60), lab.logs()
    assert wait_for(broker.quiet, 60), lab.logs()


def _decided_once_and_emailed_once(lab: Lab, claim: Claim) -> None:
    claim.refresh_from_db()
    assert claim.status == S.APPROVED
    assert Event.objects.filter(claim=claim, action="evaluate").count() == 1
    assert sorted(Decision.objects.filter(line__claim=claim).values_list("line_id", flat=True)) == (
        sorted(claim.lines.values_list("pk", flat=True))
    )
    notifications = Notification.objects.filter(claim=claim).select_related("user")
    expected = {(n.user.email, n.subject): 1 for n in notifications}
    assert any("Approved" in subject for _, subject in expected)
    assert dict(mail_count(lab.mail)) == expected, lab.logs()


# --- The broker stopped at confirm -----------------------------------------------------------


def test_confirming_while_the_broker_is_down_answers_and_loses_nothing(lab, world, client):
    broker = lab.broker(6391)
    lab.worker(broker)
    claim = world.submitted()
    assert wait_for(_emailed, 60), lab.logs()

    broker.stop()
    client.force_login(world.partner_member)
    response = client.post(reverse("partner_claim_confirm", args=[claim.reference]), follow=True)

    # The partner is answered as usual: the confirm committed, and it is said so.
    assert response.status_code == 200
    assert "is confirmed" in response.content.decode()
    assert Claim.objects.get(pk=claim.pk).status == S.EVALUATING
    # What is to happen next waits in the outbox. The broker was tried once, not in a loop,
    # and the second message did not try again.
    waiting = {m.task: m for m in OutboxMessage.objects.all()}
    assert set(waiting) == {"approvals.tasks.evaluate_claim", "claims.tasks.send_notifications"}
    assert sorted(m.attempts for m in waiting.values()) == [0, 1]
    assert any("refused" in m.last_error.lower() for m in waiting.values())

    broker.start()  # empty: a restarted broker without persistence has lost everything
    _settled(lab, broker, claim)
    _decided_once_and_emailed_once(lab, claim)


# --- A worker killed mid-evaluation ----------------------------------------------------------


@contextlib.contextmanager
def _customer_locked(claim: Claim):
    """Hold the claim's customer row, so an evaluation waits in its first lock."""
    with psycopg.connect(database_url().replace("postgres://", "postgresql://")) as other:
        other.execute(
            "SELECT 1 FROM customers_customer WHERE id = %s FOR UPDATE", [claim.customer_id]
        )
        yield
        other.rollback()


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_worker_killed_mid_evaluation_leaves_the_claim_to_the_next(lab, world, pool):
    broker = lab.broker(6392)
    claim = world.submitted()
    lifecycle.confirm_claim(claim, user=world.partner_member)  # queued; no worker yet
    with _customer_locked(claim):
        worker = lab.worker(broker, pool=pool)
        assert wait_for(_someone_waits_for_a_lock, 60), lab.logs()  # mid-evaluation
        if pool == "solo":
            # The whole worker, as when its machine dies: the message comes back once the
            # visibility timeout has passed, to whichever worker is there.
            worker.kill()
        else:
            # The child running the task: the parent requeues its message at once
            # (task_reject_on_worker_lost).
            for child in worker.children():
                os.kill(child, signal.SIGKILL)
    assert Claim.objects.get(pk=claim.pk).status == S.EVALUATING
    if pool == "solo":
        lab.worker(broker)
    _settled(lab, broker, claim)
    _decided_once_and_emailed_once(lab, claim)


# --- The same messages delivered twice -------------------------------------------------------


def test_every_message_delivered_twice_changes_nothing_the_second_time(lab, world):
    broker = lab.broker(6393)
    claim = world.submitted()
    lifecycle.confirm_claim(claim, user=world.partner_member)
    client = broker.client()
    assert wait_for(lambda: client.llen("celery") == 1)  # the evaluation
    doubled = 0
    for queue in ("celery", "notifications"):
        for raw in client.lrange(queue, 0, -1):
            client.lpush(queue, raw)  # the very same message (same task id), again
            doubled += 1
    assert doubled == 3  # the evaluation, the signing's and the confirm's emails
    # Two processes, so the copies can run at the same moment.
    lab.worker(broker, pool="prefork", concurrency=2)
    _settled(lab, broker, claim)
    _decided_once_and_emailed_once(lab, claim)


# --- The database briefly unavailable to the worker ---------------------------------------------


@contextlib.contextmanager
def _database_refusing_others():
    """New connections refused and the open ones (but this test's) cut, until the block ends."""
    name = connection.settings_dict["NAME"]
    # A database cannot shut its own door: that is said from the maintenance database.
    admin_url = database_url().rsplit("/", 1)[0].replace("postgres://", "postgresql://")
    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


def test_the_database_briefly_unavailable_to_the_worker_delays_but_loses_nothing(lab, world):
    broker = lab.broker(6391)
    worker = lab.worker(broker)
    claim = world.submitted()
    assert wait_for(_emailed, 60), lab.logs()  # the worker holds a database connection now
    with _database_refusing_others():
        lifecycle.confirm_claim(claim, user=world.partner_member)
        # The worker fails to reach the database and retries, 1 s, 2 s, 4 s ... apart.
        assert wait_for(lambda: worker.output().count("Retry in 4s") >= 1, 60), lab.logs()
        assert Claim.objects.get(pk=claim.pk).status == S.EVALUATING
    _settled(lab, broker, claim)
    _decided_once_and_emailed_once(lab, claim)
