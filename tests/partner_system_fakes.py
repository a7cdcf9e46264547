"""A small fake of the vendor's partner system on the loopback, and helpers to drop files.

The fake answers the HTTP adapter's contract (pages of rows with a cursor, a decisions
endpoint) from a script the test writes: per path, a list of answers used in turn (the
last one repeats), each a status, a JSON body and an optional delay before answering.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "test-token-0123456789"


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    delay: float = 0.0
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakePartnerSystem:
    def __init__(self, *, tls: tuple[str, str] | None = None) -> None:
        self.script: dict[str, list[Answer]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with fake.lock:
                    fake.seen.append(
                        Seen(
                            method,
                            parts.path,
                            parse_qs(parts.query),
                            dict(self.headers.items()),
                            json.loads(raw) if raw else None,
                        )
                    )
                    answers = fake.script.get(f"{method} {parts.path}") or [Answer(404, {})]
                    answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    answer = Answer(401, {"error": "bad token"})
                if answer.delay:
                    time.sleep(answer.delay)
                body = answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): as a real server would see it

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        host, port = self.server.server_address[:2]
        self.url = f"{scheme}://{host}:{port}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePartnerSystem:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def answer(self, route: str, *answers: Answer) -> None:
        self.script[f"{route.split()[0]} /api{route.split()[1]}"] = list(answers)

    def requests(self, route: str) -> list[Seen]:
        method, path = route.split()
        return [s for s in self.seen if s.method == method and s.path == f"/api{path}"]


def page(rows: list[dict], *, next_cursor: str | None = None, as_of: str = "") -> Answer:
    return Answer(200, {"rows": rows, "next_cursor": next_cursor, "as_of": as_of})


def self_signed_certificate(folder: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 made with the openssl command, and its key."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def drop(folder: Path, name: str, content: str | bytes) -> Path:
    """Put a file in the inbox as the vendor's system should: whole, under its final name."""
    inbox = folder / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    partial = inbox / f".{name}.tmp"
    partial.write_bytes(content.encode() if isinstance(content, str) else content)
    os.replace(partial, inbox / name)
    return inbox / name


def csv_text(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"
