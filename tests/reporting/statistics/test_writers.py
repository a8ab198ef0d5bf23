"""CSV, XLSX and JSON writers of the 10.6 statistics."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import polars as pl
import pytest

from reporting.statistics import (
    OUTPUT_COLUMNS,
    compute_statistics,
    statistics_bytes,
    statistics_file_name,
    write_statistics_csv,
)

from .helpers import PERIOD, provider_one, provider_two


@pytest.fixture(scope="module")
def stats() -> pl.DataFrame:
    subs = [provider_one().submission(), provider_two().submission()]
    return compute_statistics(subs, period=PERIOD, status="Provisional", detail=True)


def expected_rows(stats: pl.DataFrame) -> list[list[str]]:
    return [list(r) for r in stats.select(OUTPUT_COLUMNS).iter_rows()]


def test_csv(stats: pl.DataFrame) -> None:
    data = statistics_bytes(stats, "csv")
    assert data.startswith(b"REPORTING_PERIOD,STATUS,LEVEL,ORG_CODE,MEASURE_ID,MEASURE_NAME,VALUE\r\n")
    assert b"NUMERATOR" not in data and b"RAW" not in data  # detail columns are never written
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == list(OUTPUT_COLUMNS)
    assert rows[1:] == expected_rows(stats)
    assert rows[1][:5] == [PERIOD, "Provisional", "National", "", "M01"]
    assert '"Finished treatment, waited ≤ 6 weeks"' in data.decode("utf-8")  # quoted: contains a comma
    buf = io.BytesIO()
    write_statistics_csv(stats, buf, bom=True)
    assert buf.getvalue().startswith(b"\xef\xbb\xbfREPORTING_PERIOD")


def test_json(stats: pl.DataFrame) -> None:
    rows = json.loads(statistics_bytes(stats, "json"))
    assert rows[0] == {
        "REPORTING_PERIOD": PERIOD,
        "STATUS": "Provisional",
        "LEVEL": "National",
        "ORG_CODE": "",
        "MEASURE_ID": "M01",
        "MEASURE_NAME": "Referrals received",
        "VALUE": "18",
    }
    assert [list(r.values()) for r in rows] == expected_rows(stats)
    assert all(isinstance(v, str) for r in rows for v in r.values())


def test_xlsx_values_are_strings(stats: pl.DataFrame) -> None:
    data = statistics_bytes(stats, "xlsx")
    assert statistics_bytes(stats, "xlsx") == data  # deterministic
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Statistics"]
    ws = wb["Statistics"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == list(OUTPUT_COLUMNS)
    # openpyxl reads an empty string cell back as None
    assert [[v if v is not None else "" for v in r] for r in rows[1:]] == expected_rows(stats)
    types = {c.data_type for r in ws.iter_rows(min_row=2) for c in r if c.value is not None}
    assert types == {"s"}  # "71.2" and "100" stay text
    assert ws.freeze_panes == "A2"


def test_unknown_format_and_missing_columns(stats: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="format"):
        statistics_bytes(stats, "pdf")
    with pytest.raises(ValueError, match="VALUE"):
        statistics_bytes(stats.drop("VALUE"), "csv")
    assert statistics_file_name("2017-11", "Final", "csv") == "IAPT_STATS_2017-11_Final.csv"
