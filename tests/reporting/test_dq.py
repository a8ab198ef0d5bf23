"""Data quality summary (spec 10.2) on hand-built accepted frames, and its writers."""

from __future__ import annotations

import io
import json

import openpyxl
import polars as pl
import pytest

from reporting.dq import (
    DQ_COLUMNS,
    dq_report,
    dq_summary,
    open_serviceids,
    pathway_continuity,
    valid_pct,
    write_dq_csv,
    write_dq_json,
    write_dq_xlsx,
)
from tests.validation.builders import run, valid_file
from validation.dataset import DATASET
from validation.model import TableCounts

MEASURES = ["VALID", "OTHER", "DEFAULT", "INVALID", "MISSING"]


def frame(table: str, rows: list[dict[str, str | None]]) -> pl.DataFrame:
    cols = DATASET.tables[table].column_names
    data: dict[str, list] = {"ROW_NUMBER": list(range(1, len(rows) + 1))}
    for c in cols:
        data[c] = [r.get(c) for r in rows]
    return pl.DataFrame(data, schema={"ROW_NUMBER": pl.Int64} | {c: pl.String for c in cols})


def line(summary: pl.DataFrame, table: str, column: str) -> dict:
    rows = summary.filter((pl.col("TABLE") == table) & (pl.col("COLUMN") == column)).to_dicts()
    assert len(rows) == 1
    return rows[0]


def measures(summary: pl.DataFrame, table: str, column: str) -> tuple[int, ...]:
    d = line(summary, table, column)
    return tuple(d[m] for m in MEASURES)


@pytest.mark.parametrize(
    ("valid", "total", "expected"),
    [
        (1, 16, "6.3"),  # 6.25 -> 6.3 (half-up; float rounding gives 6.2)
        (0, 16, "0.0"),
        (16, 16, "100.0"),
        (1, 3, "33.3"),
        (2, 3, "66.7"),
        (1, 8, "12.5"),
        (1, 80, "1.3"),  # 1.25
        (7, 1600, "0.4"),  # 0.4375
        (1, 2000, "0.1"),  # 0.05 -> 0.1
        (1, 2001, "0.0"),
        (0, 0, None),
    ],
)
def test_valid_pct_is_exact_half_up(valid: int, total: int, expected: str | None) -> None:
    assert valid_pct(valid, total) == expected


def test_one_of_sixteen_is_6_3_in_the_summary() -> None:
    rows = [{"LPTID": f"P{i}", "GENDER": "1" if i == 0 else "X"} for i in range(16)]
    summary = dq_summary({"Person": frame("Person", rows)})
    d = line(summary, "Person", "GENDER")
    assert (d["VALID"], d["DEFAULT"], d["TOTAL"], d["VALID_PCT"]) == (1, 15, 16, "6.3")


def test_columns_and_order() -> None:
    summary = dq_summary({"Referral": frame("Referral", []), "Person": frame("Person", [])})
    assert tuple(summary.columns) == DQ_COLUMNS
    # spec section 3 table order, spec 3.5 column order
    expected = [("Person", c) for c in DATASET.tables["Person"].column_names] + [
        ("Referral", c) for c in DATASET.tables["Referral"].column_names
    ]
    assert summary.select("TABLE", "COLUMN").rows() == expected
    assert summary["TOTAL"].to_list() == [0] * len(expected)
    assert summary["VALID_PCT"].to_list() == [None] * len(expected)


