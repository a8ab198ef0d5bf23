"""A large CSV entry: read through the line/comma shortcut, few-valued columns parsed as Categorical."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from validation.readers import csvfile
from validation.readers.csvfile import CATEGORICAL_SAMPLE_ROWS, read_csv_table


def _rows(n: int) -> list[bytes]:
    return [b",".join([b"01" if i % 3 else b"", b" 2 ", str(i).encode()]) for i in range(n)]


def test_large_entry_few_valued_columns_are_categorical(tmp_path: Path) -> None:
    path = tmp_path / "T.csv"
    path.write_bytes(b"\n".join([b"A,B,ID", *_rows(CATEGORICAL_SAMPLE_ROWS + 5)]) + b"\n")
    raw = read_csv_table(path, name="T", source="T.csv")
    assert raw.headers == ["A", "B", "ID"]
    assert isinstance(raw.frame.schema["c0"], pl.Categorical)
    assert isinstance(raw.frame.schema["c1"], pl.Categorical)
    assert raw.frame.schema["c2"] == pl.String  # one value per row: stays text
    assert raw.frame.height == CATEGORICAL_SAMPLE_ROWS + 5
    first = raw.frame.row(0)
    assert (first[0] or "", first[1], first[2]) == ("", " 2 ", "0")  # a blank cell may come back as null
    assert raw.frame.row(1)[:3] == ("01", " 2 ", "1")


def test_small_entry_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "T.csv"
    path.write_bytes(b"\n".join([b"A,B,ID", *_rows(100)]) + b"\n")
    raw = read_csv_table(path, name="T", source="T.csv")
    assert all(raw.frame.schema[c] == pl.String for c in ("c0", "c1", "c2"))


def test_short_record_in_a_large_entry_is_file007(tmp_path: Path) -> None:
    rows = _rows(CATEGORICAL_SAMPLE_ROWS + 5)
    rows[CATEGORICAL_SAMPLE_ROWS] = b"01, 2 "
    path = tmp_path / "T.csv"
    path.write_bytes(b"\n".join([b"A,B,ID", *rows]) + b"\n")
    try:
        read_csv_table(path, name="T", source="T.csv")
    except csvfile.CsvInvalid as exc:
        assert "[2] fields" in str(exc)
    else:
        raise AssertionError("FILE007 expected")
