"""Reading the partner system's exports a row at a time: CSV, JSON arrays, JSON lines.

Every reader streams (memory stays flat however long the file) and tells a bad row
from a bad file. A bad row comes back with its problem and the rest is read on; a bad
file (not text, no header, cut off, not the format its name says) raises `FileProblem`,
and the caller applies nothing of it. A file is cut off when it stops mid-row: a CSV or
JSON-lines export ends with a line break, a JSON array with its closing bracket.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
from collections.abc import Iterator, Sequence
from typing import IO, Any

CHUNK = 64 * 1024
# One row of any of our feeds is a few hundred bytes; far more means a broken file.
MAX_ROW_BYTES = 64 * 1024
RAW_LIMIT = 500


class FileProblem(Exception):
    """The file as a whole cannot be read; nothing of it may be applied."""


class Row:
    """One row: its number, its values in the order of the columns asked for (text, as
    written; None when the row is unreadable, with the problem), and the row as read."""

    __slots__ = ("_raw", "number", "problem", "values")

    def __init__(
        self,
        number: int,
        values: Sequence[str] | None,
        raw: str | list[str],
        problem: str = "",
    ) -> None:
        self.number = number
        self.values = values
        self.problem = problem
        self._raw = raw

    @property
    def raw(self) -> str:
        # Joined only when asked for: a rejected row's record, never for the millions applied.
        raw = self._raw
        return (raw if isinstance(raw, str) else ",".join(raw))[:RAW_LIMIT]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _ends_with(stream: IO[bytes], endings: tuple[bytes, ...]) -> bool:
    """Whether the last non-blank byte of the (seekable) stream is one of `endings`."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    if size == 0:
        return False
    stream.seek(max(0, size - 64))
    tail = stream.read().rstrip(b" \t")
    stream.seek(0)
    return tail.endswith(endings)


def read_rows(
    stream: IO[bytes], fmt: str, *, columns: Sequence[str], required: Sequence[str]
) -> Iterator[Row]:
    """The rows of `stream` as {column: text}, numbered as a person would count them."""
    if fmt == "csv":
        return _csv_rows(stream, columns, required)
    if fmt == "jsonl":
        return _jsonl_rows(stream, columns, required)
    if fmt == "json":
        return _json_rows(stream, columns, required)
    raise FileProblem(f"Unknown format {fmt!r}.")


def _text(stream: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="strict")


def _release(text: io.TextIOWrapper) -> None:
    # Leave the caller's stream open for the caller to close; if it is closed already (a
    # reader abandoned half way and collected later), there is nothing to release.
    with contextlib.suppress(ValueError):
        text.detach()


def _has_nul(stream: IO[bytes]) -> bool:
    found = False
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        if b"\x00" in chunk:
            found = True
            break
    stream.seek(0)
    return found


def _csv_rows(stream: IO[bytes], columns: Sequence[str], required: Sequence[str]) -> Iterator[Row]:
    if not _ends_with(stream, (b"\n",)):
        raise FileProblem(
            "The file is cut off: it does not end with a line break (or is empty), so its "
            "last row may be incomplete."
        )
    if _has_nul(stream):
        # Checked once over the bytes: cheaper than per row, and no text export holds one.
        raise FileProblem("The file holds NUL bytes: it is not a text export.")
    text = _text(stream)
    # strict: a quote left open or stray quotes are an error, not a row that swallows the
    # rest of the file.
    reader = csv.reader(text, strict=True)
    number = 1
    try:
        try:
            header = [name.strip().lower() for name in next(reader)]
        except StopIteration:
            raise FileProblem("The file is empty.") from None
        missing = [name for name in required if name not in header]
        if missing:
            raise FileProblem(
                f"The header row lacks the column(s) {', '.join(missing)} "
                f"(it has: {', '.join(header)[:200]})."
            )
        width = len(header)
        positions = [header.index(name) if name in header else -1 for name in columns]
        # The usual file has exactly the columns, in order: its records are the values.
        as_is = positions == list(range(width))
        for record in reader:
            number += 1
            if len(record) != width:
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                yield Row(
                    number, None, record, f"The row has {len(record)} cells; the header {width}."
                )
                continue
            if as_is:
                yield Row(number, record, record)
            else:
                yield Row(number, [record[i] if i >= 0 else "" for i in positions], record)
    except UnicodeDecodeError as exc:
        raise FileProblem(
            f"The file is not UTF-8 text (near row {number}): {exc.reason}."
        ) from None
    except csv.Error as exc:
        raise FileProblem(f"The file is not valid CSV (row {number}): {exc}.") from None
    finally:
        _release(text)


