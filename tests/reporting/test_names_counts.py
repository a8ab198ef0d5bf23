from __future__ import annotations

import pytest

from reporting.writers import (
    COUNT_FIELDS,
    COUNT_HEADERS,
    COUNT_LABELS,
    counts_rows,
    extract_file_name,
    report_file_name,
    submission_id,
)
from validation.model import TableCounts


@pytest.mark.parametrize("ext", ["csv", "xlsx", "json", "CSV"])
def test_report_file_name(ext):
    assert (
        report_file_name("TSTP1", "2017-11", "Primary", 12, ext)
        == f"TSTP1_2017-11_Primary_0000012_validation.{ext.lower()}"
    )


def test_report_file_name_refresh_and_str_id():
    assert (
        report_file_name("RXX", "2018-03", "Refresh", "1234567", "json")
        == "RXX_2018-03_Refresh_1234567_validation.json"
    )
    assert (
        report_file_name("RXX", "2018-03", "Refresh", 12345678, "csv")
        == "RXX_2018-03_Refresh_12345678_validation.csv"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("TSTP1", "2017-13", "Primary", 1, "csv"),
        ("TSTP1", "2017-11", "primary", 1, "csv"),
        ("TSTP1", "2017-11", "Primary", 0, "csv"),
        ("TSTP1", "2017-11", "Primary", -1, "csv"),
        ("TSTP1", "2017-11", "Primary", 1, "txt"),
        ("TS/P1", "2017-11", "Primary", 1, "csv"),
        ('T"P1', "2017-11", "Primary", 1, "csv"),
    ],
)
def test_report_file_name_refuses_bad_parts(args):
    with pytest.raises(ValueError):
        report_file_name(*args)


def test_extract_file_name_and_submission_id():
    assert (
        extract_file_name("TSTP1", "2017-11", "Primary", 12, "zip")
        == "TSTP1_2017-11_Primary_0000012_extract.zip"
    )
    assert submission_id("TSTP1", 12) == "TSTP1-0000012"


def test_counts_rows_order_and_names():
    counts = {
        "Zeta": TableCounts(read=1),
        "Referral": TableCounts(2, 1, 0, 1, 1),
        "Header": TableCounts(1, 1),
    }
    rows = counts_rows(counts)
    assert [r["table"] for r in rows] == ["Header", "Referral", "Zeta"]
    assert rows[1] == {
        "table": "Referral",
        "rows_read": 2,
        "rows_accepted": 1,
        "rows_rejected_record": 0,
        "rows_rejected_group": 1,
        "rows_with_warnings": 1,
    }
    assert counts_rows(None) == [] and counts_rows({}) == []
    assert [COUNT_HEADERS[f] for f in COUNT_FIELDS] == [
        "TABLE",
        "ROWS_READ",
        "ROWS_ACCEPTED",
        "ROWS_REJECTED_RECORD",
        "ROWS_REJECTED_GROUP",
        "ROWS_WITH_WARNINGS",
    ]
    assert set(COUNT_LABELS) == set(COUNT_FIELDS)


def test_default_report_keys_match_dataset_definition():
    dataset = pytest.importorskip("validation.dataset")
    from reporting.writers import DEFAULT_REPORT_KEYS, TABLE_ORDER

    tables = dataset.DATASET.tables
    assert tuple(tables) == TABLE_ORDER
    assert {t.name: tuple(t.report_key) for t in tables.values()} == DEFAULT_REPORT_KEYS
