"""FILE003-FILE006 and the order of the READ stage (spec 6.1)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from validation.readers import file_kind, read_file
from validation.readers.common import BadZipContent
from validation.readers.limits import MAX_UNZIPPED_BYTES, MAX_UPLOAD_BYTES
from validation.readers.zippkg import Extractor, open_package

from .helpers import DATASET, make_zip, read, rule_ids, set_encrypted_flag, zip_bytes

PERSON = b"LPTID,DOB\r\nP1,2000-01-01\r\n"
FIXTURES = Path("/work/shared/fixtures/mdb")


def test_default_limits():
    assert MAX_UPLOAD_BYTES == 512 * 1024 * 1024
    assert MAX_UNZIPPED_BYTES == 2 * 1024 * 1024 * 1024


@pytest.mark.parametrize(
    "name", ["data.xls", "data.xlsm", "data.ods", "Person.csv", "data", "data.zip.txt", "x.mdbx"]
)
def test_file003_unsupported_extension(tmp_path, name):
    p = tmp_path / "upload"
    p.write_bytes(b"whatever")
    res = read(p, name)
    assert rule_ids(res) == ["FILE003"]
    assert res.tables == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.MDB", "mdb"), ("a.AccDB", "mdb"), ("A.ZIP", "csvzip"), ("DATA.XLSX", "xlsx"), ("a.xls", None)],
)
def test_file_kind_case_insensitive(name, kind):
    assert file_kind(name) == kind


def test_file003_before_file004(tmp_path):
    p = tmp_path / "empty"
    p.write_bytes(b"")
    assert rule_ids(read(p, "x.xls")) == ["FILE003"]


@pytest.mark.parametrize("name", ["a.xlsx", "a.zip", "a.mdb", "a.accdb"])
def test_file004_zero_bytes(tmp_path, name):
    p = tmp_path / "upload"
    p.write_bytes(b"")
    assert rule_ids(read(p, name)) == ["FILE004"]


def test_file004_too_large(tmp_path):
    p = make_zip(tmp_path / "a.zip", {"Person.csv": PERSON})
    size = p.stat().st_size
    assert rule_ids(read(p, max_upload=size - 1)) == ["FILE004"]
    assert rule_ids(read(p, max_upload=size)) == []


@pytest.mark.parametrize("name", ["a.zip", "a.xlsx", "a.mdb", "a.accdb"])
def test_file005_garbage(tmp_path, name):
    p = tmp_path / "upload"
    p.write_bytes(os.urandom(5000))
    res = read(p, name)
    assert rule_ids(res) == ["FILE005"]
    assert res.tables == []


def test_file005_truncated_zip(tmp_path):
    p = make_zip(tmp_path / "a.zip", {"Person.csv": PERSON * 100})
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    assert rule_ids(read(p)) == ["FILE005"]


def test_file005_encrypted_entry_flag(tmp_path):
    p = make_zip(tmp_path / "a.zip", {"Person.csv": PERSON, "Header.csv": b"IDBVERSION\n1.5.05\n"})
    set_encrypted_flag(p)
    assert rule_ids(read(p)) == ["FILE005"]


@pytest.mark.skipif(shutil.which("zip") is None, reason="zip tool not installed")
def test_file005_password_protected_zip(tmp_path):
    (tmp_path / "Person.csv").write_bytes(PERSON)
    out = tmp_path / "enc.zip"
    subprocess.run(["zip", "-q", "-P", "secret", "-j", str(out), str(tmp_path / "Person.csv")], check=True)
    assert rule_ids(read(out)) == ["FILE005"]


def test_file005_before_file006(tmp_path):
    # Nested zip (FILE006) and an encrypted entry (FILE005): FILE005 is checked first.
    p = make_zip(tmp_path / "a.zip", {"inner.zip": zip_bytes({"Person.csv": PERSON}), "Person.csv": PERSON})
    set_encrypted_flag(p)
    assert rule_ids(read(p)) == ["FILE005"]


def test_encrypted_entry_in_subfolder_is_ignored(tmp_path):
    # Build a zip whose only encrypted entry is under __MACOSX/.
    p = make_zip(tmp_path / "a.zip", {"__MACOSX/._Person.csv": b"junk"})
    set_encrypted_flag(p)
    with zipfile.ZipFile(p, "a") as zf:
        zf.writestr("Person.csv", PERSON)
    res = read(p)
    assert rule_ids(res) == []
    assert [t.name for t in res.tables] == ["Person"]


def test_file005_bad_crc(tmp_path):
    p = make_zip(tmp_path / "a.zip", {"Person.csv": PERSON}, compression=zipfile.ZIP_STORED)
    data = bytearray(p.read_bytes())
    i = data.find(b"P1,2000")
    data[i] = ord("Q")
    p.write_bytes(bytes(data))
    assert rule_ids(read(p)) == ["FILE005"]


@pytest.mark.parametrize(
    "entries",
    [
        {"inner.zip": zip_bytes({"Person.csv": PERSON})},  # nested zip
        {"Person.csv": PERSON, "Inner.ZIP": b"PK"},  # nested zip next to CSVs
        {"Person.csv": PERSON, "idb.mdb": b"x"},  # mixed
        {"a.mdb": b"x", "b.ACCDB": b"y"},  # two IDBs
        {"readme.txt": b"hello", "data/Person.csv": PERSON, "__MACOSX/._Person.csv": b"x"},  # nothing usable
        {},  # empty zip
    ],
    ids=["nested", "nested-with-csv", "mixed", "two-idbs", "none", "empty"],
)
def test_file006_content(tmp_path, entries):
    p = make_zip(tmp_path / "a.zip", entries)
    res = read(p)
    assert rule_ids(res) == ["FILE006"]
    assert res.tables == []


def test_file006_total_size(tmp_path):
    big = b"A,B\n" + b"1,2\n" * 50_000  # 200 kB, compresses to almost nothing
    p = make_zip(tmp_path / "a.zip", {"Person.csv": big})
    assert p.stat().st_size < 10_000
    assert rule_ids(read(p, max_unzipped=len(big) - 1)) == ["FILE006"]
    assert rule_ids(read(p, max_unzipped=len(big))) == []


def test_file006_total_counts_ignored_entries(tmp_path):
    p = make_zip(tmp_path / "a.zip", {"Person.csv": PERSON, "__MACOSX/big.bin": b"\0" * 100_000})
    assert rule_ids(read(p, max_unzipped=50_000)) == ["FILE006"]


def _lie_about_size(path: Path, name: bytes, declared: int) -> None:
    """Rewrite the uncompressed size of an entry in its local and central headers."""
    data = bytearray(path.read_bytes())
    pos = data.find(b"PK\x03\x04")
    while pos >= 0:
        n = struct.unpack_from("<H", data, pos + 26)[0]
        if data[pos + 30 : pos + 30 + n] == name:
            struct.pack_into("<I", data, pos + 22, declared)
        pos = data.find(b"PK\x03\x04", pos + 4)
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        n = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + n] == name:
            struct.pack_into("<I", data, pos + 24, declared)
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))


def test_zip_bomb_with_lying_header(tmp_path):
    """Declared 10 bytes, inflates to 5 MB: never extracted beyond the declaration; reported as corrupt."""
    p = make_zip(tmp_path / "bomb.zip", {"Person.csv": b"A\n" + b"0" * 5_000_000})
    _lie_about_size(p, b"Person.csv", 10)
    res = read(p, max_unzipped=1_000)
    assert rule_ids(res) == ["FILE005"]


def test_extractor_counts_bytes(tmp_path):
    p = make_zip(tmp_path / "a.zip", {"Person.csv": b"x" * 5000, "Header.csv": b"y" * 5000})
    pkg = open_package(p, max_unzipped_bytes=10_000)
    with pkg.zf:
        ex = Extractor(pkg.zf, max_unzipped_bytes=6000)  # budget smaller than the declared total
        ex.extract(pkg.csv_entries[0], tmp_path / "1.csv")
        with pytest.raises(BadZipContent):
            ex.extract(pkg.csv_entries[1], tmp_path / "2.csv")


def test_ignored_entries(tmp_path):
    p = make_zip(
        tmp_path / "a.zip",
        {
            "Person.csv": PERSON,
            "__MACOSX/._Person.csv": b"\xff\xfe garbage",
            "data/Referral.csv": b"SERVICEID\nR1\n",
            "notes.txt": b"hello",
            "Thumbs.db": b"\0\0",
            "folder/": b"",
        },
    )
    res = read(p)
    assert rule_ids(res) == []
    assert [(t.name, t.source) for t in res.tables] == [("Person", "Person.csv")]


def test_work_dir_is_used_and_cleaned(tmp_path):
    p = make_zip(tmp_path / "a.zip", {"Person.csv": PERSON})
    work = tmp_path / "work"
    work.mkdir()
    res = read(p, work_dir=work)
    assert rule_ids(res) == []
    assert not any(f.is_file() for f in work.rglob("*"))


def test_unexpected_exception_is_file005(tmp_path, monkeypatch, caplog):
    import validation.readers as readers

    def boom(*a, **k):
        raise RuntimeError("bug in reader")

    monkeypatch.setattr(readers, "read_xlsx", boom)
    p = tmp_path / "a.xlsx"
    p.write_bytes(b"PK\x03\x04 not really")
    res = read_file(p, file_name="a.xlsx", max_upload_bytes=10**6, max_unzipped_bytes=10**6, dataset=DATASET)
    assert rule_ids(res) == ["FILE005"]
    assert "bug in reader" in caplog.text


def test_missing_file_is_file005(tmp_path):
    res = read(tmp_path / "nope.zip")
    assert rule_ids(res) == ["FILE005"]


def test_idb_inside_zip(tmp_path):
    src = FIXTURES / "jet4-monitor-1row.mdb"
    p = make_zip(
        tmp_path / "a.zip", {"IDB.MDB": src.read_bytes(), "__MACOSX/._IDB.MDB": b"x", "readme.txt": b"x"}
    )
    res = read(p)
    assert rule_ids(res) == []
    assert res.kind == "mdb"
    assert [t.name for t in res.tables] == ["Monitor_Authenticate"]
    assert res.tables[0].access_types is not None


def test_garbage_idb_inside_zip_is_file005(tmp_path):
    p = make_zip(tmp_path / "a.zip", {"idb.accdb": os.urandom(4096)})
    assert rule_ids(read(p)) == ["FILE005"]


@pytest.mark.parametrize("corrupt", ["Referral.csv", "Appointment.csv"])
def test_file005_ends_the_stage_before_a_file007_of_an_earlier_entry(tmp_path, corrupt):
    # Entries are extracted on two threads (the largest on its own) and parsed as each is ready; a corrupt
    # entry anywhere still makes the result FILE005 alone, also when an earlier entry is FILE007.
    entries = {
        "Person.csv": b"LPTID,DOB\n\xff\xfe\n",  # not UTF-8: FILE007 if the stage went on
        "Referral.csv": b"SERVICEID,LPTID\r\n" + b"S1,P1\r\n" * 50,
        "Appointment.csv": b"APPTID,SERVICEID\r\n" + b"A1,S1\r\n" * 5000,
    }
    p = make_zip(tmp_path / "a.zip", entries, compression=zipfile.ZIP_STORED)
    data = bytearray(p.read_bytes())
    i = data.find(b"S1,P1" if corrupt == "Referral.csv" else b"A1,S1")
    data[i] = ord("Q")
    p.write_bytes(bytes(data))
    res = read(p)
    assert rule_ids(res) == ["FILE005"]
    assert res.tables == []


def test_file007_entries_keep_their_order_with_the_largest_entry_extracted_apart(tmp_path):
    entries = {
        "Person.csv": b"LPTID,DOB\n\xff\n",
        "Appointment.csv": b"APPTID,SERVICEID\r\n" + b"A1,S1\r\n" * 5000,
        "Referral.csv": b"SERVICEID,LPTID\n\xfe\n",
    }
    res = read(make_zip(tmp_path / "a.zip", entries))
    assert [(f.rule_id, f.table) for f in res.findings] == [("FILE007", "Person"), ("FILE007", "Referral")]
    assert [t.name for t in res.tables] == ["Appointment"]
