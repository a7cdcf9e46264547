"""How the portal reaches the vendor's partner system: one interface, two adapters.

`FileAdapter` (works out of the box) reads a folder the vendor's system drops exports into
and writes decisions back to it::

    <PARTNER_SYSTEM_DIR>/inbox/      associations-*.csv|json|jsonl, usage-*.csv|json|jsonl
    <PARTNER_SYSTEM_DIR>/archive/    files applied (or already applied), moved here after
    <PARTNER_SYSTEM_DIR>/rejected/   files rejected as a whole, with <name>.why.txt beside
    <PARTNER_SYSTEM_DIR>/outbox/     decisions-NNNNNN.csv, one per export batch

The vendor writes a file under a name starting with "." or ending in ".tmp" or ".part"
and renames it when complete; such names are never read.

`HttpAdapter` speaks JSON over HTTPS with a bearer token::

    GET  <url>/associations?since=<ISO time>&cursor=<opaque>   (and /usage)
         -> {"rows": [...], "next_cursor": "..." | null, "as_of": "<ISO time>"}
    POST <url>/decisions  {"export": "decisions-000042", "rows": [...]}
         with Idempotency-Key: decisions-000042

A timeout, a connection error, a 429 or a 5xx is retried with exponential back-off; when
the retries run out the run fails with the reason. Any other answer fails at once.
Pages are spooled to a temporary file, so a feed is applied whole or not at all and
memory stays flat however long it is.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import ipaddress
import json
import os
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KINDS = ("associations", "usage")
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
DECISION_COLUMNS = [
    "decision_id",
    "claim",
    "program",
    "partner_id",
    "tenant_id",
    "workload",
    "outcome",
    "decided_at",
    "seats",
    "target_start",
    "target_end",
]


class PartnerSystemUnavailable(Exception):
    """The partner system could not be reached or refused; the run fails with this."""


@dataclass
class Batch:
    """One export of the vendor's system to import: a dropped file or a fetched feed."""

    kind: str
    name: str
    fmt: str
    path: Path
    size: int
    sha256: str
    # Where the feed left off, saved once the batch is applied (HTTP feeds).
    cursor: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def open(self) -> IO[bytes]:
        return self.path.open("rb")


class PartnerSystemAdapter(Protocol):
    name: str

    def describe(self) -> str: ...

    def batches(self, kind: str, *, cursor: str) -> Iterator[Batch]:
        """The exports of `kind` not read yet, oldest first."""
        ...

    def finish(self, batch: Batch, *, applied: bool, problem: str = "") -> None:
        """Called after the batch's outcome committed (archive, reject, clean up)."""
        ...

    def deliver_decisions(self, name: str, rows: Sequence[Sequence[str]]) -> str:
        """Send one export batch; the same name twice must not duplicate it. Returns where."""
        ...


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _kind_and_format(name: str) -> tuple[str, str] | None:
    if name.startswith(".") or name.endswith((".tmp", ".part")):
        return None
    stem, suffix = os.path.splitext(name)
    fmt = FORMATS.get(suffix.lower())
    if fmt is None:
        return None
    kind = next((k for k in KINDS if stem.lower().startswith(k)), None)
    return (kind, fmt) if kind else None