def test_person_classification() -> None:
    rows = [
        {
            "LPTID": "P1",
            "NHSNOSTATUS": "01",
            "DOB": "1980-01-01",
            "POSTCODE": "LS1 4AP",
            "GENDER": "1",
            "GMPC": "B86001",
            "ETHNICITY": "A",
            "RELIGION": "K1",
            "SEXUALORIENTATION": "U",
            "BAFINDICATOR": "02",
        },
        {
            "LPTID": "P2",
            "NHSNOSTATUS": "07",
            "DOB": None,
            "POSTCODE": "ZZ99 3VZ",
            "GENDER": "X",
            "GMPC": "V81999",
            "ETHNICITY": "S",
            "RELIGION": "M1",
            "SEXUALORIENTATION": "4",
            "BAFINDICATOR": "UU",
        },
        {
            "LPTID": "P3",
            "NHSNOSTATUS": "",
            "DOB": "",
            "POSTCODE": "LS14AP",
            "GENDER": "Q",
            "GMPC": "V81997",
            "ETHNICITY": "99",
            "RELIGION": "ZZ",
            "SEXUALORIENTATION": None,
            "BAFINDICATOR": "9",
        },
        {
            "LPTID": "P4",
            "NHSNOSTATUS": None,
            "DOB": None,
            "POSTCODE": "LS1 4AP EXTRA",
            "GENDER": None,
            "GMPC": None,
            "ETHNICITY": "Z",
            "RELIGION": None,
            "SEXUALORIENTATION": "2",
            "BAFINDICATOR": None,
        },
    ]
    s = dq_summary({"Person": frame("Person", rows)})
    #                                              V  O  D  I  M
    assert measures(s, "Person", "LPTID") == (4, 0, 0, 0, 0)
    assert measures(s, "Person", "NHSNO") == (0, 0, 0, 0, 4)
    assert measures(s, "Person", "NHSNOSTATUS") == (2, 0, 0, 0, 2)
    assert measures(s, "Person", "DOB") == (1, 0, 0, 0, 3)
    assert measures(s, "Person", "POSTCODE") == (1, 0, 1, 2, 0)
    assert measures(s, "Person", "GENDER") == (1, 0, 1, 1, 1)
    assert measures(s, "Person", "GMPC") == (1, 0, 2, 0, 1)
    assert measures(s, "Person", "ETHNICITY") == (1, 1, 2, 0, 0)
    assert measures(s, "Person", "RELIGION") == (0, 1, 1, 1, 1)
    assert measures(s, "Person", "SEXUALORIENTATION") == (1, 1, 1, 0, 1)
    assert measures(s, "Person", "BAFINDICATOR") == (1, 0, 1, 1, 1)
    for d in s.iter_rows(named=True):
        assert sum(d[m] for m in MEASURES) == d["TOTAL"] == 4


def test_referral_provdiag_is_open_list_with_icd10_check() -> None:
    rows = [
        {"SERVICEID": "R1", "PROVDIAG": "F32.1", "ONSETDATE": "2017-09", "ENDDATE": None, "ENDCODE": "96"},
        {"SERVICEID": "R2", "PROVDIAG": "Z99", "ONSETDATE": None, "ENDDATE": "2017-11-20", "ENDCODE": "46"},
        {"SERVICEID": "R3", "PROVDIAG": "DEPRESS", "SOURCEREFERRAL": "M6", "CARECLUSTER": "00"},
        {"SERVICEID": "R4", "PROVDIAG": "F4", "SOURCEREFERRAL": "A1", "CARECLUSTER": "99"},
    ]
    s = dq_summary({"Referral": frame("Referral", rows)})
    assert measures(s, "Referral", "PROVDIAG") == (2, 0, 0, 2, 0)
    assert measures(s, "Referral", "ONSETDATE") == (1, 0, 0, 0, 3)
    assert measures(s, "Referral", "ENDDATE") == (1, 0, 0, 0, 3)
    assert measures(s, "Referral", "ENDCODE") == (1, 0, 1, 0, 2)
    assert measures(s, "Referral", "SOURCEREFERRAL") == (1, 1, 0, 0, 2)
    assert measures(s, "Referral", "CARECLUSTER") == (0, 1, 0, 1, 2)


def test_ranges_are_compared_exactly() -> None:
    rows = [
        {
            "APPTID": "A1",
            "PHQ9_SCORE": "27",
            "AGORASCOREACC": "5",
            "GENANXSCORE": "16",
            "CONTACTDURATION": "9999",
        },
        {"APPTID": "A2", "PHQ9_SCORE": "28", "AGORASCOREACC": "5.01", "GENANXSCORE": "15"},
        {"APPTID": "A3", "PHQ9_SCORE": "0", "AGORASCOREACC": "0.99", "GENANXSCORE": "80"},
        {"APPTID": "A4", "PHQ9_SCORE": None, "AGORASCOREACC": "1", "GENANXSCORE": "81"},
    ]
    s = dq_summary({"Appointment": frame("Appointment", rows)})
    assert measures(s, "Appointment", "PHQ9_SCORE") == (2, 0, 0, 1, 1)
    assert measures(s, "Appointment", "AGORASCOREACC") == (2, 0, 0, 2, 0)
    assert measures(s, "Appointment", "GENANXSCORE") == (2, 0, 0, 2, 0)
    assert measures(s, "Appointment", "CONTACTDURATION") == (1, 0, 0, 0, 3)


