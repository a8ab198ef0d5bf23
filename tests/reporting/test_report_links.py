"""XLSX validation report: RULE_ID cells link to the rule catalogue; formula-like values stay text."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import polars as pl
import pytest
from python_calamine import CalamineWorkbook

from reporting.writers import write_report_xlsx
from reporting.writers import xlsx as xlsx_module
from tests.reporting.helpers import SUB_ID, example_11_4, finding, frame

FORMULA_LIKE = ["=1+1", "=cmd|' /C calc'!A0", "+44 1234", "-5", "@SUM(A1:A2)", '=HYPERLINK("http://x")']


def xlsx(findings: pl.DataFrame, **kw) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    write_report_xlsx(findings, None, submission_id=SUB_ID, out=buf, **kw)
    return buf.getvalue()


def test_rule_id_cells_link_to_the_rule_page() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(xlsx(example_11_4(), base_url="https://portal.example.nhs.uk/")))
    ws = wb["Findings"]
    assert ws["B1"].value == "RULE_ID" and ws["B1"].hyperlink is None
    for row in range(2, ws.max_row + 1):
        cell = ws.cell(row=row, column=2)
        assert cell.data_type == "s"
        assert cell.hyperlink is not None
        assert cell.hyperlink.target == f"https://portal.example.nhs.uk/rules/{cell.value}/"
    # Only RULE_ID cells are links.
    links = [c.coordinate for r in ws.iter_rows() for c in r if c.hyperlink is not None]
    assert all(re.fullmatch(r"B\d+", c) for c in links) and len(links) == ws.max_row - 1


def test_cell_text_is_the_rule_id_for_other_readers() -> None:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(xlsx(example_11_4(), base_url="https://p.example")))
    rows = wb.get_sheet_by_name("Findings").to_python()
    assert [r[1] for r in rows[1:]] == example_11_4()["rule_id"].to_list()


def test_default_base_url_comes_from_django_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PORTAL_BASE_URL = "https://iapt.example.org"
    ws = openpyxl.load_workbook(io.BytesIO(xlsx(example_11_4())))["Findings"]
    assert ws["B2"].hyperlink.target == f"https://iapt.example.org/rules/{ws['B2'].value}/"


def test_no_links_without_base_url(settings) -> None:  # type: ignore[no-untyped-def]
    ws = openpyxl.load_workbook(io.BytesIO(xlsx(example_11_4(), base_url=None)))["Findings"]
    assert all(c.hyperlink is None for r in ws.iter_rows() for c in r)
    settings.PORTAL_BASE_URL = ""
    ws = openpyxl.load_workbook(io.BytesIO(xlsx(example_11_4())))["Findings"]
    assert all(c.hyperlink is None for r in ws.iter_rows() for c in r)


def test_links_stop_at_excels_limit_per_sheet(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(xlsx_module, "EXCEL_MAX_URLS", 2)
    findings = frame(
        [finding("PER020", "WARNING", "Person", i, f"LPTID=P{i}", "NHSNO", None, "m") for i in range(1, 5)]
    )
    ws = openpyxl.load_workbook(io.BytesIO(xlsx(findings, base_url="https://p.example")))["Findings"]
    assert [ws.cell(row=r, column=2).hyperlink is not None for r in range(2, 6)] == [True, True, False, False]
    assert [ws.cell(row=r, column=2).value for r in range(2, 6)] == ["PER020"] * 4


@pytest.mark.parametrize("base_url", [None, "https://p.example"])
def test_formula_like_values_are_literal_strings(base_url: str | None) -> None:
    findings = frame(
        [
            finding("PER170", "WARNING", "Person", i, f"LPTID={v}", "GENDER", v, "m")
            for i, v in enumerate(FORMULA_LIKE, 1)
        ]
    )
    data = xlsx(findings, base_url=base_url)
    ws = openpyxl.load_workbook(io.BytesIO(data))["Findings"]
    values = [ws.cell(row=r, column=8).value for r in range(2, 2 + len(FORMULA_LIKE))]
    assert values == FORMULA_LIKE
    for r in range(2, 2 + len(FORMULA_LIKE)):
        for c in (6, 8):  # RECORD_KEY and VALUE
            assert ws.cell(row=r, column=c).data_type == "s"  # a string cell, not "f" (formula) or "n"
    # At the XML level no cell holds a formula: Excel shows the text and never evaluates it.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