class FileAdapter:
    name = "file"

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root if root is not None else settings.PARTNER_SYSTEM_DIR)
        self.inbox = self.root / "inbox"
        self.archive = self.root / "archive"
        self.rejected = self.root / "rejected"
        self.outbox = self.root / "outbox"

    def describe(self) -> str:
        return f"file: {self.root}"

    def _ensure(self) -> None:
        for folder in (self.inbox, self.archive, self.rejected, self.outbox):
            folder.mkdir(parents=True, exist_ok=True)

    def batches(self, kind: str, *, cursor: str) -> Iterator[Batch]:
        self._ensure()
        for path in sorted(self.inbox.iterdir(), key=lambda p: p.name):
            found = _kind_and_format(path.name)
            if not path.is_file() or found is None or found[0] != kind:
                continue
            yield Batch(
                kind=kind,
                name=path.name,
                fmt=found[1],
                path=path,
                size=path.stat().st_size,
                sha256=file_sha256(path),
            )

    def finish(self, batch: Batch, *, applied: bool, problem: str = "") -> None:
        if not batch.path.exists():
            return
        day = datetime.date.today().isoformat()
        folder = (self.archive / day) if applied else self.rejected
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / batch.name
        if target.exists():
            # A second drop of the same name: keep both, the newer with its hash in the name.
            target = folder / f"{batch.sha256[:12]}-{batch.name}"
        os.replace(batch.path, target)
        if problem:
            (folder / f"{target.name}.why.txt").write_text(problem + "\n", encoding="utf-8")

    def deliver_decisions(self, name: str, rows: Sequence[Sequence[str]]) -> str:
        self._ensure()
        target = self.outbox / f"{name}.csv"
        partial = self.outbox / f".{name}.csv.tmp"
        with partial.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(DECISION_COLUMNS)
            writer.writerows(rows)
            stream.flush()
            os.fsync(stream.fileno())
        # The vendor's system sees the whole file or none of it, under its final name.
        os.replace(partial, target)
        return str(target)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpAdapter:
    name = "http"
    MAX_PAGES = 100_000
    MAX_PAGE_BYTES = 32 * 1024 * 1024

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        ca_file: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = (url if url is not None else settings.PARTNER_SYSTEM_URL).rstrip("/")
        self.token = token if token is not None else settings.PARTNER_SYSTEM_TOKEN
        parsed = urllib.parse.urlsplit(self.url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise ImproperlyConfigured("PARTNER_SYSTEM_URL must be an https:// address.")
        if parsed.scheme == "http" and not _loopback(parsed.hostname):
            # The bearer token must never cross a network in clear text.
            raise ImproperlyConfigured(
                "PARTNER_SYSTEM_URL must use https:// (http only on loopback)."
            )
        if not self.token:
            raise ImproperlyConfigured("Set PARTNER_SYSTEM_TOKEN for the HTTP adapter.")
        self.timeout = timeout if timeout is not None else settings.PARTNER_SYSTEM_HTTP_TIMEOUT
        self.retries = retries if retries is not None else settings.PARTNER_SYSTEM_HTTP_RETRIES
        self.backoff = backoff if backoff is not None else settings.PARTNER_SYSTEM_HTTP_BACKOFF
        ca_file = ca_file if ca_file is not None else settings.PARTNER_SYSTEM_CA_FILE
        self.context = ssl.create_default_context(cafile=ca_file or None)
        self.sleep = sleep
        self.attempts: list[tuple[str, str]] = []  # (url, outcome), for the run's record

    def describe(self) -> str:
        return f"http: {self.url}"

    # --- Requests with retries --------------------------------------------------------

    def _request(self, method: str, path: str, body: bytes | None = None, **headers: str) -> bytes:
        url = f"{self.url}{path}"
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 (https checked)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self._delay(attempt, last))
            try:
                with urllib.request.urlopen(  # noqa: S310 (https checked in __init__)
                    request, timeout=self.timeout, context=self.context
                ) as response:
                    data = response.read(self.MAX_PAGE_BYTES + 1)
                    if len(data) > self.MAX_PAGE_BYTES:
                        raise PartnerSystemUnavailable(f"{method} {path}: the answer is too large.")
                    self.attempts.append((url, str(response.status)))
                    return data
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                retry_after = exc.headers.get("Retry-After", "") if exc.headers else ""
                self.attempts.append((url, last))
                if exc.code != 429 and exc.code < 500:
                    raise PartnerSystemUnavailable(
                        f"{method} {path}: the partner system refused with HTTP {exc.code}."
                    ) from None
                if retry_after.isdigit():
                    last = f"{last} retry-after {retry_after}"
            except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last = f"no answer ({reason})"
                self.attempts.append((url, last))
        raise PartnerSystemUnavailable(
            f"{method} {path}: {last} after {self.retries + 1} attempts."
        )

    def _delay(self, attempt: int, last: str) -> float:
        delay = self.backoff * (2 ** (attempt - 1))
        if "retry-after" in last:
            delay = max(delay, float(last.rsplit(" ", 1)[-1]))
        # Never wait longer than a few minutes between tries: the lease must not run out.
        return min(delay, 120.0)

    # --- The interface -----------------------------------------------------------------

    def batches(self, kind: str, *, cursor: str) -> Iterator[Batch]:
        spool = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open until finish())
            prefix=f"partner-{kind}-", suffix=".jsonl", delete=False
        )
        path = Path(spool.name)
        digest = hashlib.sha256()
        rows = 0
        as_of = ""
        try:
            page_cursor = ""
            seen: set[str] = set()
            for _page in range(self.MAX_PAGES):
                query = {"since": cursor} if cursor else {}
                if page_cursor:
                    query["cursor"] = page_cursor
                qs = urllib.parse.urlencode(query)
                body = self._request("GET", f"/{kind}" + (f"?{qs}" if qs else ""))
                try:
                    page = json.loads(body)
                    page_rows = page["rows"]
                    if not isinstance(page_rows, list):
                        raise TypeError
                except (ValueError, KeyError, TypeError):
                    raise PartnerSystemUnavailable(
                        f"GET /{kind}: the answer is not a page of rows."
                    ) from None
                as_of = as_of or str(page.get("as_of") or "")
                for item in page_rows:
                    line = json.dumps(item, separators=(",", ":"), sort_keys=True).encode() + b"\n"
                    spool.write(line)
                    digest.update(line)
                    rows += 1
                page_cursor = str(page.get("next_cursor") or "")
                if not page_cursor:
                    break
                if page_cursor in seen:
                    raise PartnerSystemUnavailable(f"GET /{kind}: the feed repeats a cursor.")
                seen.add(page_cursor)
            else:
                raise PartnerSystemUnavailable(f"GET /{kind}: more than {self.MAX_PAGES} pages.")
            spool.close()
        except BaseException:
            spool.close()
            path.unlink(missing_ok=True)
            raise
        if rows == 0:
            path.unlink(missing_ok=True)
            return
        stamp = as_of or datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        yield Batch(
            kind=kind,
            name=f"{kind} since {cursor or 'the start'} (as of {stamp})",
            fmt="jsonl",
            path=path,
            size=path.stat().st_size,
            sha256=digest.hexdigest(),
            cursor=as_of,
        )

    def finish(self, batch: Batch, *, applied: bool, problem: str = "") -> None:
        batch.path.unlink(missing_ok=True)

    def deliver_decisions(self, name: str, rows: Sequence[Sequence[str]]) -> str:
        payload = {
            "export": name,
            "rows": [dict(zip(DECISION_COLUMNS, r, strict=True)) for r in rows],
        }
        self._request(
            "POST",
            "/decisions",
            json.dumps(payload).encode(),
            Idempotency_Key=name,
        )
        return f"{self.url}/decisions ({name})"


def get_adapter(name: str | None = None) -> PartnerSystemAdapter:
    name = name or settings.PARTNER_SYSTEM_ADAPTER
    if name == "file":
        return FileAdapter()
    if name == "http":
        return HttpAdapter()
    raise ImproperlyConfigured(f"PARTNER_SYSTEM_ADAPTER must be 'file' or 'http', not {name!r}.")
