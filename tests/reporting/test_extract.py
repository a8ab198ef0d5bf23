from __future__ import annotations

import io
import zipfile

import openpyxl
import polars as pl
import pytest

from reporting.writers import ExcelRowLimitError, write_extract_xlsx, write_extract_zip
from reporting.writers import extract as extract_mod

from .helpers import AWKWARD, SUB_ID, excel_text

S = pl.String


def accepted() -> dict[str, pl.DataFrame]:
    n = len(AWKWARD)
    return {
        "Header": pl.DataFrame(
            {
                "ROW_NUMBER": [1],
                "IDBVERSION": ["1.5"],
                "ORGCODEPROVIDER": ["TSTP1"],
                "START_DATE": ["2017-11-01"],
                "END_DATE": ["2017-11-30"],
            },
            schema={
                "ROW_NUMBER": pl.Int64,
                "IDBVERSION": S,
                "ORGCODEPROVIDER": S,
                "START_DATE": S,
                "END_DATE": S,
            },
        ),
        "Person": pl.DataFrame(
            {
                "ROW_NUMBER": list(range(2, n + 2)),
                "LPTID": [f"P{i:04d}" for i in range(n)],
                "NHSNO": AWKWARD,
                "NHSNOSTATUS": ["01"] * (n - 1) + [None],
            },
            schema={"ROW_NUMBER": pl.Int64, "LPTID": S, "NHSNO": S, "NHSNOSTATUS": S},
        ),
        "Disability": pl.DataFrame(schema={"ROW_NUMBER": pl.Int64, "LPTID": S, "DISABILITY": S}),
    }


def zip_bytes(data) -> bytes:
    buf = io.BytesIO()
    write_extract_zip(data, submission_id=SUB_ID, out=buf)
    return buf.getvalue()


def test_zip_round_trip():
    data = accepted()
    zf = zipfile.ZipFile(io.BytesIO(zip_bytes(data)))
    assert zf.namelist() == ["Header.csv", "Person.csv", "Disability.csv"]
    for table, src in data.items():
        raw = zf.read(f"{table}.csv")
        assert not raw.startswith(b"\xef\xbb\xbf")
        back = pl.read_csv(io.BytesIO(raw), infer_schema=False)
        assert back.columns == ["SUBMISSION_ID", "ROW_NUMBER", *[c for c in src.columns if c != "ROW_NUMBER"]]
        assert back.height == src.height
        if src.height:
            assert back["SUBMISSION_ID"].to_list() == [SUB_ID] * src.height
            assert back["ROW_NUMBER"].to_list() == [str(v) for v in src["ROW_NUMBER"]]
            for c in src.columns[1:]:
                assert back[c].to_list() == src[c].to_list(), c
    assert zf.read("Disability.csv") == b"SUBMISSION_ID,ROW_NUMBER,LPTID,DISABILITY\r\n"


def test_zip_is_zip64_and_to_unseekable_stream():
    class Sink:
        def __init__(self):
            self.parts: list[bytes] = []

        def write(self, b):
            self.parts.append(bytes(b))
            return len(b)

        def flush(self):
            pass

    sink = Sink()
    write_extract_zip(accepted(), submission_id=SUB_ID, out=sink)
    zf = zipfile.ZipFile(io.BytesIO(b"".join(sink.parts)))
    assert zf.testzip() is None
    assert zf.getinfo("Person.csv").compress_type == zipfile.ZIP_DEFLATED


def test_zip_chunks_write_one_header(monkeypatch):
    monkeypatch.setattr(extract_mod, "EXTRACT_CSV_CHUNK_ROWS", 3)
    small = zip_bytes(accepted())
    monkeypatch.undo()
    big = zip_bytes(accepted())
    a = zipfile.ZipFile(io.BytesIO(small))
    b = zipfile.ZipFile(io.BytesIO(big))
    for name in a.namelist():
        assert a.read(name) == b.read(name)


def test_xlsx_extract_cells():
    data = accepted()
    buf = io.BytesIO()
    write_extract_xlsx(data, submission_id=SUB_ID, out=buf)
    wb = openpyxl.load_workbook(buf)
    assert wb.sheetnames == ["Header", "Person", "Disability"]
    for table, src in data.items():
        ws = wb[table]
        rows = list(ws.iter_rows())
        assert [c.value for c in rows[0]] == ["SUBMISSION_ID", "ROW_NUMBER", *src.columns[1:]]
        assert ws.freeze_panes == "A2"
        assert len(rows) == src.height + 1
        for cells, want in zip(rows[1:], src.iter_rows(), strict=True):
            assert cells[0].value == SUB_ID and cells[0].data_type == "s"
            assert cells[1].data_type == "n" and cells[1].value == want[0]
            for cell, v in zip(cells[2:], want[1:], strict=True):
                if v is None:
                    assert cell.value is None
                else:
                    assert cell.data_type == "s" and excel_text(cell.value) == v


def test_xlsx_extract_row_limit(monkeypatch):
    monkeypatch.setattr(extract_mod, "EXCEL_MAX_ROWS", 3)
    buf = io.BytesIO()
    with pytest.raises(ExcelRowLimitError, match="Person"):
        write_extract_xlsx(accepted(), submission_id=SUB_ID, out=buf)
    assert buf.getvalue() == b""
