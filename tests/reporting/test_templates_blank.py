"""Blank templates: exact header rows, and the portal's own readers and engine accept their structure."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from reporting.templates_blank import template_bytes, template_tables
from validation.dataset import DATASET
from validation.engine import run_engine
from validation.model import ROW, OrganisationRegister, RawTable, ReadResult, RegisterEntry, UploadContext
from validation.readers import read_file

CASES = [("P15STD", False), ("P15STD", True), ("P15LTC", False), ("P15LTC", True)]


def expected_tables(profile: str, with_ea: bool) -> list[str]:
    p = DATASET.profiles[profile]
    names = set(p.required_tables) | ({"EmploymentAdviser"} if with_ea else set())
    return [n for n in DATASET.tables if n in names]


def ctx(profile: str) -> UploadContext:
    return UploadContext(
        org_code="TSTP1",
        period="2017-11",
        window_type="Primary",
        received_at=datetime(2017, 12, 5, 14, 3, 27, tzinfo=UTC),
        window_opens_on=date(2017, 12, 1),
        register=OrganisationRegister(
            {
                "TSTP1": RegisterEntry(
                    "TSTP1", "Test", "PROVIDER", ltc_mus_pilot=profile == "P15LTC", ea_pilot=True
                )
            }
        ),
        file_name="template",
    )


def with_header_row(read: ReadResult, profile: str) -> ReadResult:
    """The same read result with one valid Header row typed in (as a user fills in the template)."""
    values = {
        "IDBVERSION": DATASET.profiles[profile].idb_version,
        "ORGCODEPROVIDER": "TSTP1",
        "START_DATE": "2017-11-01",
        "END_DATE": "2017-11-30",
    }
    tables = []
    for t in read.tables:
        if t.name == "Header":
            data = {f"c{i}": [values[h]] for i, h in enumerate(t.headers)} | {ROW: [1]}
            t = RawTable(
                t.name, t.source, t.headers, pl.DataFrame(data, schema=t.frame.schema), t.access_types
            )
        tables.append(t)
    return ReadResult(kind=read.kind, tables=tables, findings=read.findings)


@pytest.mark.parametrize(("profile", "with_ea"), CASES)
def test_zip_holds_header_only_csv_files(profile: str, with_ea: bool) -> None:
    with zipfile.ZipFile(io.BytesIO(template_bytes(profile, "zip", with_ea=with_ea))) as zf:
        names = zf.namelist()
        assert names == [f"{t}.csv" for t in expected_tables(profile, with_ea)]
        for name in names:
            raw = zf.read(name)
            assert not raw.startswith(b"\xef\xbb\xbf")
            assert b"\r" not in raw
            text = raw.decode("utf-8")
            assert text.endswith("\n") and text.count("\n") == 1
            table = DATASET.tables[name.removesuffix(".csv")]
            assert text.rstrip("\n").split(",") == list(table.column_names)


@pytest.mark.parametrize(("profile", "with_ea"), CASES)
def test_xlsx_has_one_sheet_per_table_with_the_exact_header(profile: str, with_ea: bool) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes(profile, "xlsx", with_ea=with_ea)))
    assert wb.sheetnames == expected_tables(profile, with_ea)
    for ws in wb.worksheets:
        table = DATASET.tables[ws.title]
        header = [c.value for c in ws[1]]
        assert header == list(table.column_names)
        assert ws.max_row == 1
        assert ws.freeze_panes == "A2"
        assert all(c.font.bold for c in ws[1])
        for cell in ws[1]:
            col = table.column(cell.value)
            assert cell.comment is not None
            assert f"({col.obligation})" in cell.comment.text
            if col.codelist:
                assert col.codelist in cell.comment.text
        assert ws.column_dimensions["A"].width and ws.column_dimensions["A"].width >= 10


def test_template_tables_rejects_unknown_profile() -> None:
    with pytest.raises(KeyError):
        template_tables("P20")


@pytest.mark.parametrize("ext", ["zip", "xlsx"])
@pytest.mark.parametrize(("profile", "with_ea"), CASES)
def test_readers_and_engine_find_only_the_empty_tables(
    tmp_path: Path, ext: str, profile: str, with_ea: bool
) -> None:
    path = tmp_path / f"template.{ext}"
    path.write_bytes(template_bytes(profile, ext, with_ea=with_ea))
    read = read_file(path, file_name=path.name, dataset=DATASET)
    assert read.findings == []
    assert sorted(t.name for t in read.tables) == sorted(expected_tables(profile, with_ea))

    # As downloaded: the Header table has no row, which ends validation at the HEADER stage.
    result = run_engine(read, ctx(profile))
    assert result.findings.select("rule_id", "table").rows() == [("HDR010", "Header")]

    # With its Header row filled in, every other table's structure passes (no FILE010-FILE016):
    # the only findings left say Person and Referral are empty.
    result = run_engine(with_header_row(read, profile), ctx(profile))
    assert result.profile == profile
    assert sorted(result.findings.select("rule_id", "table").rows()) == [
        ("FILE020", "Person"),
        ("FILE020", "Referral"),
    ]
