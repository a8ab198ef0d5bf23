"""Unit checks of the Jet 4 writer's encodings against the blank database and the published format."""

from __future__ import annotations

import struct
from datetime import date, datetime, time

import pytest

from validation.jet4 import (
    DateTime,
    Jet4Error,
    Long,
    TableDef,
    Text,
    datetime_to_double,
    encode_text,
    write_mdb,
)
from validation.jet4._blank import blank_jet4
from validation.jet4.writer import (
    INDEX_LEAF_ACES_OBJECT_ID,
    INDEX_LEAF_OBJECTS_ID,
    INDEX_LEAF_OBJECTS_PARENT_NAME,
    PAGE,
    build_leaf,
    leaf_entries,
    long_key,
    sort_key_text,
)

BLANK = blank_jet4()


def _page(n: int) -> bytes:
    return BLANK[n * PAGE : (n + 1) * PAGE]


@pytest.mark.parametrize(
    "number", [INDEX_LEAF_OBJECTS_ID, INDEX_LEAF_OBJECTS_PARENT_NAME, INDEX_LEAF_ACES_OBJECT_ID]
)
def test_leaf_pages_of_the_blank_database_are_rebuilt_byte_for_byte(number: int) -> None:
    page = _page(number)
    assert build_leaf(page, leaf_entries(page)) == page


def test_catalog_name_keys_match_the_ones_jet_wrote() -> None:
    entries = leaf_entries(_page(INDEX_LEAF_OBJECTS_PARENT_NAME))
    names = {
        0x0F000000: ["Databases", "Relationships", "Tables"],
        0x0F000001: ["MSysACEs", "MSysObjects", "MSysQueries", "MSysRelationships"],
        0x0F000002: ["MSysDb"],
    }
    keys = {long_key(parent) + sort_key_text(n) for parent, ns in names.items() for n in ns}
    assert {e[:-4] for e in entries} == keys


def test_long_keys() -> None:
    assert long_key(2) == b"\x7f\x80\x00\x00\x02"
    assert long_key(-1) == b"\x7f\x7f\xff\xff\xff"
    assert long_key(-1) < long_key(0) < long_key(1)


def test_text_encoding() -> None:
    assert encode_text("") == b""
    assert encode_text("ab") == "ab".encode("utf-16-le")  # compressing would not be shorter
    assert encode_text("abc") == b"\xff\xfeabc"
    assert encode_text("café") == b"\xff\xfecaf\xe9"
    assert encode_text("€uro") == "€uro".encode("utf-16-le")


def test_dates() -> None:
    assert datetime_to_double(date(1899, 12, 30)) == 0.0
    assert datetime_to_double(date(1900, 1, 1)) == 2.0
    assert datetime_to_double(datetime(2017, 11, 30, 18, 0)) == 43069.75
    assert datetime_to_double(time(6, 0)) == 0.25
    # before 1899-12-30: negative day, the time still counted forward from midnight (OLE date)
    assert datetime_to_double(datetime(1899, 12, 29, 18, 0)) == -1.75
    assert datetime_to_double(date(1899, 12, 29)) == -1.0


def test_bad_values_and_names(tmp_path) -> None:  # type: ignore[no-untyped-def]
    t = TableDef("People", (Text("Name", 3), Long("Age"), DateTime("Born")))
    with pytest.raises(Jet4Error, match="row 1: Name: 4 characters"):
        write_mdb(tmp_path / "a.mdb", [t], {"People": [("Anna", 1, None)]})
    with pytest.raises(Jet4Error, match="row 2: Age"):
        write_mdb(tmp_path / "a.mdb", [t], {"People": [("Ann", 1, None), ("Bob", 2**31, None)]})
    with pytest.raises(Jet4Error, match="Born"):
        write_mdb(tmp_path / "a.mdb", [t], {"People": [("Ann", 1, "2017-02-30")]})
    with pytest.raises(Jet4Error, match="2 values for 3 columns"):
        write_mdb(tmp_path / "a.mdb", [t], {"People": [("Ann", 1)]})
    with pytest.raises(ValueError, match="table name"):
        TableDef("Table_1", (Text("A"),))
    with pytest.raises(ValueError, match="duplicate"):
        TableDef("T", (Text("A"), Long("a")))
    with pytest.raises(Jet4Error, match="same name"):
        write_mdb(tmp_path / "b.mdb", [TableDef("T", (Text("A"),)), TableDef("t", (Text("A"),))])


def test_catalog_row_count_is_raised(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_mdb(tmp_path / "c.mdb", [TableDef("A", (Text("X"),)), TableDef("B", (Text("X"),))])
    data = path.read_bytes()
    assert (
        struct.unpack_from("<I", data, 2 * PAGE + 16)[0]
        == struct.unpack_from("<I", BLANK, 2 * PAGE + 16)[0] + 2
    )
