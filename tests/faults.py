"""Real broker and worker processes that the fault tests start, stop and kill.

A redis-server of its own on a port the test names (6391-6393), and `celery worker`
processes on the test database; email goes to files (tests/fault_settings.py).
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import redis
from django.conf import settings

from claims_portal import outbox
from claims_portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def wait_for(predicate: Callable[[], object], timeout: float = 60.0, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())


class RedisServer:
    """A broker of the test's own, which it can take away and bring back."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)

    def up(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        assert not self.up(), f"something already listens on port {self.port}"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_for(self.up, 10), f"redis-server on {self.port} did not start"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        assert wait_for(lambda: not self.up(), 5)

    def quiet(self) -> bool:
        """No message waiting in a queue, and none taken by a worker and not acknowledged."""
        client = self.client()
        return not (client.llen("celery") or client.llen("notifications") or client.hlen("unacked"))


def use_broker(url: str) -> None:
    """Point this process (the web side of the test) at another broker."""
    celery_app.conf.broker_url = url
    celery_app._after_fork()  # drop the connection and producer pools of the old broker
    outbox._broker_down_until = 0.0


def database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery worker` in its own process, on the test database and the given broker."""

    count = 0

    def __init__(
        self,
        broker: RedisServer,
        workdir: Path,
        *,
        pool: str = "solo",
        concurrency: int = 1,
        beat: bool = True,
        env: dict[str, str] | None = None,
    ) -> None:
        Worker.count += 1
        self.name = f"fault{Worker.count}"
        self.broker = broker
        self.log = workdir / f"{self.name}.log"
        self.mail = workdir / "mail"
        self.mail.mkdir(exist_ok=True)
        self.beat_schedule = workdir / f"{self.name}-beat"
        self.pool, self.concurrency, self.beat = pool, concurrency, beat
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.fault_settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker.url,
            "EMAIL_FILE_PATH": str(self.mail),
            # The relay and the redelivery of a vanished worker's message, at test speed.
            "OUTBOX_RELAY_SECONDS": "1",
            "OUTBOX_GRACE_SECONDS": "2",
            "CELERY_VISIBILITY_TIMEOUT": "8",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        command = [
            sys.executable, "-m", "celery", "-A", "claims_portal", "worker",
            "-P", self.pool, "-c", str(self.concurrency), "-n", f"{self.name}@%h",
            "--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "INFO",
        ]  # fmt: skip
        if self.beat:
            command += ["-B", "--schedule", str(self.beat_schedule)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        assert wait_for(lambda: " ready." in self.output(), 60), self.output()[-3000:]
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def children(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def kill(self) -> None:
        """SIGKILL the whole worker: nothing of it is left to requeue what it was running."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # warm shutdown: finish, then leave
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


def mails(folder: Path) -> list[email.message.Message]:
    """Every message the workers' file backend wrote, parsed."""
    found = []
    separator = b"\n" + b"-" * 79 + b"\n"
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(separator):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk))
    return found


def mail_count(folder: Path) -> Counter:
    return Counter((m["To"], m["Subject"]) for m in mails(folder))
