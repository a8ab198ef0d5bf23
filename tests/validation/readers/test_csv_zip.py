"""CSV packages: FILE007 and the shape of the raw tables (spec 4.3)."""

from __future__ import annotations

import pytest

from validation.model import ROW
from validation.readers.csvfile import check_utf8, read_csv_table

from .helpers import make_zip, read, row_numbers, rows, rule_ids


def _read_entries(tmp_path, entries):
    return read(make_zip(tmp_path / "a.zip", entries))


def _one(tmp_path, data: bytes, name: str = "Person.csv"):
    res = _read_entries(tmp_path, {name: data})
    assert rule_ids(res) == []
    (table,) = res.tables
    return table


def test_basic_table(tmp_path):
    t = _one(tmp_path, b"LPTID,DOB\nP1,2000-01-01\nP2,\n")
    assert t.name == "Person"
    assert t.source == "Person.csv"
    assert t.headers == ["LPTID", "DOB"]
    assert t.access_types is None
    assert rows(t) == [("P1", "2000-01-01"), ("P2", "")]
    assert row_numbers(t) == [1, 2]
    assert t.frame.schema[ROW].is_integer()
    assert all(t.frame.schema[c] == __import__("polars").String for c in ("c0", "c1"))


def test_bom_crlf_quotes_and_newlines(tmp_path):
    data = '\ufeff LPTID ,"DOB"\r\n"P""1","line1\r\nline2"\r\n"",  x  \r\n'.encode()
    t = _one(tmp_path, data)
    assert t.headers == ["LPTID", "DOB"]
    assert rows(t) == [('P"1', "line1\r\nline2"), ("", "  x  ")]
    assert row_numbers(t) == [1, 2]


def test_values_are_untrimmed_and_null_is_text(tmp_path):
    t = _one(tmp_path, b"LPTID,DOB\n  P1\t,NULL\n")
    assert rows(t) == [("  P1\t", "NULL")]


def test_header_trim_uses_isspace(tmp_path):
    t = _one(tmp_path, "\u00a0LPTID\u2003,\tDOB \n1,2\n".encode())
    assert t.headers == ["LPTID", "DOB"]


def test_blank_and_duplicate_headers_kept(tmp_path):
    t = _one(tmp_path, b"LPTID,,DOB,LPTID, \nA,B,C,D,E\n")
    assert t.headers == ["LPTID", "", "DOB", "LPTID", ""]
    assert rows(t) == [("A", "B", "C", "D", "E")]


def test_empty_line_is_blank_row_keeping_its_number(tmp_path):
    t = _one(tmp_path, b"LPTID,DOB\nP1,x\n\nP2,y\n,\n")
    numbered = dict(zip(row_numbers(t), rows(t), strict=True))
    assert numbered[1] == ("P1", "x")
    assert numbered[3] == ("P2", "y")
    assert numbered[4] == ("", "")
    assert all(v in (None, "") for v in numbered.get(2, ("", "")))


def test_header_only_is_empty_table(tmp_path):
    t = _one(tmp_path, b"LPTID,DOB\r\n")
    assert t.headers == ["LPTID", "DOB"]
    assert t.frame.height == 0
    assert set(t.frame.columns) == {"c0", "c1", ROW}


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf"])
def test_zero_byte_csv_has_no_header(tmp_path, data):
    t = _one(tmp_path, data)
    assert t.headers == []
    assert t.frame.height == 0
    assert ROW in t.frame.columns


def test_no_final_newline(tmp_path):
    t = _one(tmp_path, b"LPTID,DOB\nP1,x")
    assert rows(t) == [("P1", "x")]


def test_bare_quote_inside_unquoted_field(tmp_path):
    # RFC 4180 leniency: a quote inside an unquoted field is literal (polars refuses; csv module fallback).
    t = _one(tmp_path, b'LPTID,DOB\nP1,ab"c\nP2,d\n')
    assert rows(t) == [("P1", 'ab"c'), ("P2", "d")]


def test_single_column_empty_line(tmp_path):
    t = _one(tmp_path, b"LPTID\nA\n\nB\n")
    assert row_numbers(t) == [1, 2, 3]
    assert rows(t)[0] == ("A",) and rows(t)[2] == ("B",)


