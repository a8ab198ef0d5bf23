"""Access IDBs through mdbtools (spec 4.2), on the real Access files of /work/shared/fixtures/mdb."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import polars as pl
import pytest

from validation.dataset.schema import ColumnType
from validation.readers import ACCESS_TYPES_ALLOWED
from validation.readers.access import (
    _HEADER_MASK,
    _column_expr,
    access_type,
    double_text,
    header_protection,
    single_text,
)

from .helpers import read, row_numbers, rows, rule_ids

FIXTURES = Path("/work/shared/fixtures/mdb")
pytestmark = pytest.mark.skipif(shutil.which("mdb-export") is None, reason="mdbtools not installed")


def _only(res):
    assert rule_ids(res) == []
    assert res.kind == "mdb"
    (t,) = res.tables
    return t


def test_jet3_fpdev():
    t = _only(read(FIXTURES / "jet3-fpdev-8rows.mdb"))
    assert t.name == "FPdev" and t.source == "FPdev"
    assert t.headers == ["id", "UserName", "InstEmail"]
    assert t.access_types == ["Long Integer", "Text", "Text"]
    assert row_numbers(t) == list(range(1, 9))
    data = rows(t)
    # mdb-export order (not sorted by id): 6 comes last.
    assert [r[0] for r in data] == ["1", "2", "3", "4", "5", "7", "8", "6"]
    assert data[0] == ("1", "Michael Van Canneyt", "Michael@tfdec1.fys.kuleuven.ac.be")


def test_jet4_monitor_types_and_values():
    t = _only(read(FIXTURES / "jet4-monitor-1row.mdb", "monitor.MDB"))
    assert t.name == "Monitor_Authenticate"
    assert t.headers[:5] == ["ID", "LineNumber", "LinePassword", "LineSpeed", "EMail_Address"]
    assert t.access_types == [
        "Long Integer",
        "Numeric",
        "Text",
        "Numeric",
        "Text",
        "Boolean",
        "Boolean",
        "Boolean",
        "Boolean",
        "Boolean",
        "DateTime",
        "Text",
    ]
    (row,) = rows(t)
    assert row[:5] == ("1", "1234567890", "12345678", "33600", "nobody@sunnyline.co.za")
    assert row[5:10] == ("TRUE", "TRUE", "TRUE", "TRUE", "FALSE")
    assert row[10] == "2000-06-17"  # date part of 2000-06-17 20:36:24
    assert row[11] == "Example Circuit Added For Monitor Example To Potential New Clients"


def test_jet4_merchant_taylors():
    t = _only(read(FIXTURES / "jet4-merchant-taylors-20rows.mdb"))
    assert t.name == "merchant_taylors"
    assert "Date of order of Court" in t.headers and "Source Ref" in t.headers
    types = dict(zip(t.headers, t.access_types, strict=True))
    assert types["Remarks"] == "Memo"
    assert types["Freedom"] == "DateTime"
    assert types["Id No"] == "Long Integer"
    assert t.frame.height == 20
    data = rows(t)
    by_id = {r[0]: r for r in data}
    freedom = t.headers.index("Freedom")
    assert by_id["22"][freedom] == "1911-11-07"
    assert by_id["1"][t.headers.index("Notes")] == "Order of Court"
    assert by_id["1"][t.headers.index("Forenames_Master_or_Father")] is None  # NULL
    assert by_id["25491"][1] == "'"
    # mdbtools cannot convert dates before 1899-12-30: it prints day 0, which later fails the date check.
    assert by_id["1"][freedom] == "1900-01-00"


def test_accdb_extension_reads_jet_file(tmp_path):
    p = tmp_path / "IDB.ACCDB"
    shutil.copy(FIXTURES / "jet4-monitor-1row.mdb", p)
    assert _only(read(p)).name == "Monitor_Authenticate"


def test_fixtures_have_no_password():
    for f in FIXTURES.glob("*.mdb"):
        assert header_protection(f) is None, f


def _with_password(src: Path, dest: Path, password: str, *, jet3: bool = False) -> Path:
    page = bytearray(src.read_bytes())
    dec = bytearray(page[:0x100])
    for k, m in enumerate(_HEADER_MASK):
        dec[0x18 + k] ^= m
    raw = password.encode("latin-1" if jet3 else "utf-16-le")
    if not jet3:
        (when,) = struct.unpack_from("<d", dec, 0x72)
        mask = struct.pack("<i", int(when))
        raw = bytes(b ^ mask[i % 4] for i, b in enumerate(raw))
    dec[0x42 : 0x42 + len(raw)] = raw
    for k, m in enumerate(_HEADER_MASK):
        dec[0x18 + k] ^= m
    page[:0x100] = dec
    dest.write_bytes(bytes(page))
    return dest


@pytest.mark.parametrize("fixture", ["jet4-monitor-1row.mdb", "jet3-fpdev-8rows.mdb"])
def test_password_protected_mdb_is_file005(tmp_path, fixture):
    p = _with_password(FIXTURES / fixture, tmp_path / "locked.mdb", "secret", jet3=fixture.startswith("jet3"))
    assert header_protection(p) == "password"
    assert rule_ids(read(p)) == ["FILE005"]


def test_encoded_mdb_is_file005(tmp_path):
    page = bytearray((FIXTURES / "jet4-monitor-1row.mdb").read_bytes())
    key_pos = 0x3E
    page[key_pos] ^= 0x5A  # a non-zero encoding key once unmasked
    p = tmp_path / "enc.mdb"
    p.write_bytes(bytes(page))
    assert header_protection(p) == "encoded"
    assert rule_ids(read(p)) == ["FILE005"]


@pytest.mark.parametrize("payload", [b"Standard Jet DB" + b"\0" * 100, b"\0" * 8192, b"PK\x03\x04 a zip"])
def test_not_access_is_file005(tmp_path, payload):
    p = tmp_path / "x.mdb"
    p.write_bytes(payload)
    assert rule_ids(read(p)) == ["FILE005"]


def test_truncated_mdb_is_file005(tmp_path):
    p = tmp_path / "t.mdb"
    p.write_bytes((FIXTURES / "jet4-merchant-taylors-20rows.mdb").read_bytes()[:4096])
    assert rule_ids(read(p)) == ["FILE005"]


# --- value conversion ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("2.3", "2.3"),
        ("2.29999995", "2.3"),
        ("2.2999999523162842", "2.3"),
        ("0.1", "0.1"),
        ("1.25", "1.25"),
        ("5", "5"),
        ("16777216", "16777216"),
        ("1e-05", "0.00001"),
        ("1.5e+10", "15000000000"),
        ("-0", "0"),
        ("3.4028235e+38", "340282350000000000000000000000000000000"),
        ("3.4028234e+38", "340282350000000000000000000000000000000"),
    ],
)
def test_single_text(printed, expected):
    assert single_text(printed) == expected


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("2.3", "2.3"),
        ("2.299999999999999", "2.299999999999999"),
        ("0.1", "0.1"),
        ("1e-05", "0.00001"),
        ("4", "4"),
    ],
)
def test_double_text(printed, expected):
    assert double_text(printed) == expected


def test_numeric_currency_and_datetime_expressions():
    df = pl.DataFrame(
        {
            "n": ["12.3400", "5", "0.0000", "-1.50", None, "100"],
            "d": [
                "2017-01-02 24:00:00",
                "2017-01-02 09:05:00",
                "1900-01-00 00:00:00",
                None,
                "2017-01-02 00:00:00",
                "x",
            ],
        }
    )
    out = df.select(
        _column_expr("n", "Currency", False),
        _column_expr("d", "DateTime", True).alias("t"),
        _column_expr("d", "DateTime", False).alias("date"),
    )
    assert out.get_column("n").to_list() == ["12.34", "5", "0", "-1.5", None, "100"]
    assert out.get_column("t").to_list() == ["23:59:59", "09:05:00", "00:00:00", None, "00:00:00", ""]
    assert out.get_column("date").to_list() == [
        "2017-01-02",
        "2017-01-02",
        "1900-01-00",
        None,
        "2017-01-02",
        "x",
    ]


def test_access_type_vocabulary():
    assert access_type("Memo/Hyperlink", {}) == "Memo"
    assert access_type("Memo/Hyperlink", {"IsHyperlink": "yes"}) == "Hyperlink"
    assert access_type("Long Integer", {"Expression": "[a]+[b]"}) == "Calculated"
    assert access_type("DateTime (Short)", {}) == "DateTime"
    assert access_type("Weird", {}) == "Unknown Weird"
    assert ACCESS_TYPES_ALLOWED[ColumnType.TIME] == frozenset({"DateTime", "Text"})
    assert "Hyperlink" not in ACCESS_TYPES_ALLOWED[ColumnType.TEXT]
