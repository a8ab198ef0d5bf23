"""ZIP hardening beyond spec 4.1 (FILE006): entry count, names outside the package, inflation ratio."""

from __future__ import annotations

import zipfile

from validation.readers import zippkg

from .helpers import make_zip, read, rule_ids

PERSON = b"LPTID,DOB\r\nP1,2000-01-01\r\n"


def test_too_many_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(zippkg, "MAX_ZIP_ENTRIES", 5)
    entries = {"Person.csv": PERSON, **{f"notes/{i}.txt": b"x" for i in range(5)}}
    assert rule_ids(read(make_zip(tmp_path / "a.zip", entries))) == ["FILE006"]
    entries.pop("notes/0.txt")
    assert rule_ids(read(make_zip(tmp_path / "b.zip", entries))) == []


def test_names_outside_the_package(tmp_path):
    for i, bad in enumerate(
        ["../Person.csv", "/etc/Person.csv", "a/../../Person.csv", "\\\\x\\Person.csv", "C:Person.csv"]
    ):
        path = tmp_path / f"{i}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("Person.csv", PERSON)
            zf.writestr(zipfile.ZipInfo(bad), b"x")
        assert rule_ids(read(path)) == ["FILE006"], bad


def test_inflation_ratio(tmp_path, monkeypatch):
    monkeypatch.setattr(zippkg, "RATIO_CHECK_ABOVE_BYTES", 1000)
    bomb = b"A,B\n" + b"0,0\n" * 200_000  # 800 kB of one repeated line: deflates more than 200:1
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("Person.csv", bomb)
    info = zipfile.ZipFile(path).getinfo("Person.csv")
    assert info.file_size > 200 * info.compress_size
    assert rule_ids(read(path)) == ["FILE006"]
    monkeypatch.setattr(zippkg, "RATIO_CHECK_ABOVE_BYTES", len(bomb))
    assert rule_ids(read(path)) == []  # small entries are not held to the ratio
