from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import openpyxl
import polars as pl
import pytest
from python_calamine import CalamineWorkbook

from reporting.writers import (
    REPORT_COLUMNS,
    parse_record_key,
    write_report_csv,
    write_report_json,
    write_report_xlsx,
)
from reporting.writers import report as report_mod
from reporting.writers.report import write_csv_chunked
from validation.model import FINDING_COLUMNS, Outcome, TableCounts

from .helpers import AWKWARD, SUB_ID, awkward_findings, example_11_4, excel_text, finding, frame

COUNTS = {
    "Appointment": TableCounts(read=3, accepted=1, rejected_record=1, rejected_group=1, with_warnings=1),
    "Person": TableCounts(read=1, accepted=1),
    "Referral": TableCounts(read=2, accepted=1, rejected_group=1, with_warnings=1),
    "Header": TableCounts(read=1, accepted=1),
}


def expected_rows(findings: pl.DataFrame) -> list[list[str]]:
    out = []
    for r in findings.iter_rows(named=True):
        out.append(
            [
                SUB_ID,
                r["rule_id"],
                r["severity"],
                r["table"] or "",
                "" if r["row_number"] is None else str(r["row_number"]),
                r["record_key"] or "",
                r["column"] or "",
                r["value"] or "",
                r["message"],
            ]
        )
    return out


def csv_bytes(findings: pl.DataFrame, **kw) -> bytes:
    buf = io.BytesIO()
    write_report_csv(findings, submission_id=SUB_ID, out=buf, **kw)
    return buf.getvalue()


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


# --------------------------------------------------------------------------------------------- CSV


def test_csv_example_11_4_exact_text():
    data = csv_bytes(example_11_4())
    assert data.decode("utf-8") == (
        "SUBMISSION_ID,RULE_ID,SEVERITY,TABLE,ROW_NUMBER,RECORD_KEY,COLUMN,VALUE,MESSAGE\r\n"
        "TSTP1-0000012,REF260,WARNING,Referral,1,SERVICEID=R0001;LPTID=P0001,ENDDATE,2017-11-20,"
        "Discharge date and end code must be given together.\r\n"
        "TSTP1-0000012,REF120,GROUP_REJECT,Referral,2,SERVICEID=R0009;LPTID=P0099,LPTID,P0099,"
        "No person exists for this local patient identifier.\r\n"
        "TSTP1-0000012,APP240,WARNING,Appointment,1,APPTID=A0001;SERVICEID=R0001,PHQ9_SCORE,31,"
        "Score is outside the valid range for the measure.\r\n"
        "TSTP1-0000012,APP170,RECORD_REJECT,Appointment,2,APPTID=A0002;SERVICEID=R0001,ATTENDANCE,8,"
        "Value is not in the code list.\r\n"
        "TSTP1-0000012,APP130,GROUP_REJECT,Appointment,3,APPTID=X0001;SERVICEID=R0009,SERVICEID,R0009,"
        "The parent referral was rejected.\r\n"
    )


def test_csv_awkward_values_round_trip_unchanged():
    findings = awkward_findings()
    data = csv_bytes(findings)
    assert not data.startswith(b"\xef\xbb\xbf")
    rows = read_csv(data)
    assert rows[0] == list(REPORT_COLUMNS)
    assert rows[1:] == expected_rows(findings)
    values = [r[7] for r in rows[3 : 3 + len(AWKWARD)]]
    assert values == AWKWARD  # not altered: no formula escaping, no trimming, no number conversion


def test_csv_rfc4180_quoting():
    data = csv_bytes(awkward_findings()).decode("utf-8")
    assert '"a,b ""quoted"""' in data
    assert '"line1\nline2"' in data
    assert ",=1+1," in data  # written as received (documented: CSV is a faithful export)
    assert "Message 1, with comma" in data and '"Message 1, with comma"' in data


def test_csv_bom_option():
    data = csv_bytes(example_11_4(), bom=True)
    assert data.startswith(b"\xef\xbb\xbfSUBMISSION_ID,")
    assert data.count(b"\xef\xbb\xbf") == 1


