"""Counts the SQL of each request and times it, for the page benchmarks (bench.settings).

Ordinary responses carry `X-Bench-Queries: <n>` and `Server-Timing: app;dur=<ms>,
db;dur=<ms>`. A streamed response (CSV export) has sent its headers before its queries
run, so its figures go to the report file only. A request with `X-Bench-Report: <name>`
gets a JSON report in BENCH_REPORT_DIR; with `X-Bench-SQL: 1` as well, the report holds
every statement with its parameters filled in, for EXPLAIN.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class _Recorder:
    def __init__(self, *, capture: bool) -> None:
        self.capture = capture
        self.count = 0
        self.db_ms = 0.0
        self.statements: list[dict] = []

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - began) * 1000
            self.count += 1
            self.db_ms += ms
            if self.capture:
                text = self._text(sql, params, many, context)
                self.statements.append({"template": sql, "sql": text, "ms": ms})

    @staticmethod
    def _text(sql, params, many, context) -> str:
        if many or not params:
            return sql
        try:
            return context["connection"].ops.compose_sql(sql, params)
        except Exception:  # noqa: BLE001 - a report with the raw SQL beats a failed page
            return sql


class BenchMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        recorder = _Recorder(capture=request.headers.get("X-Bench-SQL") == "1")
        report = request.headers.get("X-Bench-Report", "")
        report = report if _SAFE_NAME.match(report) else ""
        began = time.perf_counter()
        with connection.execute_wrapper(recorder):
            response = self.get_response(request)
        if response.streaming:
            response["X-Bench-Streaming"] = "1"
            response.streaming_content = self._streamed(
                response.streaming_content, recorder, began, report, request, response
            )
            return response
        app_ms = (time.perf_counter() - began) * 1000
        response["X-Bench-Queries"] = str(recorder.count)
        response["Server-Timing"] = f"app;dur={app_ms:.3f}, db;dur={recorder.db_ms:.3f}"
        if report:
            _write(report, request, response, recorder, app_ms, len(response.content))
        return response

    @staticmethod
    def _streamed(content, recorder, began, report, request, response) -> Iterator[bytes]:
        size = 0
        try:
            # The queries of a streamed response run while it is iterated, here.
            with connection.execute_wrapper(recorder):
                for chunk in content:
                    size += len(chunk)
                    yield chunk
        finally:
            if report:
                app_ms = (time.perf_counter() - began) * 1000
                _write(report, request, response, recorder, app_ms, size)


def _write(name, request, response, recorder, app_ms: float, size: int) -> None:
    folder = Path(settings.BENCH_REPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "path": request.get_full_path(),
        "status": response.status_code,
        "streaming": response.streaming,
        "queries": recorder.count,
        "app_ms": app_ms,
        "db_ms": recorder.db_ms,
        "bytes": size,
        "statements": recorder.statements,
    }
    partial = folder / f".{name}.tmp"
    partial.write_text(json.dumps(data))
    partial.replace(folder / f"{name}.json")