def _object_row(number: int, item: Any, columns: Sequence[str], raw: str) -> Row:
    if not isinstance(item, dict):
        return Row(number, None, raw, "The item is not an object with named fields.")
    values = [_cell(item.get(name)) for name in columns]
    if any("\x00" in value for value in values):
        return Row(number, None, raw, "A field holds a NUL character.")
    try:
        "".join(values).encode("utf-8")
    except UnicodeEncodeError:
        return Row(
            number,
            None,
            raw.encode("utf-8", "replace").decode(),
            "A field holds a lone surrogate.",
        )
    return Row(number, values, raw)


def _missing_columns(item: Any, required: Sequence[str]) -> list[str]:
    if not isinstance(item, dict):
        return []
    return [name for name in required if name not in item]


def _jsonl_rows(
    stream: IO[bytes], columns: Sequence[str], required: Sequence[str]
) -> Iterator[Row]:
    if not _ends_with(stream, (b"\n",)):
        raise FileProblem(
            "The file is cut off: it does not end with a line break (or is empty), so its "
            "last line may be incomplete."
        )
    text = _text(stream)
    number = 0
    checked = False
    try:
        for line in text:
            number += 1
            if not line.strip():
                continue
            raw = line.strip()[:RAW_LIMIT]
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Row(number, None, raw, f"The line is not valid JSON: {exc.msg}.")
                continue
            if not checked:
                # The first object's fields stand for the file's: a feed missing a required
                # field is the wrong kind of file, not 200,000 bad rows.
                missing = _missing_columns(item, required)
                if missing:
                    raise FileProblem(f"The objects lack the field(s) {', '.join(missing)}.")
                checked = True
            yield _object_row(number, item, columns, raw)
    except UnicodeDecodeError as exc:
        raise FileProblem(
            f"The file is not UTF-8 text (near line {number}): {exc.reason}."
        ) from None
    finally:
        _release(text)
    if number == 0:
        raise FileProblem("The file is empty.")


def _json_rows(stream: IO[bytes], columns: Sequence[str], required: Sequence[str]) -> Iterator[Row]:
    """A top-level JSON array of objects, decoded one object at a time."""
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    buffer = ""
    position = 0  # in `buffer`
    consumed = 0  # characters dropped from the front of `buffer` so far
    eof = False

    def more() -> bool:
        nonlocal buffer, position, consumed, eof
        if eof:
            return False
        chunk = stream.read(CHUNK)
        try:
            text = utf8.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise FileProblem(
                f"The file is not UTF-8 text (near character {consumed + position}): {exc.reason}."
            ) from None
        if not chunk:
            eof = True
        # Drop what was read already, so the buffer holds about one chunk, not the file.
        buffer = buffer[position:] + text
        consumed += position
        position = 0
        return bool(chunk) or bool(text)

    def skip_space() -> str:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n":
                position += 1
            if position < len(buffer):
                return buffer[position]
            if not more():
                return ""

    def where() -> str:
        return f"character {consumed + position}"

    first = skip_space()
    if first == "":
        raise FileProblem("The file is empty.")
    if first != "[":
        raise FileProblem("The file is not a JSON array of rows (it must start with '[').")
    position += 1
    number = 0
    checked = False
    if skip_space() == "]":
        position += 1
    else:
        while True:
            if skip_space() == "":
                raise FileProblem(f"The file is cut off at {where()}: the JSON array does not end.")
            while True:
                try:
                    item, end = decoder.raw_decode(buffer, position)
                    break
                except json.JSONDecodeError as exc:
                    # Perhaps the object only continues in the next chunk; past a row's
                    # worth of bytes, or at the end of the file, the file is broken.
                    if len(buffer) - position > MAX_ROW_BYTES:
                        raise FileProblem(
                            f"The file is not valid JSON at {where()}: {exc.msg}."
                        ) from None
                    if not more():
                        raise FileProblem(
                            f"The file is cut off or not valid JSON at {where()}: {exc.msg}."
                        ) from None
            start = position
            number += 1
            raw = buffer[start:end][:RAW_LIMIT]
            position = end
            if not checked:
                missing = _missing_columns(item, required)
                if missing:
                    raise FileProblem(f"The objects lack the field(s) {', '.join(missing)}.")
                checked = True
            yield _object_row(number, item, columns, raw)
            following = skip_space()
            if following == ",":
                position += 1
                continue
            if following == "]":
                position += 1
                break
            if following == "":
                raise FileProblem(f"The file is cut off at {where()}: the JSON array does not end.")
            raise FileProblem(f"The file is not valid JSON at {where()}: expected ',' or ']'.")
    if skip_space() != "":
        raise FileProblem(f"Unexpected data after the JSON array at {where()}.")