def test_csv_empty_findings_header_only():
    assert (
        csv_bytes(frame([]))
        == b"SUBMISSION_ID,RULE_ID,SEVERITY,TABLE,ROW_NUMBER,RECORD_KEY,COLUMN,VALUE,MESSAGE\r\n"
    )


def test_csv_chunks_write_one_header():
    findings = awkward_findings()
    from reporting.writers.common import report_frame

    buf = io.BytesIO()
    write_csv_chunked(report_frame(findings, SUB_ID), buf, chunk_rows=3)
    assert buf.getvalue() == csv_bytes(findings)


def test_csv_to_write_only_stream():
    class Sink:
        def __init__(self):
            self.parts: list[bytes] = []

        def write(self, b):
            self.parts.append(bytes(b))
            return len(b)

    sink = Sink()
    write_report_csv(example_11_4(), submission_id=SUB_ID, out=sink)
    assert b"".join(sink.parts) == csv_bytes(example_11_4())


def test_missing_columns_rejected():
    with pytest.raises(ValueError):
        write_report_csv(pl.DataFrame({"rule_id": ["X"]}), submission_id=SUB_ID, out=io.BytesIO())


# --------------------------------------------------------------------------------------------- XLSX


def xlsx_bytes(findings: pl.DataFrame, counts=COUNTS) -> bytes:
    buf = io.BytesIO()
    write_report_xlsx(findings, counts, submission_id=SUB_ID, out=buf)
    return buf.getvalue()


def test_xlsx_cells_are_strings_and_row_numbers_numbers():
    findings = awkward_findings()
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(findings)))
    assert wb.sheetnames == ["Findings", "Counts"]
    ws = wb["Findings"]
    rows = list(ws.iter_rows())
    assert [c.value for c in rows[0]] == list(REPORT_COLUMNS)
    assert all(c.font.b for c in rows[0])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:I{findings.height + 1}"
    expected = expected_rows(findings)
    assert len(rows) == 1 + len(expected)
    for cells, exp in zip(rows[1:], expected, strict=True):
        for i, (cell, want) in enumerate(zip(cells, exp, strict=True)):
            if want == "":
                assert cell.value is None
            elif REPORT_COLUMNS[i] == "ROW_NUMBER":
                assert cell.data_type == "n"
                assert cell.value == int(want)
            else:
                assert cell.data_type == "s", (REPORT_COLUMNS[i], want, cell.value)
                assert excel_text(cell.value) == want
    # Widths were set (not Excel's default 8.43) and capped
    assert 8 <= ws.column_dimensions["I"].width <= 101


def test_xlsx_escapes_survive_in_excel_reader():
    # Literal _xHHHH_ text and control characters must come back unchanged (calamine decodes OOXML
    # escapes as Excel does; openpyxl does not decode inline strings).
    tricky = ["_x0041_", "a\x01b", "tab\there", *AWKWARD]
    findings = frame(
        [
            finding("PER020", "WARNING", "Person", i, f"LPTID={v}", "NHSNO", v, "m")
            for i, v in enumerate(tricky, 1)
        ]
    )
    wb = CalamineWorkbook.from_filelike(io.BytesIO(xlsx_bytes(findings)))
    rows = wb.get_sheet_by_name("Findings").to_python()
    assert [r[7] for r in rows[1:]] == tricky
    assert [r[5] for r in rows[1:]] == [f"LPTID={v}" for v in tricky]


def test_xlsx_counts_sheet():
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(example_11_4())))
    rows = [[c.value for c in r] for r in wb["Counts"].iter_rows()]
    assert rows == [
        [
            "TABLE",
            "ROWS_READ",
            "ROWS_ACCEPTED",
            "ROWS_REJECTED_RECORD",
            "ROWS_REJECTED_GROUP",
            "ROWS_WITH_WARNINGS",
        ],
        ["Header", 1, 1, 0, 0, 0],
        ["Person", 1, 1, 0, 0, 0],
        ["Referral", 2, 1, 0, 1, 1],
        ["Appointment", 3, 1, 1, 1, 1],
    ]
    assert all(isinstance(v, int) for r in rows[1:] for v in r[1:])


