"""Reading the vendor's exports: a bad row is a row, a bad or cut-off file is the file."""

from __future__ import annotations

import io
import json
import re

import pytest

from claims_portal.partner_system import formats
from claims_portal.partner_system.formats import FileProblem, read_rows

COLUMNS = ["tenant_id", "workload", "date"]


def _read(content: bytes | str, fmt: str) -> list[formats.Row]:
    data = content.encode() if isinstance(content, str) else content
    return list(read_rows(io.BytesIO(data), fmt, columns=COLUMNS, required=COLUMNS))


def _values(rows):
    return [(r.number, list(r.values), r.problem) for r in rows]


# --- CSV ---------------------------------------------------------------------------------


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them():
    rows = _read(
        "tenant_id,workload,date,extra\na,teams,2026-01-01,x\n\nb,intune,2026-01-02,y\n", "csv"
    )
    assert _values(rows) == [
        (2, ["a", "teams", "2026-01-01"], ""),
        (4, ["b", "intune", "2026-01-02"], ""),
    ]


def test_csv_with_bom_crlf_and_header_case_reads():
    rows = _read("\ufeffTenant_ID,Workload,DATE\r\na,teams,2026-01-01\r\n", "csv")
    assert list(rows[0].values) == ["a", "teams", "2026-01-01"]


def test_csv_columns_in_another_order_come_back_in_the_order_asked_for():
    rows = _read("date,extra,workload,tenant_id\n2026-01-01,x,teams,a\n", "csv")
    assert list(rows[0].values) == ["a", "teams", "2026-01-01"]
    assert rows[0].raw == "2026-01-01,x,teams,a"


def test_a_csv_row_with_the_wrong_number_of_cells_is_a_bad_row():
    rows = _read("tenant_id,workload,date\na,teams\nb,teams,2026-01-01\n", "csv")
    assert rows[0].values is None and rows[0].problem == "The row has 2 cells; the header 3."
    assert rows[1].values is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "cut off"),
        ("tenant_id,workload,date\na,teams,2026-01-01", "cut off"),  # no final line break
        ("tenant_id,workload\na,teams\n", "lacks the column(s) date"),
        (b"tenant_id,workload,date\n\xff\xfe,x,y\n", "not UTF-8"),
        (b"tenant_id,workload,date\na,\x00b,c\n", "NUL bytes"),
        ('tenant_id,workload,date\n"a,teams,2026-01-01\n', "not valid CSV"),
    ],
)
def test_a_bad_csv_file_is_refused_whole(content, message):
    with pytest.raises(FileProblem, match=re.escape(message)):
        _read(content, "csv")


# --- JSON array -----------------------------------------------------------------------


def _item(n: int) -> dict:
    return {"tenant_id": f"t{n}", "workload": "teams", "date": "2026-01-01"}


def test_a_json_array_streams_across_chunks(monkeypatch):
    monkeypatch.setattr(formats, "CHUNK", 7)  # every object straddles chunk boundaries
    content = json.dumps([_item(n) for n in range(50)], indent=1)
    rows = _read(content, "json")
    assert [r.values[0] for r in rows] == [f"t{n}" for n in range(50)]
    assert rows[-1].number == 50


def test_json_numbers_and_nulls_read_as_text_and_a_non_object_is_a_bad_row():
    content = json.dumps(
        [
            {"tenant_id": "a", "workload": "teams", "date": "2026-01-01", "extra": 1},
            {"tenant_id": 42, "workload": None, "date": True},
            ["not", "an", "object"],
        ]
    )
    rows = _read(content, "json")
    assert rows[1].values == ["42", "", "true"]
    assert rows[2].values is None and "not an object" in rows[2].problem


def test_an_empty_json_array_has_no_rows():
    assert _read(" [ ] \n", "json") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ('{"rows": []}', "not a JSON array"),
        ('[{"tenant_id": "a", "workload": "teams", "date": "2026-01-01"}', "cut off"),
        ('[{"tenant_id": "a", "workload": "teams", "date": "2026-01-01"},', "cut off"),
        ('[{"tenant_id": "a", "workload": "tea', "cut off"),
        (
            '[{"tenant_id": "a", "workload": "teams", "date": "2026-01-01"} {"x": 1}]',
            "expected ','",
        ),
        (
            '[{"tenant_id": "a", "workload": "teams", "date": "2026-01-01"}] trailing',
            "after the JSON",
        ),
        ('[{"tenant_id": tru}]', "not valid JSON"),
        ('[{"tenant_id": "a", "workload": "teams"}]', "lack the field(s) date"),
        (b'[{"tenant_id": "\xff"}]', "not UTF-8"),
    ],
)
def test_a_bad_or_cut_off_json_file_is_refused_whole(content, message):
    with pytest.raises(FileProblem, match=re.escape(message)):
        _read(content, "json")


def test_a_json_file_cut_off_after_many_good_rows_is_still_refused(monkeypatch):
    monkeypatch.setattr(formats, "CHUNK", 1024)
    content = json.dumps([_item(n) for n in range(5000)])[:-40]
    with pytest.raises(FileProblem, match="cut off"):
        _read(content, "json")


def test_one_enormous_json_value_is_refused_rather_than_buffered(monkeypatch):
    monkeypatch.setattr(formats, "MAX_ROW_BYTES", 1000)
    content = '[{"tenant_id": "' + "x" * 5000
    with pytest.raises(FileProblem):
        _read(content, "json")


# --- JSON lines ---------------------------------------------------------------------


def test_json_lines_a_bad_line_is_a_bad_row():
    content = "\n".join([json.dumps(_item(1)), "{not json", "", json.dumps(_item(2))]) + "\n"
    rows = _read(content, "jsonl")
    assert [(r.number, bool(r.values)) for r in rows] == [(1, True), (2, False), (4, True)]
    assert "not valid JSON" in rows[1].problem


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "cut off"),
        (json.dumps(_item(1)) + "\n" + '{"tenant_id": "t2", "wor', "cut off"),
        ('{"tenant_id": "a"}\n', "lack the field(s) workload, date"),
    ],
)
def test_a_bad_json_lines_file_is_refused_whole(content, message):
    with pytest.raises(FileProblem, match=re.escape(message)):
        _read(content, "jsonl")


def test_an_unknown_format_is_refused():
    with pytest.raises(FileProblem, match="Unknown format"):
        _read("x\n", "xml")
