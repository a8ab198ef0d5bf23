"""A deterministic corpus of hostile and broken uploads (issue #8), with the outcome the spec dictates for each.

Every case is a ``Case``: an id, the file name the user uploads, a builder that writes the bytes to a path
(given the valid base files of :class:`Bases`), and an :class:`Expect`. Nothing here is random at run time:
"random" bytes come from ``random.Random(seed)``, so a failing id always rebuilds the same file.

Valid bases come from :func:`validation.synth.generate_idb` (5 persons, provider TSTP1, period 2017-11) written
as a ZIP of CSVs, an XLSX workbook and a Jet 4 ``.mdb``; the hostile inputs are mutations of them plus files
crafted from scratch (ZIP headers patched byte by byte, CSVs in the wrong encoding, ...).

Expectations (spec 4, 6.1, 6.4.1):

* ``reject(*rules)``: outcome Rejected and the set of rule IDs found is exactly ``rules`` (READ-stage rejects
  end the stage with that single finding); ``reject(*rules, exact=False)``: those rules are among the findings;
* ``any_reject()``: Rejected with at least one FILE_REJECT finding (the spec does not fix which one);
* ``successful(*rules)``: a legal oddity - a successful outcome, with ``rules`` (warnings) among the findings;
* ``final(absent=...)``: any outcome, provided none of ``absent`` is found (e.g. NUL bytes are valid UTF-8
  CSV: whatever the record rules say, never FILE007).
"""

from __future__ import annotations

import base64
import io
import random
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from validation.model import OrganisationRegister, RegisterEntry, UploadContext
from validation.readers.access import _HEADER_MASK
from validation.synth import DEFAULT_COMMISSIONERS, generate_idb, write_csvzip, write_xlsx
from validation.synth.writers import mdb_compatible, write_mdb

ORG = "TSTP1"
PERIOD = "2017-11"
FIXTURES_MDB = Path("/work/shared/fixtures/mdb")
_ZIP_TIME = (2017, 1, 1, 0, 0, 0)


def context(file_name: str = "") -> UploadContext:
    register = OrganisationRegister(
        {
            ORG: RegisterEntry(ORG, "Provider", "PROVIDER"),
            **{c: RegisterEntry(c, c, "COMMISSIONER") for c in DEFAULT_COMMISSIONERS},
        }
    )
    return UploadContext(
        org_code=ORG,
        period=PERIOD,
        window_type="Primary",
        received_at=datetime(2017, 12, 6, 12, 0, tzinfo=UTC),
        window_opens_on=date(2017, 12, 1),
        register=register,
        file_name=file_name,
    )


# --- expectations ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    kind: str  # "reject", "any_reject", "successful", "final"
    rules: frozenset[str] = frozenset()
    exact: bool = True
    absent: frozenset[str] = frozenset()

    def describe(self) -> str:
        if self.kind == "reject":
            return ("exactly " if self.exact else "") + "+".join(sorted(self.rules))
        if self.kind == "successful":
            return "successful" + ("" if not self.rules else " with " + "+".join(sorted(self.rules)))
        if self.kind == "final":
            return "final, never " + "/".join(sorted(self.absent))
        return "any FILE_REJECT"


def reject(*rules: str, exact: bool = True) -> Expect:
    return Expect("reject", frozenset(rules), exact)


def any_reject() -> Expect:
    return Expect("any_reject")


def successful(*rules: str) -> Expect:
    return Expect("successful", frozenset(rules), exact=False)


def final(*absent: str) -> Expect:
    return Expect("final", absent=frozenset(absent))


# --- valid bases -------------------------------------------------------------------------------------------


@dataclass
class Bases:
    """Valid files (and their tables) to mutate; built once per test session."""

    root: Path
    tables: dict[str, pl.DataFrame] = field(init=False)
    csv: dict[str, bytes] = field(init=False)  # table -> CSV bytes
    zip: bytes = field(init=False)
    xlsx: bytes = field(init=False)
    mdb: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.tables = generate_idb(
            org=ORG, period=PERIOD, persons=5, seed=1, commissioners=DEFAULT_COMMISSIONERS
        )
        self.zip = write_csvzip(self.tables, self.root / "base.zip").read_bytes()
        self.xlsx = write_xlsx(self.tables, self.root / "base.xlsx").read_bytes()
        write_mdb(mdb_compatible(self.tables), self.root / "base.mdb")
        self.mdb = (self.root / "base.mdb").read_bytes()
        with zipfile.ZipFile(io.BytesIO(self.zip)) as zf:
            self.csv = {Path(n).stem: zf.read(n) for n in zf.namelist()}