def test_xlsx_no_counts_and_no_findings():
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame([]), counts=None)))
    assert wb.sheetnames == ["Findings", "Counts"]
    assert [c.value for c in next(wb["Findings"].iter_rows())] == list(REPORT_COLUMNS)
    assert wb["Findings"].max_row == 1
    assert wb["Counts"].max_row == 1


@pytest.mark.parametrize(("n", "sheets"), [(6, 2), (7, 3), (3, 1)])
def test_xlsx_findings_continue_on_next_sheet(monkeypatch, n, sheets):
    monkeypatch.setattr(report_mod, "EXCEL_MAX_ROWS", 4)  # header + 3 data rows per sheet
    findings = frame(
        [
            finding("PER020", "WARNING", "Person", i, f"LPTID=P{i}", "NHSNO", "01", "m")
            for i in range(1, n + 1)
        ]
    )
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(findings)))
    names = ["Findings"] + [f"Findings ({k})" for k in range(2, sheets + 1)]
    assert wb.sheetnames == [*names, "Counts"]
    got = []
    for name in names:
        rows = list(wb[name].iter_rows(values_only=True))
        assert list(rows[0]) == list(REPORT_COLUMNS)
        assert len(rows) <= 4
        got.extend(r[4] for r in rows[1:])
    assert got == list(range(1, n + 1))


# --------------------------------------------------------------------------------------------- JSON


SUBMISSION = {
    "submission_id": SUB_ID,
    "provider": "TSTP1",
    "reporting_period": "2017-11",
    "window_type": "Primary",
    "profile": "P15STD",
    "received_at": datetime(2017, 12, 5, 14, 3, 27, 123456, tzinfo=UTC),
    "status": Outcome.PARTIALLY_ACCEPTED,
    "file_name": "idb.mdb",
    "ignored": "x",
}


def json_obj(findings, counts=COUNTS, out_text=False, **kw):
    if out_text:
        s = io.StringIO()
        write_report_json(findings, counts, submission=SUBMISSION, out=s, **kw)
        return json.loads(s.getvalue())
    b = io.BytesIO()
    write_report_json(findings, counts, submission=SUBMISSION, out=b, **kw)
    return json.loads(b.getvalue().decode("utf-8"))


def test_json_shape_example_11_4():
    obj = json_obj(example_11_4())
    assert list(obj) == ["submission", "counts", "findings"]
    assert obj["submission"] == {
        "submission_id": "TSTP1-0000012",
        "provider": "TSTP1",
        "reporting_period": "2017-11",
        "window_type": "Primary",
        "profile": "P15STD",
        "received_at": "2017-12-05T14:03:27+00:00",
        "status": "Partially accepted",
        "file_name": "idb.mdb",
    }
    assert list(obj["submission"]) == list(report_mod.SUBMISSION_FIELDS)
    assert obj["counts"][0] == {
        "table": "Header",
        "rows_read": 1,
        "rows_accepted": 1,
        "rows_rejected_record": 0,
        "rows_rejected_group": 0,
        "rows_with_warnings": 0,
    }
    assert [c["table"] for c in obj["counts"]] == ["Header", "Person", "Referral", "Appointment"]
    assert obj["findings"][0] == {
        "rule_id": "REF260",
        "severity": "WARNING",
        "table": "Referral",
        "row_number": 1,
        "record_key": {"SERVICEID": "R0001", "LPTID": "P0001"},
        "column": "ENDDATE",
        "value": "2017-11-20",
        "message": "Discharge date and end code must be given together.",
    }
    assert list(obj["findings"][0]) == [
        "rule_id",
        "severity",
        "table",
        "row_number",
        "record_key",
        "column",
        "value",
        "message",
    ]
    assert list(obj["findings"][4]["record_key"]) == ["APPTID", "SERVICEID"]
    assert [f["rule_id"] for f in obj["findings"]] == ["REF260", "REF120", "APP240", "APP170", "APP130"]


