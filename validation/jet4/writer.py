"""A small Jet 4 (.mdb, Access 2000-2003) writer: user tables with rows, added to a blank database.

Written from the published format notes (mdbtools' HACKING, Jackcess's documentation) and from reading the
blank database's own pages; no code was taken from either project.

How a file is made
------------------
1. The blank database of :mod:`._blank` (page 0 header, global usage map on page 1, MSysObjects' table
   definition on page 2, the other system tables, their data, usage maps and index pages: 19 pages) is
   copied. New pages are appended after it; every page is 4096 bytes.
2. Each user table gets a TDEF page (one page: type 0x4E user table, no indexes), data pages (rows stored
   from the end of the page, 2-byte offset table after the 14-byte header, at most 255 rows a page, rows in
   the order given), LVAL pages for Memo values that do not fit inline, and usage-map rows on a shared
   "usage map" data page: the table's owned data pages (an inline type-0 map when they fall inside a
   512-page window, otherwise a type-1 reference map whose 0x05 pages each cover 32,736 pages), an empty
   free-space map, and for each Memo column its own owned/free maps (the list after the index section of
   the TDEF, ended by 0xFFFF).
3. The catalog: one MSysObjects row per table (Id = TDEF page, parent = the "Tables" container, Type 1,
   owner copied from the container) and one MSysACEs row per inheritable permission of the "Tables"
   container (Jet's default: the new table inherits the container's permissions). Both system tables'
   row counts are raised, and their B-tree indexes (MSysObjects: ``Id`` and ``ParentIdName``;
   MSysACEs: ``ObjectId``) get the new entries: each of these indexes is a single leaf page in the blank
   database, which is rebuilt sorted with the new keys. Text keys use Jet 4's "General" (legacy) sort codes,
   which this module knows for ASCII letters only, hence table names of letters only.

Values
------
Text and Memo use Jet 4's compressed Unicode (``FF FE`` + one byte a character) when every character is in
U+0001-U+00FF and that is shorter, otherwise UCS-2 (UTF-16LE); the columns carry the "Unicode compression"
flag, as Access sets it by default. Date/Time is days since 1899-12-30 as a double, with Access's rule for
earlier dates (negative day part, positive time fraction). Currency is a 64-bit count of 1/10,000.

Left out: indexes and primary keys on user tables, relationships, table/column properties (LvProp:
descriptions, formats, "Required", validation rules), AutoNumber, Decimal (Numeric), OLE/Binary/GUID
columns, multi-page table definitions (a table needs at most ~4 KB of column definitions), and the free-space
maps (always empty: Access appends new rows on new pages). The global usage map on page 1 is left as in the
blank database, where pages beyond the first three are all marked the same.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from ._blank import blank_jet4
from .schema import FIXED_SIZE, AccessType, ColumnDef, TableDef

PAGE = 4096
MAGIC = 1625  # the 4-byte constant Jet 4 writes in table and column definitions
ROWS_PER_PAGE = 255  # a row pointer holds the row number in one byte
DATA_HEADER = 14
USAGE_MAP_ROW = 69  # type byte + 4-byte start page + 64 bytes of bitmap, or type byte + 17 page pointers
INLINE_MAP_PAGES = 64 * 8
REF_MAP_PAGES = (PAGE - 4) * 8  # pages mapped by one 0x05 page
MEMO_INLINE_MAX = 64  # bytes of Memo stored in the row itself
LVAL_SINGLE_MAX = PAGE - DATA_HEADER - 2  # one LVAL row on an otherwise empty page
LVAL_CHUNK_MAX = LVAL_SINGLE_MAX - 4  # chained LVAL rows carry a 4-byte next pointer

# The blank database (see _blank.py)
MSYSOBJECTS_TDEF = 2
MSYSACES_TDEF = 3
TABLES_CONTAINER_ID = 0x0F000001
INDEX_LEAF_OBJECTS_ID = 8
INDEX_LEAF_OBJECTS_PARENT_NAME = 7
INDEX_LEAF_ACES_OBJECT_ID = 10
EPOCH = datetime(1899, 12, 30)

# Jet 4 "General" (legacy, Access 2000-2007) sort codes, letters only (case is not encoded): read off the
# index pages of the blank database and the published relative order of the letters.
_LETTER_CODES = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        (
            0x4A, 0x4C, 0x4D, 0x4F, 0x51, 0x53, 0x55, 0x57, 0x59, 0x5B, 0x5C, 0x5E, 0x60,
            0x62, 0x64, 0x66, 0x68, 0x69, 0x6B, 0x6D, 0x6F, 0x71, 0x73, 0x75, 0x76, 0x78,
        ),
        strict=True,
    )
)  # fmt: skip


class Jet4Error(ValueError):
    """A table, column or value that this writer (or Access) cannot store."""


# --- values --------------------------------------------------------------------------------------------------


def encode_text(value: str) -> bytes:
    """Jet 4 text bytes: compressed Unicode when possible and shorter, else UCS-2 little-endian."""
    if len(value) > 2:
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            pass
        else:
            if b"\x00" not in raw:
                return b"\xff\xfe" + raw
    return value.encode("utf-16-le")


def datetime_to_double(value: date | datetime | time) -> float:
    """Days since 1899-12-30 (Access Date/Time); a bare time is a time on 1899-12-30."""
    if isinstance(value, time):
        value = datetime.combine(EPOCH.date(), value)
    elif not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    day = datetime(value.year, value.month, value.day)
    days = (day - EPOCH).days
    fraction = (value - day).total_seconds() / 86400.0
    return days + fraction if days >= 0 else days - fraction


def _int_range(kind: AccessType) -> tuple[int, int]:
    return {
        AccessType.BYTE: (0, 255),
        AccessType.INTEGER: (-32768, 32767),
        AccessType.LONG: (-(2**31), 2**31 - 1),
    }[kind]


def _as_int(value: Any, kind: AccessType, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Jet4Error(f"{where}: {value!r} is not a whole number")
    try:
        n = int(value)
    except ValueError as exc:
        raise Jet4Error(f"{where}: {value!r} is not a whole number") from exc
    lo, hi = _int_range(kind)
    if not lo <= n <= hi:
        raise Jet4Error(f"{where}: {n} is outside {kind.name} ({lo}..{hi})")
    return n


def _as_float(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise Jet4Error(f"{where}: {value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise Jet4Error(f"{where}: {value!r} is not a number") from exc


def _as_datetime(value: Any, where: str) -> float:
    if isinstance(value, date | time):
        return datetime_to_double(value)
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return datetime_to_double(date.fromisoformat(value))
            if len(value) in (5, 8) and value[2] == ":":
                return datetime_to_double(time.fromisoformat(value))
            return datetime_to_double(datetime.fromisoformat(value))
        except ValueError as exc:
            raise Jet4Error(f"{where}: {value!r} is not a date or time") from exc
    raise Jet4Error(f"{where}: {value!r} is not a date or time")


def fixed_bytes(kind: AccessType, value: Any, where: str) -> bytes:
    """The fixed-length row bytes of a non-null value."""
    if kind == AccessType.LONG:
        return struct.pack("<i", _as_int(value, kind, where))
    if kind == AccessType.DOUBLE:
        return struct.pack("<d", _as_float(value, where))
    if kind == AccessType.DATETIME:
        return struct.pack("<d", _as_datetime(value, where))
    if kind == AccessType.INTEGER:
        return struct.pack("<h", _as_int(value, kind, where))
    if kind == AccessType.BYTE:
        return struct.pack("<B", _as_int(value, kind, where))
    if kind == AccessType.SINGLE:
        try:
            return struct.pack("<f", _as_float(value, where))
        except OverflowError as exc:
            raise Jet4Error(f"{where}: {value!r} is outside Single") from exc
    if kind == AccessType.CURRENCY:
        if isinstance(value, bool):
            raise Jet4Error(f"{where}: {value!r} is not a number")
        try:
            scaled = (Decimal(str(value)) * 10000).to_integral_value()
        except ArithmeticError as exc:
            raise Jet4Error(f"{where}: {value!r} is not a number") from exc
        if not -(2**63) <= scaled < 2**63:
            raise Jet4Error(f"{where}: {value!r} is outside Currency")
        return struct.pack("<q", int(scaled))
    raise AssertionError(kind)


_EPOCH_ORDINAL = EPOCH.toordinal()
_pack_d = struct.Struct("<d").pack


def _datetime_bytes(value: Any) -> bytes:
    if type(value) is date:
        return _pack_d(float(value.toordinal() - _EPOCH_ORDINAL))
    if isinstance(value, str) and len(value) == 10:
        try:
            return _pack_d(float(date.fromisoformat(value).toordinal() - _EPOCH_ORDINAL))
        except ValueError:
            raise Jet4Error(f"{value!r} is not a date") from None
    return _pack_d(_as_datetime(value, "value"))


def _double_bytes(value: Any) -> bytes:
    if type(value) is float:
        return _pack_d(value)
    return _pack_d(_as_float(value, "value"))


def _bool_value(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Jet4Error(f"{value!r} is not True/False")
    return value


def _int_encoder(kind: AccessType):
    fmt = struct.Struct({AccessType.LONG: "<i", AccessType.INTEGER: "<h", AccessType.BYTE: "<B"}[kind])
    pack = fmt.pack
    lo, hi = _int_range(kind)

    def enc(value: Any) -> bytes:
        if type(value) is int and lo <= value <= hi:
            return pack(value)
        return pack(_as_int(value, kind, "value"))

    return enc


def _text_encoder(length: int):
    def enc(value: Any) -> bytes:
        s = value if type(value) is str else str(value)
        if len(s) > length:
            raise Jet4Error(f"{len(s)} characters, longer than Text({length})")
        return encode_text(s)

    return enc


# --- pages ---------------------------------------------------------------------------------------------------


def pointer(page: int, row: int) -> int:
    """A 4-byte row pointer: row number in the low byte, page number above it."""
    return (page << 8) | row


class DataPage:
    """A data (or LVAL) page being filled: rows go from the end of the page towards the header."""

    def __init__(self, number: int, owner: bytes) -> None:
        self.number = number
        self.owner = owner  # 4 bytes: the TDEF page, or b"LVAL"
        self.rows: list[bytes] = []
        self.used = DATA_HEADER

    def fits(self, size: int) -> bool:
        return len(self.rows) < ROWS_PER_PAGE and self.used + size + 2 <= PAGE

    def add(self, row: bytes) -> int:
        self.rows.append(row)
        self.used += len(row) + 2
        return len(self.rows) - 1

    def build(self) -> bytes:
        page = bytearray(PAGE)
        struct.pack_into("<BBH4sIH", page, 0, 0x01, 0x01, PAGE - self.used, self.owner, 0, len(self.rows))
        end = PAGE
        for i, row in enumerate(self.rows):
            start = end - len(row)
            page[start:end] = row
            struct.pack_into("<H", page, DATA_HEADER + 2 * i, start)
            end = start
        return bytes(page)


@dataclass
class Layout:
    """Where each column of a table lives in a row."""

    num_cols: int
    types: list[AccessType | int]  # by column number
    fixed: list[tuple[int, int, int]]  # (column number, offset in the fixed area, size)
    var: list[int]  # column numbers in variable-column order
    fixed_len: int
    booleans: list[int] = field(default_factory=list)

    @classmethod
    def for_columns(cls, columns: Sequence[ColumnDef]) -> Layout:
        fixed, var, booleans = [], [], []
        offset = 0
        for i, c in enumerate(columns):
            if c.type == AccessType.BOOLEAN:
                booleans.append(i)
            elif c.is_fixed:
                size = FIXED_SIZE[c.type]
                fixed.append((i, offset, size))
                offset += size
            else:
                var.append(i)
        return cls(len(columns), [c.type for c in columns], fixed, var, offset, booleans)


def encode_row(layout: Layout, cells: Sequence[bytes | bool | None]) -> bytes:
    """A Jet 4 row from per-column cells: bytes (already encoded), True/False (Yes/No), or None (null)."""
    n = layout.num_cols
    mask = bytearray((n + 7) // 8)
    fixed = bytearray(layout.fixed_len)
    for col, off, size in layout.fixed:
        cell = cells[col]
        if cell is not None:
            fixed[off : off + size] = cell  # type: ignore[assignment]  # fixed columns hold bytes
            mask[col >> 3] |= 1 << (col & 7)
    for col in layout.booleans:
        if cells[col]:
            mask[col >> 3] |= 1 << (col & 7)
    out = bytearray(struct.pack("<H", n))
    out += fixed
    if not layout.var:
        out += mask
        return bytes(out)
    offsets = []
    for col in layout.var:
        offsets.append(len(out))
        cell = cells[col]
        if cell is not None:
            out += cell  # type: ignore[arg-type]
            mask[col >> 3] |= 1 << (col & 7)
    eod = len(out)
    out += struct.pack("<H", eod)
    for off in reversed(offsets):
        out += struct.pack("<H", off)
    out += struct.pack("<H", len(layout.var))
    out += mask
    return bytes(out)


def decode_row(layout: Layout, row: bytes) -> list[bytes | bool | None]:
    """The inverse of :func:`encode_row` (used for the system tables of the blank database)."""
    n = struct.unpack_from("<H", row, 0)[0]
    mask = row[len(row) - (n + 7) // 8 :]

    def present(col: int) -> bool:
        return bool(mask[col >> 3] >> (col & 7) & 1)

    cells: list[bytes | bool | None] = [None] * layout.num_cols
    for col, off, size in layout.fixed:
        if present(col):
            cells[col] = row[2 + off : 2 + off + size]
    for col in layout.booleans:
        cells[col] = present(col)
    if layout.var:
        end_of_offsets = len(row) - len(mask) - 2
        nvar = struct.unpack_from("<H", row, end_of_offsets)[0]
        starts = [struct.unpack_from("<H", row, end_of_offsets - 2 * (i + 1))[0] for i in range(nvar)]
        eod = struct.unpack_from("<H", row, end_of_offsets - 2 * (nvar + 1))[0]
        bounds = [*starts, eod]
        for i, col in enumerate(layout.var[:nvar]):
            if present(col):
                cells[col] = row[bounds[i] : bounds[i + 1]]
    return cells


def parse_tdef(page: bytes) -> tuple[Layout, int, list[str]]:
    """Layout, usage-map pointer and column names of a one-page TDEF (the blank database's system tables)."""
    num_cols = struct.unpack_from("<H", page, 45)[0]
    num_real_idx = struct.unpack_from("<I", page, 51)[0]
    used_pages = struct.unpack_from("<I", page, 55)[0]
    pos = 63 + 12 * num_real_idx
    entries = []
    for _ in range(num_cols):
        kind = page[pos]
        col_num, off_v = struct.unpack_from("<HH", page, pos + 5)
        flags = page[pos + 15]
        off_f, length = struct.unpack_from("<HH", page, pos + 21)
        entries.append((col_num, kind, off_v, flags, off_f, length))
        pos += 25
    names = []
    for _ in range(num_cols):
        size = struct.unpack_from("<H", page, pos)[0]
        names.append(page[pos + 2 : pos + 2 + size].decode("utf-16-le"))
        pos += 2 + size
    order = sorted(range(num_cols), key=lambda i: entries[i][0])
    fixed, var, booleans, types = [], [], [], []
    fixed_len = 0
    for i in order:
        col_num, kind, off_v, flags, off_f, length = entries[i]
        types.append(kind)
        if kind == AccessType.BOOLEAN:
            booleans.append(col_num)
        elif flags & 0x01:
            fixed.append((col_num, off_f, length))
            fixed_len = max(fixed_len, off_f + length)
        else:
            var.append((off_v, col_num))
    layout = Layout(num_cols, types, fixed, [c for _, c in sorted(var)], fixed_len, booleans)
    return layout, used_pages, [names[i] for i in order]


def usage_map_row(pages: Sequence[int], allocate_map_page) -> bytes:
    """An owned-pages usage map: inline (type 0) if it fits in 512 pages, else a reference map (type 1)."""
    row = bytearray(USAGE_MAP_ROW)
    if not pages:
        return bytes(row)
    lo, hi = min(pages), max(pages)
    if hi - lo < INLINE_MAP_PAGES:
        row[0] = 0
        struct.pack_into("<I", row, 1, lo)
        for p in pages:
            bit = p - lo
            row[5 + (bit >> 3)] |= 1 << (bit & 7)
        return bytes(row)
    row[0] = 1
    by_map: dict[int, bytearray] = {}
    for p in pages:
        bits = by_map.setdefault(p // REF_MAP_PAGES, bytearray(PAGE - 4))
        bit = p % REF_MAP_PAGES
        bits[bit >> 3] |= 1 << (bit & 7)
    if max(by_map) >= (USAGE_MAP_ROW - 1) // 4:
        raise Jet4Error("the database would be larger than a Jet 4 usage map can describe (2 GB)")
    for index, bits in sorted(by_map.items()):
        number = allocate_map_page(b"\x05\x01\x00\x00" + bytes(bits))
        struct.pack_into("<I", row, 1 + 4 * index, number)
    return bytes(row)


# --- index leaf pages ----------------------------------------------------------------------------------------


def long_key(value: int) -> bytes:
    """An ascending index key for a Long: flag 0x7F, then big-endian with the sign bit flipped."""
    return b"\x7f" + struct.pack(">I", (value & 0xFFFFFFFF) ^ 0x80000000)


def sort_key_text(value: str) -> bytes:
    """An ascending index key for a text of ASCII letters in the General (legacy) sort order."""
    try:
        codes = bytes(_LETTER_CODES[c] for c in value.lower())
    except KeyError as exc:
        raise Jet4Error(f"{value!r}: only ASCII letters can be written to a text index") from exc
    return b"\x7f" + codes + b"\x01\x00"


def entry_pointer(page: int, row: int) -> bytes:
    return struct.pack(">I", page)[1:] + bytes([row])


INDEX_ENTRIES_START = 0x1E0
INDEX_MASK_START = 0x1B


def leaf_entries(page: bytes) -> list[bytes]:
    if page[0] != 0x04:
        raise Jet4Error("expected an index leaf page")
    prev_page, next_page, tail_page, pref_len = struct.unpack_from("<IIIH", page, 8)
    if prev_page or next_page or tail_page or pref_len:
        raise Jet4Error("index of more than one leaf page, or with a shared prefix, is not supported")
    mask = page[INDEX_MASK_START:INDEX_ENTRIES_START]
    entries, start = [], INDEX_ENTRIES_START
    for i in range(len(mask) * 8):
        if mask[i >> 3] >> (i & 7) & 1:
            end = INDEX_ENTRIES_START + i
            entries.append(bytes(page[start:end]))
            start = end
    return entries


def build_leaf(template: bytes, entries: list[bytes]) -> bytes:
    """A single-leaf index page holding ``entries`` sorted (the header is kept from ``template``)."""
    entries = sorted(entries)
    total = sum(len(e) for e in entries)
    if INDEX_ENTRIES_START + total > PAGE:
        raise Jet4Error("the catalog index would need a second page: too many tables for this writer")
    page = bytearray(PAGE)
    page[:INDEX_MASK_START] = template[:INDEX_MASK_START]
    struct.pack_into("<H", page, 2, PAGE - INDEX_ENTRIES_START - total)
    pos = 0
    for e in entries:
        page[INDEX_ENTRIES_START + pos : INDEX_ENTRIES_START + pos + len(e)] = e
        pos += len(e)
        page[INDEX_MASK_START + (pos >> 3)] |= 1 << (pos & 7)
    return bytes(page)


# --- the writer ----------------------------------------------------------------------------------------------


class _File:
    """Page allocation and writing: pages of the blank database are kept in memory, new ones streamed."""

    def __init__(self, fh: BinaryIO, base: bytes) -> None:
        self.fh = fh
        # pages kept in memory and written by finish(): the blank database's and new system-table pages
        self.base = {i // PAGE: bytearray(base[i : i + PAGE]) for i in range(0, len(base), PAGE)}
        self.next_page = len(self.base)
        fh.write(base)

    def allocate(self) -> int:
        n = self.next_page
        self.next_page += 1
        return n

    def write(self, number: int, data: bytes) -> None:
        if len(data) != PAGE:
            raise AssertionError("page size")
        if number in self.base:
            self.base[number][:] = data
        self.fh.seek(number * PAGE)
        self.fh.write(data)

    def write_new(self, data: bytes) -> int:
        number = self.allocate()
        self.write(number, data)
        return number

    def finish(self) -> None:
        for number, page in sorted(self.base.items()):
            self.fh.seek(number * PAGE)
            self.fh.write(page)
        self.fh.truncate(self.next_page * PAGE)


class _SystemTable:
    """Appends rows to a system table of the blank database (its last data page, then new pages)."""

    def __init__(self, f: _File, tdef_page: int) -> None:
        self.f = f
        self.tdef_page = tdef_page
        self.layout, used, _ = parse_tdef(bytes(f.base[tdef_page]))
        self.map_page, self.map_row = used >> 8, used & 0xFF
        self.added: list[tuple[list[bytes | bool | None], int, int]] = []

    def _map(self) -> tuple[bytearray, int, int]:
        page = self.f.base[self.map_page]
        start = struct.unpack_from("<H", page, DATA_HEADER + 2 * self.map_row)[0] & 0x1FFF
        if page[start] != 0:
            raise Jet4Error("system table with a reference usage map is not supported")
        return page, start, struct.unpack_from("<I", page, start + 1)[0]

    def data_pages(self) -> list[int]:
        page, start, first = self._map()
        return [
            first + i for i in range((USAGE_MAP_ROW - 5) * 8) if page[start + 5 + (i >> 3)] >> (i & 7) & 1
        ]

    def rows(self) -> list[list[bytes | bool | None]]:
        out = []
        for number in self.data_pages():
            page = self.f.base[number]
            count = struct.unpack_from("<H", page, 12)[0]
            end = PAGE
            for i in range(count):
                raw = struct.unpack_from("<H", page, DATA_HEADER + 2 * i)[0]
                start = raw & 0x1FFF
                if not raw & 0xC000:
                    out.append(decode_row(self.layout, bytes(page[start:end])))
                end = start
        return out

    def append(self, cells: list[bytes | bool | None]) -> tuple[int, int]:
        row = encode_row(self.layout, cells)
        pages = self.data_pages()
        number = pages[-1]
        page = self.f.base[number]
        free, count = struct.unpack_from("<H", page, 2)[0], struct.unpack_from("<H", page, 12)[0]
        if free < len(row) + 2 or count >= ROWS_PER_PAGE:
            number = self.f.allocate()
            self.f.base[number] = bytearray(DataPage(number, struct.pack("<I", self.tdef_page)).build())
            map_page, start, first = self._map()
            bit = number - first
            if not 0 <= bit < (USAGE_MAP_ROW - 5) * 8:
                raise Jet4Error("system table usage map full")
            map_page[start + 5 + (bit >> 3)] |= 1 << (bit & 7)
            page = self.f.base[number]
            free, count = struct.unpack_from("<H", page, 2)[0], 0
        lowest = min(
            [PAGE] + [struct.unpack_from("<H", page, DATA_HEADER + 2 * i)[0] & 0x1FFF for i in range(count)]
        )
        start = lowest - len(row)
        page[start:lowest] = row
        struct.pack_into("<H", page, DATA_HEADER + 2 * count, start)
        struct.pack_into("<H", page, 12, count + 1)
        struct.pack_into("<H", page, 2, free - len(row) - 2)
        tdef = self.f.base[self.tdef_page]
        struct.pack_into("<I", tdef, 16, struct.unpack_from("<I", tdef, 16)[0] + 1)
        self.added.append((cells, number, count))
        return number, count


def _long(cell: bytes | bool | None) -> int | None:
    return None if cell is None or isinstance(cell, bool) else struct.unpack("<i", cell)[0]


@dataclass
class _MemoColumn:
    col: int
    pages: list[int] = field(default_factory=list)
    current: DataPage | None = None


class _TableWriter:
    def __init__(self, f: _File, table: TableDef, tdef_page: int) -> None:
        self.f = f
        self.table = table
        self.tdef_page = tdef_page
        self.owner = struct.pack("<I", tdef_page)
        self.layout = Layout.for_columns(table.columns)
        self.pages: list[int] = []
        self.current: DataPage | None = None
        self.num_rows = 0
        self.memos = {i: _MemoColumn(i) for i, c in enumerate(table.columns) if c.type == AccessType.MEMO}
        self._encode = self._make_encoder()

    # LVAL pages: one open page per Memo column
    def _lval_row(self, memo: _MemoColumn, data: bytes) -> int:
        if memo.current is None or not memo.current.fits(len(data)):
            if memo.current is not None:
                self.f.write(memo.current.number, memo.current.build())
            memo.current = DataPage(self.f.allocate(), b"LVAL")
            memo.pages.append(memo.current.number)
        row = memo.current.add(data)
        return pointer(memo.current.number, row)

    def _memo(self, col: int, text: str) -> bytes:
        data = encode_text(text)
        size = len(data)
        if size >= 1 << 24:
            raise Jet4Error(f"{self.table.name}.{self.table.columns[col].name}: Memo longer than 16 MB")
        if size <= MEMO_INLINE_MAX:
            return struct.pack("<III", size | 0x80000000, 0, 0) + data
        memo = self.memos[col]
        if size <= LVAL_SINGLE_MAX:
            return struct.pack("<III", size | 0x40000000, self._lval_row(memo, data), 0)
        chunks = [data[i : i + LVAL_CHUNK_MAX] for i in range(0, size, LVAL_CHUNK_MAX)]
        nxt = 0
        for chunk in reversed(chunks):  # the last chunk first, so that each knows its successor
            nxt = self._lval_row(memo, struct.pack("<I", nxt) + chunk)
        return struct.pack("<III", size, nxt, 0)

    def _column_encoders(self) -> list:
        """One function a column: value (not None) -> bytes (or bool for Yes/No); raises on bad values."""
        encoders = []
        for i, c in enumerate(self.table.columns):
            kind = c.type
            if kind == AccessType.TEXT:
                encoders.append(_text_encoder(c.text_length))
            elif kind == AccessType.MEMO:
                encoders.append(lambda v, i=i: self._memo(i, str(v)))
            elif kind == AccessType.BOOLEAN:
                encoders.append(_bool_value)
            elif kind == AccessType.DATETIME:
                encoders.append(_datetime_bytes)
            elif kind in (AccessType.LONG, AccessType.INTEGER, AccessType.BYTE):
                encoders.append(_int_encoder(kind))
            elif kind == AccessType.DOUBLE:
                encoders.append(_double_bytes)
            else:
                encoders.append(lambda v, kind=kind: fixed_bytes(kind, v, "value"))
        return encoders

    def add(self, values: Sequence[Any]) -> None:
        rownum = self.num_rows + 1
        try:
            row = self._encode(values)
        except Jet4Error as exc:
            raise Jet4Error(f"{self.table.name} row {rownum}: {exc}") from None
        if DATA_HEADER + 2 + len(row) > PAGE:
            raise Jet4Error(f"{self.table.name} row {rownum}: {len(row)} bytes, more than a page")
        page = self.current
        if page is None or not page.fits(len(row)):
            self._flush()
            page = self.current = DataPage(self.f.allocate(), self.owner)
            self.pages.append(page.number)
        page.add(row)
        self.num_rows = rownum

    def _make_encoder(self):
        """A fast row encoder for this table (same bytes as :func:`encode_row`)."""
        cols = self.table.columns
        n = len(cols)
        encoders = self._column_encoders()
        names = [c.name for c in cols]
        fixed = [(col, b"\0" * size, encoders[col]) for col, _, size in self.layout.fixed]
        var = [(col, encoders[col]) for col in self.layout.var]
        booleans = [(col, encoders[col]) for col in self.layout.booleans]
        nvar = len(var)
        mask_len = (n + 7) // 8
        head = struct.pack("<H", n)
        fixed_len = self.layout.fixed_len
        tail_fmt = struct.Struct(f"<{nvar + 2}H")
        join = b"".join

        def encode(values: Sequence[Any]) -> bytes:
            if len(values) != n:
                raise Jet4Error(f"{len(values)} values for {n} columns")
            mask = 0
            parts = [head]
            for col, zero, enc in fixed:
                v = values[col]
                if v is None:
                    parts.append(zero)
                else:
                    try:
                        parts.append(enc(v))
                    except Jet4Error as exc:
                        raise Jet4Error(f"{names[col]}: {exc}") from None
                    mask |= 1 << col
            for col, enc in booleans:
                v = values[col]
                if v is not None and enc(v):
                    mask |= 1 << col
            if not nvar:
                return join(parts) + mask.to_bytes(mask_len, "little")
            offsets = []
            pos = 2 + fixed_len
            for col, enc in var:
                offsets.append(pos)
                v = values[col]
                if v is not None:
                    try:
                        b = enc(v)
                    except Jet4Error as exc:
                        raise Jet4Error(f"{names[col]}: {exc}") from None
                    parts.append(b)
                    pos += len(b)
                    mask |= 1 << col
            offsets.append(pos)
            offsets.reverse()
            parts.append(tail_fmt.pack(*offsets, nvar))
            parts.append(mask.to_bytes(mask_len, "little"))
            return join(parts)

        return encode

    def _flush(self) -> None:
        if self.current is not None:
            self.f.write(self.current.number, self.current.build())
            self.current = None

    def finish(self, maps: _MapPages) -> None:
        self._flush()
        for memo in self.memos.values():
            if memo.current is not None:
                self.f.write(memo.current.number, memo.current.build())
                memo.current = None
        used = maps.add(usage_map_row(self.pages, self.f.write_new))
        free = maps.add(bytes(USAGE_MAP_ROW))
        memo_maps = []
        for col, memo in self.memos.items():
            memo_maps.append(
                (col, maps.add(usage_map_row(memo.pages, self.f.write_new)), maps.add(bytes(USAGE_MAP_ROW)))
            )
        self.f.write(self.tdef_page, self.tdef(used, free, memo_maps))

    def tdef(self, used: int, free: int, memo_maps: list[tuple[int, int, int]]) -> bytes:
        cols = self.table.columns
        body = bytearray()
        fixed_off = {col: off for col, off, _ in self.layout.fixed}
        var_index = {col: k for k, col in enumerate(self.layout.var)}
        var_before = 0
        for i, c in enumerate(cols):
            fixed = c.is_fixed
            if c.type == AccessType.TEXT:
                length = 2 * c.text_length
            elif c.type == AccessType.MEMO:
                length = 0
            else:
                length = FIXED_SIZE[c.type]
            body += struct.pack(
                "<BIHHHHHBBIHH",
                int(c.type),
                MAGIC,
                i,
                var_before if fixed else var_index[i],
                i,
                0x0409,  # sort order "General" (for text; Access writes it for every column)
                0,
                0x03 if fixed else 0x02,  # 0x01 fixed length, 0x02 nullable
                0x01 if c.type in (AccessType.TEXT, AccessType.MEMO) else 0,  # Unicode compression
                0,
                fixed_off.get(i, 0),
                length,
            )
            if not fixed:
                var_before += 1
        for c in cols:
            name = c.name.encode("utf-16-le")
            body += struct.pack("<H", len(name)) + name
        for col, umap, fmap in memo_maps:
            body += struct.pack("<HII", col, umap, fmap)
        body += b"\xff\xff"
        header = bytearray(63)
        total = 63 + len(body)
        if total > PAGE - 8:
            raise Jet4Error(f"{self.table.name}: table definition longer than one page")
        struct.pack_into("<BBHI", header, 0, 0x02, 0x01, PAGE - 8 - total, 0)
        struct.pack_into("<IIII", header, 8, total, MAGIC, self.num_rows, 0)
        header[24] = 0x01
        header[40] = 0x4E  # user table
        n = len(cols)
        struct.pack_into("<HHHIIII", header, 41, n, len(self.layout.var), n, 0, 0, used, free)
        page = bytes(header) + bytes(body)
        return page + bytes(PAGE - len(page))


class _MapPages:
    """Data pages (owner 0) holding usage-map rows."""

    def __init__(self, f: _File) -> None:
        self.f = f
        self.current: DataPage | None = None

    def add(self, row: bytes) -> int:
        if self.current is None or not self.current.fits(len(row)):
            self.flush()
            self.current = DataPage(self.f.allocate(), b"\0\0\0\0")
        return pointer(self.current.number, self.current.add(row))

    def flush(self) -> None:
        if self.current is not None:
            self.f.write(self.current.number, self.current.build())
            self.current = None


def _stamp(when: datetime) -> bytes:
    return struct.pack("<d", datetime_to_double(when))


def write_mdb(
    path: str | Path,
    tables: Sequence[TableDef],
    rows: Mapping[str, Iterable[Sequence[Any]]] | None = None,
    *,
    created: datetime = datetime(2017, 1, 1),
) -> Path:
    """Write a Jet 4 database holding ``tables`` (in that order) and their ``rows``.

    ``rows[name]`` yields one sequence of values a row, in column order: None for null; str for Text/Memo;
    int (or digit text) for Byte/Integer/Long; a number (or numeric text) for Single/Double/Currency; a
    ``date``, ``datetime`` or ``time`` (or ISO text ``YYYY-MM-DD``, ``HH:MM[:SS]``, or a full ISO
    timestamp) for Date/Time; bool for Yes/No. Rows are stored in the given order, which is the order
    mdbtools, mdb-reader and access-parser return them in. ``created`` stamps the catalog entries (fixed
    by default so that the same input gives the same bytes). Raises :class:`Jet4Error` for a value the
    column cannot hold.
    """
    path = Path(path)
    rows = rows or {}
    names = [t.name.lower() for t in tables]
    if len(set(names)) != len(names):
        raise Jet4Error("two tables with the same name (Access ignores case)")
    unknown = set(rows) - {t.name for t in tables}
    if unknown:
        raise Jet4Error(f"rows given for tables not defined: {sorted(unknown)}")
    with path.open("w+b") as fh:
        f = _File(fh, blank_jet4())
        objects = _SystemTable(f, MSYSOBJECTS_TDEF)
        aces = _SystemTable(f, MSYSACES_TDEF)
        # Catalog first, so that any new system page lies inside the system tables' inline usage maps.
        tables_row = next(r for r in objects.rows() if _long(r[0]) == TABLES_CONTAINER_ID)
        inherited = [r for r in aces.rows() if _long(r[0]) == TABLES_CONTAINER_ID and r[3] is True]
        tdef_pages = [f.allocate() for _ in tables]
        stamp = _stamp(created)
        for table, tdef_page in zip(tables, tdef_pages, strict=True):
            cells: list[bytes | bool | None] = [None] * objects.layout.num_cols
            cells[0] = struct.pack("<i", tdef_page)  # Id
            cells[1] = struct.pack("<i", TABLES_CONTAINER_ID)  # ParentId
            cells[2] = table.name.encode("utf-16-le")  # Name (this column is not compressed)
            cells[3] = struct.pack("<h", 1)  # Type: local table
            cells[4] = cells[5] = stamp  # DateCreate, DateUpdate
            cells[6] = tables_row[6]  # Owner
            cells[7] = struct.pack("<i", 0)  # Flags
            objects.append(cells)
            for ace in inherited:
                aces.append([struct.pack("<i", tdef_page), ace[1], ace[2], False])
        _update_indexes(f, objects, aces)
        maps = _MapPages(f)
        for table, tdef_page in zip(tables, tdef_pages, strict=True):
            writer = _TableWriter(f, table, tdef_page)
            for values in rows.get(table.name, ()):
                writer.add(values)
            writer.finish(maps)
        maps.flush()
        f.finish()
    return path


def _update_indexes(f: _File, objects: _SystemTable, aces: _SystemTable) -> None:
    by_id, by_name, by_ace = [], [], []
    for cells, page, row in objects.added:
        ptr = entry_pointer(page, row)
        object_id, parent = _long(cells[0]), _long(cells[1])
        name = cells[2]
        if object_id is None or parent is None or not isinstance(name, bytes):
            raise AssertionError("catalog row")
        text = name.decode("utf-16-le")
        by_id.append(long_key(object_id) + ptr)
        by_name.append(long_key(parent) + sort_key_text(text) + ptr)
    for cells, page, row in aces.added:
        object_id = _long(cells[0])
        if object_id is None:
            raise AssertionError("ACE row")
        by_ace.append(long_key(object_id) + entry_pointer(page, row))
    for number, new in (
        (INDEX_LEAF_OBJECTS_ID, by_id),
        (INDEX_LEAF_OBJECTS_PARENT_NAME, by_name),
        (INDEX_LEAF_ACES_OBJECT_ID, by_ace),
    ):
        leaf = bytes(f.base[number])
        f.base[number][:] = build_leaf(leaf, leaf_entries(leaf) + new)