Builder = Callable[[Bases, Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    file_name: str
    build: Builder
    expect: Expect
    web: bool = False  # also sent through the web upload and the processing task

    def write(self, bases: Bases, directory: Path) -> Path:
        path = directory / self.file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.build(bases, path)
        return path


# --- byte helpers ------------------------------------------------------------------------------------------


def _rand(seed: int, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


def const(data: bytes) -> Builder:
    def build(_: Bases, path: Path) -> None:
        path.write_bytes(data)

    return build


def base_of(kind: str) -> Builder:
    def build(b: Bases, path: Path) -> None:
        path.write_bytes(getattr(b, kind))

    return build


def truncated(kind: str, at: int | float) -> Builder:
    """The base file cut at a byte offset (an int) or a fraction of its length (a float)."""

    def build(b: Bases, path: Path) -> None:
        data = getattr(b, kind)
        n = int(len(data) * at) if isinstance(at, float) else (at if at >= 0 else len(data) + at)
        path.write_bytes(data[:n])

    return build


def flipped(kind: str, at: float, n: int = 16) -> Builder:
    """``n`` bytes inverted from a fraction of the base file's length onwards."""

    def build(b: Bases, path: Path) -> None:
        data = bytearray(getattr(b, kind))
        start = int(len(data) * at)
        for i in range(start, min(start + n, len(data))):
            data[i] ^= 0xFF
        path.write_bytes(bytes(data))

    return build


def zip_of(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = compression
            zf.writestr(info, data)
    return buf.getvalue()


def csv_zip(change: Callable[[dict[str, bytes]], list[tuple[str, bytes]]]) -> Builder:
    """A ZIP of the base CSVs after ``change`` (which gets {table: bytes} and returns the entries)."""

    def build(b: Bases, path: Path) -> None:
        path.write_bytes(zip_of(change(dict(b.csv))))

    return build


def entries(csv: dict[str, bytes]) -> list[tuple[str, bytes]]:
    return [(f"{t}.csv", data) for t, data in csv.items()]


def replace(table: str, fn: Callable[[bytes], bytes]) -> Builder:
    def change(csv: dict[str, bytes]) -> list[tuple[str, bytes]]:
        csv[table] = fn(csv[table])
        return entries(csv)

    return csv_zip(change)


def plus(*extra: tuple[str, bytes]) -> Builder:
    return csv_zip(lambda csv: entries(csv) + list(extra))


def _patch_zip_headers(data: bytes, entry: str, fn: Callable[[bytearray, int, bool], None]) -> bytes:
    """Apply ``fn(buffer, header offset, is_central)`` to the local and central headers of one entry."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(entry)
        fn(buf, info.header_offset, False)
    name = entry.encode()
    pos = 0
    while (pos := buf.find(b"PK\x01\x02", pos)) >= 0:
        (name_len,) = struct.unpack_from("<H", buf, pos + 28)
        if bytes(buf[pos + 46 : pos + 46 + name_len]) == name:
            fn(buf, pos, True)
        pos += 4
    return bytes(buf)


def _set_flag(bit: int) -> Callable[[bytearray, int, bool], None]:
    def fn(buf: bytearray, off: int, central: bool) -> None:
        at = off + (8 if central else 6)
        (flags,) = struct.unpack_from("<H", buf, at)
        struct.pack_into("<H", buf, at, flags | bit)

    return fn


def _set_method(method: int) -> Callable[[bytearray, int, bool], None]:
    def fn(buf: bytearray, off: int, central: bool) -> None:
        struct.pack_into("<H", buf, off + (10 if central else 8), method)

    return fn


def _set_u32(local_at: int, value: int) -> Callable[[bytearray, int, bool], None]:
    """A 32-bit field at ``local_at`` in the local header (CRC 14, sizes 18/22); +2 in the central header."""

    def fn(buf: bytearray, off: int, central: bool) -> None:
        struct.pack_into("<I", buf, off + local_at + (2 if central else 0), value)

    return fn


def patched_zip(entry: str, fn: Callable[[bytearray, int, bool], None]) -> Builder:
    def build(b: Bases, path: Path) -> None:
        path.write_bytes(_patch_zip_headers(b.zip, entry, fn))

    return build


def idb_in_zip(
    kind: str = "mdb", name: str = "IDB.mdb", mutate: Callable[[bytes], bytes] | None = None
) -> Builder:
    def build(b: Bases, path: Path) -> None:
        data = getattr(b, kind)
        path.write_bytes(zip_of([(name, mutate(data) if mutate else data)]))

    return build


def zip_bomb(size: int) -> Builder:
    """One CSV entry of ``size`` zero bytes (about 1000:1 deflated), streamed into the archive."""

    def build(b: Bases, path: Path) -> None:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            info = zipfile.ZipInfo("Person.csv", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as out:
                block = b"0" * (1024 * 1024)
                for _ in range(size // len(block)):
                    out.write(block)
            for name, data in entries(b.csv):
                if name != "Person.csv":
                    zf.writestr(name, data)

    return build


def many_entries(n: int) -> Builder:
    return csv_zip(lambda csv: entries(csv) + [(f"x{i}.txt", b"") for i in range(n)])


def fifty_mb_line(b: Bases, path: Path) -> None:
    """Person.csv is one 50 MB line (one header name, no line end), streamed to disk, stored uncompressed."""
    rng = random.Random(50)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in entries(b.csv):
            if name != "Person.csv":
                zf.writestr(name, data)
        info = zipfile.ZipInfo("Person.csv", date_time=_ZIP_TIME)
        with zf.open(info, "w", force_zip64=True) as out:
            chunk = 3 * 1024 * 1024  # 3 MiB of bytes -> 4 MiB of base64 text (letters, digits, + and /)
            for _ in range(50 // 4 + 1):
                out.write(base64.b64encode(rng.randbytes(chunk)))


def wide_columns(n: int, *, repeated: bool = False) -> Callable[[bytes], bytes]:
    """Person.csv with ``n`` extra columns (named X0..Xn-1, or all ``DUP``) and a value in each."""

    def fn(data: bytes) -> bytes:
        lines = data.decode().rstrip("\n").split("\n")
        names = ",".join("DUP" if repeated else f"X{i}" for i in range(n))
        values = ",".join("v" for _ in range(n))
        out = [lines[0] + "," + names] + [line + "," + values for line in lines[1:]]
        return ("\n".join(out) + "\n").encode()

    return fn


def _first_data_line(data: bytes, fn: Callable[[bytes], bytes]) -> bytes:
    head, first, rest = data.split(b"\n", 2)
    return b"\n".join([head, fn(first), rest])


# --- XLSX helpers ------------------------------------------------------------------------------------------


def xlsx_formulas(*, cached: bool, headers_too: bool = False) -> Builder:
    """Every data cell (and optionally every header cell) a formula ``="text"``, with or without its value."""

    def build(b: Bases, path: Path) -> None:
        wb = xlsxwriter.Workbook(str(path))
        wb.set_properties({"created": datetime(2017, 1, 1, tzinfo=UTC)})
        for name, frame in b.tables.items():
            ws = wb.add_worksheet(name)
            rows = [frame.columns] + [list(r) for r in frame.rows()]
            for i, row in enumerate(rows):
                for j, v in enumerate(row):
                    text = "" if v is None else str(v)
                    if i == 0 and not headers_too:
                        ws.write_string(i, j, text)
                    else:
                        ws.write_formula(i, j, '="' + text.replace('"', '""') + '"', None, text)
        wb.close()
        if not cached:
            _rewrite_xlsx(
                path, lambda n, x: re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", x) if "worksheets/" in n else x
            )

    return build


def _rewrite_xlsx(path: Path, fn: Callable[[str, bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as zf:
        items = [(i.filename, fn(i.filename, zf.read(i.filename))) for i in zf.infolist()]
    path.write_bytes(zip_of(items))


def xlsx_patched(fn: Callable[[str, bytes], bytes]) -> Builder:
    def build(b: Bases, path: Path) -> None:
        path.write_bytes(b.xlsx)
        _rewrite_xlsx(path, fn)

    return build


def xlsx_tables(change: Callable[[dict[str, pl.DataFrame]], dict[str, pl.DataFrame]]) -> Builder:
    def build(b: Bases, path: Path) -> None:
        write_xlsx(change(dict(b.tables)), path)

    return build


def _renamed(tables: dict[str, pl.DataFrame], old: str, new: str) -> dict[str, pl.DataFrame]:
    return {new if k == old else k: v for k, v in tables.items()}


def xlsx_duplicate_sheet_xml(b: Bases, path: Path) -> None:
    """workbook.xml lists a second sheet also named ``Person`` (Excel cannot make this; a crafted file can)."""

    def fn(name: str, data: bytes) -> bytes:
        if name != "xl/workbook.xml":
            return data
        m = re.search(rb'<sheet name="Person"[^>]*/>', data)
        assert m is not None
        dup = re.sub(rb'sheetId="\d+"', b'sheetId="99"', m.group(0))
        return data.replace(m.group(0), m.group(0) + dup)

    path.write_bytes(b.xlsx)
    _rewrite_xlsx(path, fn)


def xlsx_error_cells(b: Bases, path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    for name, frame in b.tables.items():
        ws = wb.add_worksheet(name)
        for j, c in enumerate(frame.columns):
            ws.write_string(0, j, c)
            for i in range(frame.height):
                ws.write_formula(i + 1, j, "=NA()", None, "#N/A")
    wb.close()


def xlsx_wide(b: Bases, path: Path) -> None:
    tables = dict(b.tables)
    person = tables["Person"]
    tables["Person"] = person.with_columns([pl.lit("v").alias(f"X{i}") for i in range(10_000)])
    write_xlsx(tables, path)


# --- Access helpers ----------------------------------------------------------------------------------------


def _jet_header(data: bytes, fn: Callable[[bytearray], None]) -> bytes:
    """Unmask the Jet 4 database header page, let ``fn`` change it, mask it again."""
    page = bytearray(data)
    dec = bytearray(page[:0x100])
    for k, m in enumerate(_HEADER_MASK):
        dec[0x18 + k] ^= m
    fn(dec)
    for k, m in enumerate(_HEADER_MASK):
        dec[0x18 + k] ^= m
    page[:0x100] = dec
    return bytes(page)


def with_password(data: bytes, password: str = "secret") -> bytes:
    def fn(dec: bytearray) -> None:
        raw = password.encode("utf-16-le")
        (when,) = struct.unpack_from("<d", dec, 0x72)
        mask = struct.pack("<i", int(when))
        dec[0x42 : 0x42 + len(raw)] = bytes(x ^ mask[i % 4] for i, x in enumerate(raw))

    return _jet_header(data, fn)


def encoded(data: bytes) -> bytes:
    page = bytearray(data)
    page[0x3E] ^= 0x5A  # a non-zero encoding key once unmasked
    return bytes(page)


def mdb_mut(fn: Callable[[bytes], bytes], source: str = "mdb") -> Builder:
    def build(b: Bases, path: Path) -> None:
        data = getattr(b, source) if source == "mdb" else (FIXTURES_MDB / source).read_bytes()
        path.write_bytes(fn(data))

    return build


def ace_header(b: Bases, path: Path) -> None:
    page = bytearray(b.mdb)
    page[4:19] = b"Standard ACE DB"
    path.write_bytes(bytes(page))


# --- the corpus --------------------------------------------------------------------------------------------

TEXT = b"This is not a database.\nJust some notes someone renamed.\n" * 20
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + _rand(7, 4096)
LATIN1 = "Zoë,Ångström,café".encode("latin-1")


def _cases() -> list[Case]:
    c: list[Case] = []
    add = c.append

    # Legal files (controls): the base in every format, and upper-case extensions (spec 4.1).
    add(Case("valid-csvzip", "idb.zip", base_of("zip"), successful(), web=True))
    add(Case("valid-xlsx", "idb.xlsx", base_of("xlsx"), successful()))
    add(Case("valid-mdb", "idb.mdb", base_of("mdb"), successful()))
    add(Case("valid-accdb-jet-content", "idb.accdb", base_of("mdb"), successful()))
    add(Case("upper-ext-zip", "IDB.ZIP", base_of("zip"), successful()))
    add(Case("upper-ext-xlsx", "DATA.XLSX", base_of("xlsx"), successful()))
    add(Case("upper-ext-mdb", "IDB.MDB", base_of("mdb"), successful()))

    # FILE003: unsupported extensions, decided on the name alone.
    for i, name in enumerate(
        [
            "idb.csv",
            "idb.xls",
            "idb.xlsm",
            "idb.ods",
            "idb.txt",
            "idb",
            "idb.zip.exe",
            "idb.mdb.bak",
            "idb.7z",
        ]
    ):
        add(Case(f"ext-{name}", name, base_of("zip"), reject("FILE003"), web=i in (0, 1)))

    # FILE004: 0-byte uploads of every accepted extension (a 0-byte .xlsx gets FILE004 only).
    for i, ext in enumerate(["zip", "xlsx", "mdb", "accdb"]):
        add(Case(f"empty-{ext}", f"idb.{ext}", const(b""), reject("FILE004"), web=i < 2))

    # FILE005: random bytes with each accepted extension, in three sizes.
    for ext in ["zip", "xlsx", "mdb", "accdb"]:
        for n in (1, 100, 65536):
            add(Case(f"random-{n}b-{ext}", f"idb.{ext}", const(_rand(n, n)), reject("FILE005"), web=n == 100))

    # FILE005: a text file, and the other kinds' files, renamed.
    for ext in ["mdb", "accdb", "xlsx", "zip"]:
        add(Case(f"text-renamed-{ext}", f"notes.{ext}", const(TEXT), reject("FILE005"), web=ext == "mdb"))
    add(Case("ole-as-xlsx", "idb.xlsx", const(OLE), reject("FILE005")))
    add(Case("ole-as-mdb", "idb.mdb", const(OLE), reject("FILE005")))
    add(Case("zip-renamed-xlsx", "idb.xlsx", base_of("zip"), reject("FILE005")))
    add(Case("zip-renamed-mdb", "idb.mdb", base_of("zip"), reject("FILE005")))
    add(Case("mdb-renamed-xlsx", "idb.xlsx", base_of("mdb"), reject("FILE005")))
    add(Case("mdb-renamed-zip", "idb.zip", base_of("mdb"), reject("FILE005")))
    add(Case("xlsx-renamed-mdb", "idb.mdb", base_of("xlsx"), reject("FILE005")))
    # An XLSX is a ZIP whose entries are all in sub-folders or not .csv/.mdb: nothing usable at the root.
    add(Case("xlsx-renamed-zip", "idb.zip", base_of("xlsx"), reject("FILE006"), web=True))

    # FILE005: truncated files at several offsets.
    for kind in ("zip", "xlsx"):
        for at in (4, 30, 200, 0.25, 0.5, 0.9, -1, -22):
            tag = f"{at:g}" if isinstance(at, float) else str(at)
            add(
                Case(
                    f"truncated-{kind}-{tag}",
                    f"idb.{kind}",
                    truncated(kind, at),
                    reject("FILE005"),
                    web=(kind, at) == ("zip", 0.5),
                )
            )
    for at in (16, 2048, 4096, 0.5, 0.9):
        tag = f"{at:g}" if isinstance(at, float) else str(at)
        add(Case(f"truncated-mdb-{tag}", "idb.mdb", truncated("mdb", at), reject("FILE005"), web=at == 4096))

    # Flipped bytes: in the ZIP's local header / compressed data / central directory, and in the XLSX.
    add(Case("flip-zip-local-sig", "idb.zip", flipped("zip", 0.0, 4), reject("FILE005")))
    add(Case("flip-zip-data", "idb.zip", flipped("zip", 0.02), reject("FILE005"), web=True))
    add(Case("flip-zip-central-dir", "idb.zip", flipped("zip", 0.97), reject("FILE005")))
    add(Case("flip-xlsx-0.5", "idb.xlsx", flipped("xlsx", 0.5), reject("FILE005")))
    add(Case("flip-xlsx-0.97", "idb.xlsx", flipped("xlsx", 0.97), reject("FILE005")))
    # An .mdb with garbage in a data page: whatever mdbtools makes of it, a final outcome (no crash).
    add(Case("flip-mdb-0.5", "idb.mdb", flipped("mdb", 0.5, 64), final()))
    add(Case("flip-mdb-header", "idb.mdb", flipped("mdb", 0.0, 32), reject("FILE005")))

    # ZIP tricks at container level.
    add(
        Case(
            "zip-encrypted-entry",
            "idb.zip",
            patched_zip("Person.csv", _set_flag(0x1)),
            reject("FILE005"),
            web=True,
        )
    )
    add(Case("zip-unknown-method", "idb.zip", patched_zip("Person.csv", _set_method(99)), reject("FILE005")))
    add(
        Case(
            "zip-bad-crc", "idb.zip", patched_zip("Referral.csv", _set_u32(14, 0xDEADBEEF)), reject("FILE005")
        )
    )
    add(
        Case("zip-size-lies-small", "idb.zip", patched_zip("Person.csv", _set_u32(22, 10)), reject("FILE005"))
    )
    add(
        Case(
            "zip-size-lies-big", "idb.zip", patched_zip("Person.csv", _set_u32(22, 10_000_000)), any_reject()
        )
    )
    add(Case("zip-bomb-200mb", "idb.zip", zip_bomb(200 * 1024 * 1024), reject("FILE006"), web=True))
    add(Case("zip-too-many-entries", "idb.zip", many_entries(1001), reject("FILE006")))
    add(Case("zip-empty-archive", "idb.zip", const(zip_of([])), reject("FILE006")))
    add(
        Case(
            "zip-only-macosx", "idb.zip", const(zip_of([("__MACOSX/._Person.csv", b"x")])), reject("FILE006")
        )
    )
    add(Case("zip-only-txt", "idb.zip", const(zip_of([("readme.txt", b"hello")])), reject("FILE006")))
    for i, name in enumerate(
        ["../Person.csv", "/etc/Person.csv", "..\\..\\Person.csv", "C:Person.csv", "data/../../evil.csv"]
    ):
        add(Case(f"zip-traversal-{i}", "idb.zip", plus((name, b"LPTID\n1\n")), reject("FILE006"), web=i == 0))
    add(Case("zip-nested-zip-root", "idb.zip", plus(("inner.zip", b"")), reject("FILE006")))
    add(
        Case(
            "zip-nested-real-zip",
            "idb.zip",
            lambda b, p: p.write_bytes(zip_of([("IDB.zip", b.zip)])),
            reject("FILE006"),
            web=True,
        )
    )
    add(Case("zip-nested-in-subfolder", "idb.zip", plus(("old/inner.zip", b"PK")), successful()))
    add(
        Case(
            "zip-macosx-and-csvs",
            "idb.zip",
            plus(("__MACOSX/._Person.csv", b"\x00\x05\x16\x07")),
            successful(),
        )
    )
    add(
        Case(
            "zip-two-idbs",
            "idb.zip",
            lambda b, p: p.write_bytes(zip_of([("a.mdb", b.mdb), ("b.accdb", b.mdb)])),
            reject("FILE006"),
        )
    )
    add(Case("zip-idb-and-csv", "idb.zip", plus(("IDB.mdb", b"x")), reject("FILE006")))
    add(
        Case(
            "zip-prepended-junk",
            "idb.zip",
            lambda b, p: p.write_bytes(b"MZ" + _rand(3, 1000) + b.zip),
            successful(),
        )
    )
    add(
        Case(
            "zip-stored",
            "idb.zip",
            lambda b, p: p.write_bytes(zip_of(entries(b.csv), zipfile.ZIP_STORED)),
            successful(),
        )
    )

    # IDBs inside a ZIP.
    add(Case("zip-mdb-valid", "idb.zip", idb_in_zip(), successful()))
    add(Case("zip-mdb-truncated", "idb.zip", idb_in_zip(mutate=lambda d: d[:4096]), reject("FILE005")))
    add(Case("zip-mdb-text", "idb.zip", idb_in_zip(name="IDB.MDB", mutate=lambda _: TEXT), reject("FILE005")))
    add(
        Case(
            "zip-accdb-password",
            "idb.zip",
            idb_in_zip(name="IDB.accdb", mutate=with_password),
            reject("FILE005"),
        )
    )

    # Access files with a password or Jet encoding; an .accdb with a password (spec 4.1: FILE005).
    add(Case("mdb-password", "idb.mdb", mdb_mut(with_password), reject("FILE005"), web=True))
    add(Case("accdb-password", "idb.accdb", mdb_mut(with_password), reject("FILE005"), web=True))
    add(
        Case(
            "mdb-fixture-password",
            "idb.mdb",
            mdb_mut(with_password, "jet4-monitor-1row.mdb"),
            reject("FILE005"),
        )
    )
    add(Case("mdb-encoded", "idb.mdb", mdb_mut(encoded), reject("FILE005")))
    add(Case("accdb-ace-header-jet-body", "idb.accdb", ace_header, final()))
    add(
        Case(
            "mdb-jet-magic-only",
            "idb.mdb",
            const(b"\x00\x01\x00\x00Standard Jet DB\x00" + b"\x00" * 4000),
            reject("FILE005"),
        )
    )

    # CSV encodings and syntax (FILE007 for an entry named after a table).
    add(
        Case(
            "csv-latin1",
            "idb.zip",
            replace("Person", lambda d: d + LATIN1 + b"\n"),
            reject("FILE007"),
            web=True,
        )
    )
    add(
        Case(
            "csv-latin1-header",
            "idb.zip",
            replace("Header", lambda d: d.replace(b"IDBVERSION", "IDBVERSIÖN".encode("latin-1"))),
            reject("FILE007"),
        )
    )
    add(
        Case(
            "csv-utf16",
            "idb.zip",
            replace("Person", lambda d: d.decode().encode("utf-16")),
            reject("FILE007"),
        )
    )
    add(
        Case(
            "csv-overlong-utf8",
            "idb.zip",
            replace("Referral", lambda d: d + b"\xc0\xaf\n"),
            reject("FILE007"),
        )
    )
    add(
        Case(
            "csv-surrogate-utf8",
            "idb.zip",
            replace("Referral", lambda d: d + b"\xed\xa0\x80\n"),
            reject("FILE007"),
        )
    )
    add(
        Case(
            "csv-cut-multibyte",
            "idb.zip",
            replace("Appointment", lambda d: d + "é".encode()[:1]),
            reject("FILE007"),
        )
    )
    add(
        Case(
            "csv-two-bad-entries",
            "idb.zip",
            csv_zip(
                lambda csv: entries(
                    {**csv, "Person": csv["Person"] + LATIN1, "Referral": csv["Referral"] + b'"open\n'}
                )
            ),
            reject("FILE007"),
        )
    )
    add(
        Case(
            "csv-latin1-non-table-entry",
            "idb.zip",
            plus(("notes.csv", LATIN1)),
            successful("FILE015"),
            web=True,
        )
    )
    add(Case("csv-bom", "idb.zip", replace("Person", lambda d: b"\xef\xbb\xbf" + d), successful(), web=True))
    add(
        Case(
            "csv-bom-every-entry",
            "idb.zip",
            csv_zip(lambda csv: [(f"{t}.csv", b"\xef\xbb\xbf" + d) for t, d in csv.items()]),
            successful(),
        )
    )
    add(Case("csv-double-bom", "idb.zip", replace("Header", lambda d: b"\xef\xbb\xbf" * 2 + d), any_reject()))
    add(
        Case(
            "csv-crlf",
            "idb.zip",
            csv_zip(lambda csv: [(f"{t}.csv", d.replace(b"\n", b"\r\n")) for t, d in csv.items()]),
            successful(),
        )
    )
    add(
        Case("csv-cr-only", "idb.zip", replace("Person", lambda d: d.replace(b"\n", b"\r")), final("FILE005"))
    )
    add(
        Case(
            "csv-nul-in-value",
            "idb.zip",
            replace("Person", lambda d: _first_data_line(d, lambda x: x.replace(b",", b"\x00,", 1))),
            final("FILE005", "FILE007"),
            web=True,
        )
    )
    add(
        Case(
            "csv-nul-only",
            "idb.zip",
            replace("Person", lambda _: b"\x00" * 1000),
            reject("FILE012", exact=False),
        )
    )
    add(
        Case(
            "csv-unbalanced-quote-end",
            "idb.zip",
            replace("Person", lambda d: d + b'"P9,unterminated\n'),
            reject("FILE007"),
            web=True,
        )
    )
    add(
        Case(
            "csv-unbalanced-quote-header", "idb.zip", replace("Header", lambda d: b'"' + d), reject("FILE007")
        )
    )
    add(
        Case(
            "csv-text-after-quote",
            "idb.zip",
            replace("Person", lambda d: _first_data_line(d, lambda x: b'"a"b' + x)),
            reject("FILE007"),
        )
    )
    add(
        Case(
            "csv-bare-quote-in-field",
            "idb.zip",
            replace("Person", lambda d: _first_data_line(d, lambda x: b'a"b' + x)),
            final("FILE005", "FILE007"),
        )
    )
    add(
        Case(
            "csv-extra-field",
            "idb.zip",
            replace("Person", lambda d: _first_data_line(d, lambda x: x + b",extra")),
            reject("FILE007"),
        )
    )
    add(
        Case(
            "csv-missing-field",
            "idb.zip",
            replace("Person", lambda d: _first_data_line(d, lambda x: x.rsplit(b",", 1)[0])),
            reject("FILE007"),
        )
    )
    add(
        Case(
            "csv-10000-columns",
            "idb.zip",
            replace("Person", wide_columns(10_000)),
            successful("FILE016"),
        )
    )
    add(
        Case(
            "csv-10000-repeated-columns",
            "idb.zip",
            replace("Person", wide_columns(10_000, repeated=True)),
            reject("FILE013", exact=False),
        )
    )
    add(Case("csv-50mb-single-line", "idb.zip", fifty_mb_line, reject("FILE012", exact=False)))
    add(
        Case("csv-0-byte-person", "idb.zip", replace("Person", lambda _: b""), reject("FILE012", exact=False))
    )
    add(
        Case(
            "csv-bom-only-header", "idb.zip", replace("Header", lambda _: b"\xef\xbb\xbf"), reject("FILE012")
        )
    )
    add(
        Case(
            "csv-empty-lines", "idb.zip", replace("Person", lambda d: d.replace(b"\n", b"\n\n")), successful()
        )
    )
    add(
        Case(
            "csv-near-duplicate-name",
            "idb.zip",
            csv_zip(lambda csv: [("person.csv" if t == "Person" else f"{t}.csv", d) for t, d in csv.items()]),
            reject("FILE010", "FILE015", exact=False),
        )
    )
    add(Case("csv-duplicate-entry", "idb.zip", plus(("Person.CSV", b"")), reject("FILE011", exact=False)))
    add(
        Case(
            "csv-upper-ext-entries",
            "idb.zip",
            csv_zip(lambda csv: [(f"{t}.CSV", d) for t, d in csv.items()]),
            successful(),
        )
    )

    # XLSX oddities.
    add(Case("xlsx-formulas-cached", "idb.xlsx", xlsx_formulas(cached=True), successful(), web=True))
    add(
        Case(
            "xlsx-formulas-cached-headers",
            "idb.xlsx",
            xlsx_formulas(cached=True, headers_too=True),
            successful(),
        )
    )
    add(
        Case(
            "xlsx-formulas-uncached",
            "idb.xlsx",
            xlsx_formulas(cached=False),
            reject("HDR010", exact=False),
            web=True,
        )
    )
    add(
        Case(
            "xlsx-formulas-uncached-headers",
            "idb.xlsx",
            xlsx_formulas(cached=False, headers_too=True),
            reject("FILE012", exact=False),
        )
    )
    add(Case("xlsx-error-every-cell", "idb.xlsx", xlsx_error_cells, any_reject()))
    add(
        Case(
            "xlsx-near-duplicate-sheet",
            "idb.xlsx",
            xlsx_tables(lambda t: {**t, "Person (2)": t["Person"]}),
            successful("FILE015"),
            web=True,
        )
    )
    add(
        Case(
            "xlsx-near-miss-only",
            "idb.xlsx",
            xlsx_tables(lambda t: _renamed(t, "Person", "person")),
            reject("FILE010", "FILE015", exact=False),
        )
    )
    add(
        Case(
            "xlsx-trailing-space-sheet",
            "idb.xlsx",
            xlsx_tables(lambda t: _renamed(t, "Referral", "Referral ")),
            reject("FILE010", "FILE015", exact=False),
        )
    )
    add(Case("xlsx-duplicate-sheet-xml", "idb.xlsx", xlsx_duplicate_sheet_xml, any_reject()))
    add(Case("xlsx-10000-columns", "idb.xlsx", xlsx_wide, successful("FILE016")))
    add(
        Case(
            "xlsx-no-workbook-xml",
            "idb.xlsx",
            lambda b, p: p.write_bytes(zip_of([(n, d) for n, d in _xlsx_items(b) if n != "xl/workbook.xml"])),
            reject("FILE005"),
        )
    )
    add(
        Case(
            "xlsx-broken-workbook-xml",
            "idb.xlsx",
            xlsx_patched(lambda n, d: d[: len(d) // 2] if n == "xl/workbook.xml" else d),
            reject("FILE005"),
        )
    )
    add(
        Case(
            "xlsx-broken-sheet-xml",
            "idb.xlsx",
            xlsx_patched(lambda n, d: d[: len(d) // 2] if n == "xl/worksheets/sheet2.xml" else d),
            reject("FILE005"),
            web=True,
        )
    )
    add(
        Case(
            "xlsx-encrypted-entry",
            "idb.xlsx",
            lambda b, p: p.write_bytes(_patch_zip_headers(b.xlsx, "xl/workbook.xml", _set_flag(0x1))),
            reject("FILE005"),
        )
    )
    add(Case("xlsx-csv-zip-inside", "idb.xlsx", base_of("zip"), reject("FILE005")))
    return c


def _xlsx_items(b: Bases) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(b.xlsx)) as zf:
        return [(n, zf.read(n)) for n in zf.namelist()]


CASES: list[Case] = _cases()