def test_json_bst_offset_and_text_stream():
    sub = dict(SUBMISSION, received_at=datetime(2018, 6, 1, 9, 0, 0, tzinfo=UTC))
    s = io.StringIO()
    write_report_json(frame([]), None, submission=sub, out=s)
    obj = json.loads(s.getvalue())
    assert obj["submission"]["received_at"] == "2018-06-01T10:00:00+01:00"
    assert obj["counts"] == []
    assert obj["findings"] == []


def test_json_awkward_values_and_blanks():
    obj = json_obj(awkward_findings(), out_text=True)
    f = obj["findings"]
    assert f[0]["row_number"] is None and f[0]["record_key"] is None and f[0]["value"] is None
    assert f[0]["table"] == "Person" and f[0]["column"] == "EXTRA"
    assert f[1]["table"] is None and f[1]["column"] is None and f[1]["value"] is None
    assert [x["value"] for x in f[2 : 2 + len(AWKWARD)]] == AWKWARD
    assert [x["record_key"] for x in f[2 : 2 + len(AWKWARD)]] == [{"LPTID": v} for v in AWKWARD]
    assert f[-1]["record_key"] == {"SERVICEID": "R;1=2", "LPTID": "P=1;x"}


def test_json_non_ascii_written_as_utf8():
    b = io.BytesIO()
    write_report_json(awkward_findings(), None, submission=SUBMISSION, out=b)
    assert "caf\u00e9".encode() in b.getvalue()


def test_json_header_finding_with_row_has_empty_key():
    findings = frame(
        [finding("HDR070", "FILE_REJECT", "Header", 1, None, "START_DATE", "2017-11-02", "m", "HEADER")]
    )
    assert json_obj(findings)["findings"][0]["record_key"] == {}


def test_json_structured_key_column_used_verbatim():
    findings = frame(
        [finding("REF120", "GROUP_REJECT", "Referral", 1, "SERVICEID=A;LPTID=B;LPTID=C", "LPTID", "x", "m")]
    ).with_columns(pl.Series("record_key_values", [["A;LPTID=B", "C"]], dtype=pl.List(pl.String)))
    assert json_obj(findings)["findings"][0]["record_key"] == {"SERVICEID": "A;LPTID=B", "LPTID": "C"}


def test_json_naive_received_at_refused():
    with pytest.raises(ValueError):
        write_report_json(
            frame([]), None, submission=dict(SUBMISSION, received_at=datetime(2017, 1, 1)), out=io.StringIO()
        )


# --------------------------------------------------------------------------------------------- record key


@pytest.mark.parametrize(
    ("text", "keys", "expected"),
    [
        ("APPTID=A0002;SERVICEID=R0001", ("APPTID", "SERVICEID"), {"APPTID": "A0002", "SERVICEID": "R0001"}),
        ("LPTID=", ("LPTID",), {"LPTID": ""}),
        ("LPTID=;DISABILITY=05", ("LPTID", "DISABILITY"), {"LPTID": "", "DISABILITY": "05"}),
        ("LPTID=a;b=c", ("LPTID",), {"LPTID": "a;b=c"}),
        (
            "SERVICEID=R1;X=;ASSESSPEQDATE=2017-01-01;ASSESSPEQTIME=",
            ("SERVICEID", "ASSESSPEQDATE", "ASSESSPEQTIME"),
            {"SERVICEID": "R1;X=", "ASSESSPEQDATE": "2017-01-01", "ASSESSPEQTIME": ""},
        ),
        ("SERVICEID=R1;LPTID=P1", (), {"SERVICEID": "R1", "LPTID": "P1"}),
        ("OTHER=1;KEY=a;b", ("APPTID",), {"OTHER": "1", "KEY": "a;b"}),
        ("", ("LPTID",), {}),
        (None, ("LPTID",), {}),
    ],
)
def test_parse_record_key(text, keys, expected):
    assert parse_record_key(text, keys) == expected


def test_finding_columns_unchanged():
    # The writers are built against this contract; fail loudly if it moves.
    assert list(FINDING_COLUMNS) == [
        "rule_id",
        "severity",
        "stage",
        "table",
        "row_number",
        "record_key",
        "column",
        "value",
        "message",
    ]