@pytest.mark.parametrize(
    "data",
    [
        "LPTID,DOB\nP1,caf\xe9\n".encode("latin-1"),  # Latin-1
        b"LPTID,DOB\nP1,\xff\xfe\n",
        "LPTID,DOB\n".encode("utf-16"),  # UTF-16 with BOM
        b'LPTID,DOB\nP1,"abc\nP2,x\n',  # unterminated quote
        b'LPTID,DOB\nP1,"abc',  # unterminated at EOF
        b"LPTID,DOB\nP1\n",  # too few fields
        b"LPTID,DOB\nP1,x,y\n",  # too many fields
        b"LPTID,DOB\nP1,x\n  \n",  # a whitespace-only line is one field, not an empty line
        b'LPTID,DOB\nP1,"abc"def\n',  # text after a closing quote
    ],
    ids=[
        "latin1",
        "bad-bytes",
        "utf16",
        "unterminated",
        "unterminated-eof",
        "short",
        "long",
        "ws-line",
        "after-quote",
    ],
)
def test_file007(tmp_path, data):
    res = _read_entries(tmp_path, {"Person.csv": data, "Header.csv": b"IDBVERSION\n1.5.05\n"})
    assert rule_ids(res) == ["FILE007"]
    (f,) = res.findings
    assert f.table == "Person"
    assert f.value == "Person.csv"
    assert [t.name for t in res.tables] == ["Header"]


def test_file007_one_finding_per_entry(tmp_path):
    res = _read_entries(
        tmp_path,
        {"Person.csv": b"A,B\n1\n", "Referral.CSV": b"A\n\xe9\n", "Header.csv": b"IDBVERSION\n1.5.05\n"},
    )
    assert sorted((f.rule_id, f.table, f.value) for f in res.findings) == [
        ("FILE007", "Person", "Person.csv"),
        ("FILE007", "Referral", "Referral.CSV"),
    ]


def test_file007_for_every_table_of_section_3_even_unused(tmp_path):
    res = _read_entries(tmp_path, {"MUSSymptom.csv": b"A\n\xe9\n"})
    assert rule_ids(res) == ["FILE007"]


def test_non_table_entry_is_returned_unparsed(tmp_path):
    res = _read_entries(
        tmp_path, {"person.csv": b"A\n\xe9\n", "Extra.Csv": b"x,y\n1\n", "Person.csv": b"A\n1\n"}
    )
    assert rule_ids(res) == []
    by_source = {t.source: t for t in res.tables}
    assert set(by_source) == {"person.csv", "Extra.Csv", "Person.csv"}
    assert by_source["person.csv"].name == "person"
    assert by_source["Extra.Csv"].name == "Extra"
    assert by_source["Person.csv"].headers == ["A"]


def test_same_table_twice_both_returned(tmp_path):
    res = _read_entries(tmp_path, {"Person.csv": b"A\n1\n", "Person.CSV": b"A\n2\n"})
    assert rule_ids(res) == []
    assert sorted((t.name, t.source) for t in res.tables) == [
        ("Person", "Person.CSV"),
        ("Person", "Person.csv"),
    ]


def test_entry_order_is_zip_order(tmp_path):
    res = _read_entries(
        tmp_path, {"Referral.csv": b"A\n1\n", "Header.csv": b"A\n1\n", "Person.csv": b"A\n1\n"}
    )
    assert [t.name for t in res.tables] == ["Referral", "Header", "Person"]


def test_check_utf8_across_chunk_boundary(tmp_path, monkeypatch):
    import validation.readers.csvfile as csvfile

    monkeypatch.setattr(csvfile, "_CHUNK", 3)
    p = tmp_path / "x.csv"
    p.write_bytes("aé€😀".encode())  # multi-byte sequences split across 3-byte chunks
    assert check_utf8(p)
    p.write_bytes("aé€😀".encode()[:-1])
    assert not check_utf8(p)


def test_read_csv_table_direct(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes(b"A,B\n1,2\n")
    t = read_csv_table(p, name="Person", source="Person.csv")
    assert rows(t) == [("1", "2")]


def test_many_rows_numbered(tmp_path):
    body = b"".join(b"P%d,x\n" % i for i in range(20_000))
    t = _one(tmp_path, b"LPTID,DOB\n" + body)
    assert t.frame.height == 20_000
    assert row_numbers(t)[-1] == 20_000
    assert rows(t)[-1] == ("P19999", "x")