def test_tables_from_counts_without_frame_and_unknown_tables() -> None:
    counts = {"Header": TableCounts(1, 1), "Disability": TableCounts(0, 0)}
    s = dq_summary({"Header": frame("Header", [{"IDBVERSION": "1.5.05"}]), "Notes": pl.DataFrame()}, counts)
    assert s["TABLE"].unique(maintain_order=True).to_list() == ["Header", "Disability"]
    assert measures(s, "Header", "IDBVERSION") == (1, 0, 0, 0, 0)
    assert line(s, "Disability", "DISABILITY")["TOTAL"] == 0


def test_pathway_continuity() -> None:
    referrals = frame("Referral", [{"SERVICEID": "R1"}, {"SERVICEID": "R2", "ENDDATE": "2017-11-03"}])
    assert pathway_continuity(referrals, None) == "n/a"
    assert pathway_continuity(referrals, set()) == 0
    assert pathway_continuity(referrals, {"R1", "R2", "R9", "R8"}) == 2
    assert pathway_continuity(None, {"R1"}) == 1
    assert open_serviceids(referrals) == {"R1"}
    assert open_serviceids(None) == set()


def report():  # type: ignore[no-untyped-def]
    rows = [{"LPTID": f"P{i}", "GENDER": "1" if i == 0 else "X"} for i in range(16)]
    counts = {"Person": TableCounts(read=17, accepted=16, rejected_record=1)}
    return dq_report(
        {"Person": frame("Person", rows), "Referral": frame("Referral", [{"SERVICEID": "R1"}])},
        counts,
        submission_id="TSTP1-0000012",
        previous_open_serviceids={"R1", "R7"},
    )


def test_csv_writer() -> None:
    buf = io.BytesIO()
    write_dq_csv(report(), buf)
    raw = buf.getvalue()
    assert not raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8").split("\r\n")
    assert lines[0] == "SUBMISSION_ID," + ",".join(DQ_COLUMNS)
    assert "TSTP1-0000012,Person,GENDER,1,0,15,0,0,16,6.3" in lines
    assert "TSTP1-0000012,Person,RELIGION,0,0,0,0,16,16,0.0" in lines


def test_xlsx_writer() -> None:
    buf = io.BytesIO()
    write_dq_xlsx(report(), buf)
    wb = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    assert wb.sheetnames == ["DQ", "Counts", "Summary"]
    ws = wb["DQ"]
    header = [c.value for c in ws[1]]
    assert header == ["SUBMISSION_ID", *DQ_COLUMNS]
    rows = {(r[1], r[2]): r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[("Person", "GENDER")][3:] == (1, 0, 15, 0, 0, 16, "6.3")
    assert ws["A1"].font.bold and ws.freeze_panes == "A2"
    counts = list(wb["Counts"].iter_rows(values_only=True))
    assert counts[1] == ("Person", 17, 16, 1, 0, 0)
    assert list(wb["Summary"].iter_rows(values_only=True))[1] == ("TSTP1-0000012", 1)


def test_json_writer() -> None:
    buf = io.BytesIO()
    write_dq_json(report(), buf)
    obj = json.loads(buf.getvalue())
    assert obj["submission_id"] == "TSTP1-0000012"
    assert obj["pathway_continuity"] == 1
    assert obj["counts"][0]["table"] == "Person" and obj["counts"][0]["rows_accepted"] == 16
    gender = next(c for c in obj["columns"] if c["table"] == "Person" and c["column"] == "GENDER")
    assert gender == {
        "table": "Person",
        "column": "GENDER",
        "valid": 1,
        "other": 0,
        "default": 15,
        "invalid": 0,
        "missing": 0,
        "total": 16,
        "valid_pct": 6.3,
    }
    text = io.StringIO()
    write_dq_json(dq_report({"Disability": frame("Disability", [])}, None, submission_id="X-1"), text)
    obj = json.loads(text.getvalue())
    assert obj["pathway_continuity"] == "n/a" and obj["counts"] == []
    assert obj["columns"][0]["valid_pct"] is None


def test_summary_of_an_engine_result_adds_up() -> None:
    tables = valid_file()
    tables["Person"][0]["GENDER"] = "Q"  # warns (PER170): loaded, INVALID
    tables["Person"][0]["POSTCODE"] = "ZZ99 3VZ"
    result = run(tables)
    assert result.outcome.successful
    s = dq_summary(result.accepted, result.counts)
    assert measures(s, "Person", "GENDER") == (0, 0, 0, 1, 0)
    assert measures(s, "Person", "POSTCODE") == (0, 0, 1, 0, 0)
    assert measures(s, "Referral", "PROVDIAG") == (1, 0, 0, 0, 0)
    for d in s.iter_rows(named=True):
        assert sum(d[m] for m in MEASURES) == d["TOTAL"] == result.counts[d["TABLE"]].accepted
