"""The outbox: work queued in a transaction is recorded in it and handed to Redis after it."""

from __future__ import annotations

import datetime
import json

import psycopg
import pytest
import redis
import time_machine
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from approvals.tasks import evaluate_claim
from claims_portal import outbox
from claims_portal.celery import app as celery_app
from claims_portal.models import OutboxMessage
from claims_portal.tasks import relay_outbox
from tests.faults import database_url, use_broker

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

DOWN = "redis://127.0.0.1:6393/0"  # nothing listens there in these tests


@pytest.fixture
def broker():
    """The test's Redis database, emptied, and what waits in its default queue."""
    use_broker(settings.CELERY_BROKER_URL)
    celery_app.control.purge()
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    use_broker(settings.CELERY_BROKER_URL)
    celery_app.control.purge()


def _tasks(client) -> list[str]:
    return [json.loads(raw)["headers"]["task"] for raw in client.lrange("celery", 0, -1)]


def test_it_records_the_task_in_the_transaction_and_sends_it_after_the_commit(broker):
    with transaction.atomic():
        evaluate_claim.delay(41)
        # Recorded with the transaction's other writes; nothing sent yet.
        [message] = OutboxMessage.objects.all()
        assert (message.task, message.args) == ("approvals.tasks.evaluate_claim", [41])
        assert _tasks(broker) == []
    assert _tasks(broker) == ["approvals.tasks.evaluate_claim"]
    assert not OutboxMessage.objects.exists()  # handed over, so gone


def test_a_rolled_back_transaction_sends_nothing(broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        evaluate_claim.delay(41)
        raise RuntimeError("the change failed")
    assert _tasks(broker) == []
    assert not OutboxMessage.objects.exists()


def test_a_rolled_back_savepoint_sends_only_what_survived(broker):
    with transaction.atomic():
        evaluate_claim.delay(1)
        with pytest.raises(RuntimeError), transaction.atomic():
            evaluate_claim.delay(2)
            raise RuntimeError
    assert _tasks(broker) == ["approvals.tasks.evaluate_claim"]
    assert [json.loads(raw)["headers"]["argsrepr"] for raw in broker.lrange("celery", 0, -1)] == [
        "[1]"
    ]


def test_outside_a_transaction_it_sends_at_once(broker):
    evaluate_claim.delay(7)
    assert _tasks(broker) == ["approvals.tasks.evaluate_claim"]
    assert not OutboxMessage.objects.exists()


def test_a_failed_hand_off_waits_for_the_relay_which_sends_it(broker):
    use_broker(DOWN)
    with transaction.atomic():
        evaluate_claim.delay(41)
        evaluate_claim.delay(42)
    first, second = OutboxMessage.objects.order_by("pk")
    # One attempt failed; the second message did not try the broker again so soon.
    assert (first.attempts, second.attempts) == (1, 0)
    assert "refused" in first.last_error.lower()
    assert first.next_attempt_at > timezone.now()

    # The broker is back; the relay hands over what is due (a fresh row is left to its own
    # process for the grace period, then the relay takes it too).
    use_broker(settings.CELERY_BROKER_URL)
    later = timezone.now() + settings.OUTBOX_GRACE + datetime.timedelta(seconds=1)
    with time_machine.travel(later):
        assert relay_outbox.apply().get() == {"sent": 2, "waiting": 0}
    assert _tasks(broker) == ["approvals.tasks.evaluate_claim"] * 2
    assert not OutboxMessage.objects.exists()


def test_the_relay_leaves_fresh_messages_to_their_own_process(broker):
    now = timezone.now()
    OutboxMessage.objects.create(
        task="approvals.tasks.evaluate_claim",
        args=[5],
        created_at=now,
        next_attempt_at=now + settings.OUTBOX_GRACE,
    )
    assert relay_outbox.apply().get() == {"sent": 0, "waiting": 0}
    assert _tasks(broker) == []


def test_the_relay_backs_off_while_the_broker_stays_down(broker):
    use_broker(DOWN)
    now = timezone.now()
    for claim_id in (1, 2, 3):
        OutboxMessage.objects.create(
            task="approvals.tasks.evaluate_claim",
            args=[claim_id],
            created_at=now,
            next_attempt_at=now,
            attempts=2,
        )
    assert relay_outbox.apply().get() == {"sent": 0, "waiting": 3}
    rows = list(OutboxMessage.objects.order_by("pk"))
    # Tried once for all three, then all wait: 5 s x 2^(3-1) = 20 s after three attempts.
    assert [m.attempts for m in rows] == [3, 3, 3]
    assert all(m.next_attempt_at >= now + datetime.timedelta(seconds=19) for m in rows)
    assert all("refused" in m.last_error.lower() for m in rows)
    # Nothing is due now, so a second relay does nothing.
    assert relay_outbox.apply().get() == {"sent": 0, "waiting": 0}


def test_two_relays_never_take_the_same_message(broker):
    now = timezone.now()
    OutboxMessage.objects.create(
        task="approvals.tasks.evaluate_claim", args=[9], created_at=now, next_attempt_at=now
    )
    with psycopg.connect(database_url().replace("postgres://", "postgresql://")) as other:
        # Another relay holds the row: this one skips it rather than wait or send it too.
        other.execute("SELECT id FROM portal_outboxmessage FOR UPDATE")
        assert outbox.relay() == {"sent": 0, "waiting": 0}
        other.rollback()
    assert outbox.relay() == {"sent": 1, "waiting": 0}
    assert _tasks(broker) == ["approvals.tasks.evaluate_claim"]
