"""Access IDBs (.mdb Jet 3/4, .accdb ACE) through mdbtools (spec 4.2).

Commands (run with ``LC_ALL=C.UTF-8`` so that numbers never use a decimal comma):

* ``mdb-tables -1 FILE``: the user tables, one per line (``MSys*`` tables are also dropped here);
* ``mdb-schema --no-relations -T TABLE FILE access``: the column names (``[name]``) and Access types, in
  table order, which is also the order of ``mdb-export``'s fields;
* ``mdb-prop FILE TABLE``: column properties, used only to tell a Hyperlink (``IsHyperlink``) from a Memo
  and to spot a Calculated field (``Expression``);
* ``mdb-export -H -B -b strip -D FMT -T FMT FILE TABLE`` with FMT ``%Y-%m-%d %H:%M:%S`` for both short dates
  and dates (so that a time part is never lost): header row suppressed (names come from the schema, so a
  comma in a column name cannot shift fields), text fields quoted with doubled quotes (embedded quotes and
  line breaks survive), NULL written as an empty unquoted field (read as null) and an empty string as ``""``.
  The export goes to a temp file that polars reads with every column as String. Row numbers follow
  mdb-export's order.

``RawTable.access_types`` vocabulary (one entry per column; FILE014 compares it with
``ACCESS_TYPES_ALLOWED``):

    "Text", "Memo", "Hyperlink", "Byte", "Integer", "Long Integer", "Single", "Double", "Numeric" (Access
    Decimal), "Currency", "DateTime", "Boolean" (Yes/No), "OLE", "Binary", "Replication ID", "Calculated",
    "Complex" (attachment / multi-valued), or "Unknown <mdbtools name>" for anything else.

Value text (spec 4.2): integers as printed; Single via 32-bit shortest round-trip text (a Single 2.3 reads
``2.3``), Double via 64-bit shortest round-trip, both without exponent; Numeric and Currency exact, without
trailing zeros; DateTime as ``YYYY-MM-DD`` (date part) or, in a ``time`` column of the data set,
``HH:MM:SS`` (mdbtools already rounds to the second; its ``24:00:00`` becomes ``23:59:59``). mdbtools 1.0
prints a date it cannot convert (before 1899-12-30 or after year ~4637) as ``1900-01-00``; that text is passed
on unchanged and fails the date check.

A database password or Jet encoding is detected from the (RC4-masked) database header page: FILE005.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import tempfile
from pathlib import Path

import polars as pl

from validation.dataset.schema import ColumnType, DataSet
from validation.model import ROW, RawTable
from validation.readers.common import CannotOpen, column_for, empty_frame, log, plain_decimal, trim

ACCESS_TYPES_ALLOWED: dict[ColumnType, frozenset[str]] = {
    ColumnType.TEXT: frozenset({"Text", "Memo"}),
    ColumnType.INTEGER: frozenset({"Byte", "Integer", "Long Integer"}),
    ColumnType.DECIMAL: frozenset({"Single", "Double", "Numeric", "Currency"}),
    ColumnType.DATE: frozenset({"DateTime"}),
    ColumnType.TIME: frozenset({"DateTime", "Text"}),
}

_DATE_FMT = "%Y-%m-%d %H:%M:%S"
_TIMEOUT = 1800  # seconds per mdbtools call
_TYPE_NAMES = {
    "Text": "Text",
    "Memo/Hyperlink": "Memo",
    "Memo": "Memo",
    "Byte": "Byte",
    "Integer": "Integer",
    "Long Integer": "Long Integer",
    "Single": "Single",
    "Double": "Double",
    "Numeric": "Numeric",
    "Currency": "Currency",
    "DateTime": "DateTime",
    "DateTime (Short)": "DateTime",
    "Boolean": "Boolean",
    "OLE": "OLE",
    "Binary": "Binary",
    "Replication ID": "Replication ID",
    "Complex": "Complex",
}
_COLUMN_LINE = re.compile(
    r"^\s+\[(?P<name>[^\]]*)\]\s+(?P<type>.+?)\s*(?:\((?P<size>[\d,\s]*)\))?\s*(?:NOT NULL)?\s*,?\s*$"
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C.UTF-8"
    env.pop("MDBICONV", None)
    env.pop("MDB_JET3_CHARSET", None)
    return env


def _run(args: list[str], *, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, stdout=stdout, stderr=subprocess.PIPE, env=_env(), timeout=_TIMEOUT, check=False
    )


# --- header page: password / encoding ----------------------------------------------------------------------


def _rc4(key: bytes, n: int) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for _ in range(n):
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out.append(s[(s[i] + s[j]) & 0xFF])
    return bytes(out)


_HEADER_MASK = _rc4(bytes([0xC7, 0xDA, 0x39, 0x6B]), 128)  # key 0x6b39dac7, masks header bytes 0x18..0x97


def header_protection(path: Path) -> str | None:
    """Why the database is protected ("password", "encoded"), None if it is not, "not access" for junk."""
    with path.open("rb") as f:
        page = bytearray(f.read(0x100))
    if len(page) < 0x100 or page[4:19] not in (b"Standard Jet DB", b"Standard ACE DB"):
        return "not access"
    for k, m in enumerate(_HEADER_MASK):
        page[0x18 + k] ^= m
    version = page[0x14]
    if struct.unpack_from("<I", page, 0x3E)[0] != 0:
        return "encoded"
    if version == 0:  # Jet 3: 20 password bytes, no extra mask
        pwd = bytes(page[0x42 : 0x42 + 20])
    else:  # Jet 4 / ACE: 40 bytes, masked again with the creation date
        (when,) = struct.unpack_from("<d", page, 0x72)
        try:
            mask = struct.pack("<i", int(when))
        except (OverflowError, ValueError, struct.error):
            mask = b"\0\0\0\0"
        pwd = bytes(b ^ mask[i % 4] for i, b in enumerate(page[0x42 : 0x42 + 40]))
    if any(pwd):
        return "password"
    return None


# --- schema --------------------------------------------------------------------------------------------------


def list_tables(path: Path) -> list[str]:
    proc = _run(["mdb-tables", "-1", str(path)])
    if proc.returncode != 0:
        raise CannotOpen(
            f"mdb-tables failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[:500]}"
        )
    names = proc.stdout.decode("utf-8", errors="replace").splitlines()
    return [n for n in names if n and not n.startswith("MSys")]


def table_schema(path: Path, table: str) -> list[tuple[str, str]]:
    """(column name, mdbtools type name) in table order."""
    proc = _run(["mdb-schema", "--no-relations", "-T", table, str(path), "access"])
    if proc.returncode != 0:
        raise CannotOpen(f"mdb-schema failed for {table!r}: {proc.stderr.decode(errors='replace')[:500]}")
    cols: list[tuple[str, str]] = []
    inside = False
    for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
        if line.startswith("CREATE TABLE"):
            inside = True
            continue
        if not inside:
            continue
        if line.strip().startswith(");"):
            break
        m = _COLUMN_LINE.match(line)
        if m:
            cols.append((m.group("name"), m.group("type").strip()))
    return cols


def column_properties(path: Path, table: str) -> dict[str, dict[str, str]]:
    """Column name -> {property: value} from mdb-prop; empty if mdb-prop cannot tell."""
    try:
        proc = _run(["mdb-prop", str(path), table])
    except (OSError, subprocess.SubprocessError):
        return {}
    if proc.returncode != 0:
        return {}
    props: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
        if line.startswith("name: "):
            current = props.setdefault(line[6:], {})
        elif line.startswith("\t") and current is not None and ":" in line:
            key, _, value = line.strip().partition(":")
            current[key.strip()] = value.strip()
    return props


def access_type(mdb_type: str, props: dict[str, str]) -> str:
    if "Expression" in props:
        return "Calculated"
    name = _TYPE_NAMES.get(mdb_type)
    if name is None:
        return f"Unknown {mdb_type}"
    if name == "Memo" and props.get("IsHyperlink", "").lower() in ("yes", "true", "1"):
        return "Hyperlink"
    return name


# --- values --------------------------------------------------------------------------------------------------


def _f32(value: float) -> float | None:
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return None


def single_text(text: str) -> str:
    """Shortest decimal text that round-trips through a 32-bit float, without exponent."""
    f32 = _f32(float(text))
    if f32 is None:  # beyond the 32-bit range after rounding: keep the 64-bit reading
        return double_text(text)
    if f32 != f32 or f32 in (float("inf"), float("-inf")):
        return text
    for digits in range(1, 10):
        candidate = f"{f32:.{digits}g}"
        if _f32(float(candidate)) == f32:
            return plain_decimal(repr(float(candidate)))
    return plain_decimal(repr(f32))


def double_text(text: str) -> str:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        return text
    return plain_decimal(repr(value))


def _map_unique(expr: pl.Expr, fn) -> pl.Expr:
    return expr.map_elements(fn, return_dtype=pl.String, skip_nulls=True)


def _column_expr(name: str, atype: str, is_time: bool) -> pl.Expr:
    c = pl.col(name)
    if atype == "DateTime":
        if is_time:
            t = c.str.slice(11, 8)
            return pl.when(t == "24:00:00").then(pl.lit("23:59:59")).otherwise(t).alias(name)
        return c.str.slice(0, 10).alias(name)
    if atype in ("Numeric", "Currency"):
        trimmed = c.str.replace(r"^(-?\d*\.\d*?)0+$", "${1}").str.replace(r"\.$", "")
        return pl.when(c.str.contains(r"\.")).then(trimmed).otherwise(c).alias(name)
    if atype == "Single":
        return _map_unique(c, single_text).alias(name)
    if atype == "Double":
        return _map_unique(c, double_text).alias(name)
    return c


_PAGE_ERROR = re.compile(rb"beyond EOF|reading page \d+ failed")


def export_table(path: Path, table: str, n_cols: int, work_dir: Path) -> pl.DataFrame:
    fd, tmp_name = tempfile.mkstemp(prefix="mdbexport-", suffix=".csv", dir=work_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            proc = _run(
                ["mdb-export", "-H", "-B", "-b", "strip", "-D", _DATE_FMT, "-T", _DATE_FMT, str(path), table],
                stdout=out,
            )
        if proc.returncode != 0 or _PAGE_ERROR.search(proc.stderr):
            # mdbtools exits 0 on a truncated file, skipping the pages it cannot read: still corrupt.
            raise CannotOpen(f"mdb-export failed for {table!r}: {proc.stderr.decode(errors='replace')[:500]}")
        if tmp.stat().st_size == 0:
            return empty_frame(n_cols).drop(ROW)
        frame = pl.read_csv(
            tmp,
            has_header=False,
            infer_schema=False,
            quote_char='"',
            raise_if_empty=False,
            encoding="utf8-lossy",
            low_memory=False,
        )
    finally:
        tmp.unlink(missing_ok=True)
    if frame.width != n_cols:
        raise CannotOpen(f"mdb-export gave {frame.width} fields for {table!r}, schema has {n_cols}")
    return frame.rename(dict(zip(frame.columns, [f"c{i}" for i in range(n_cols)], strict=True)))


def read_access(path: Path, *, dataset: DataSet | None, work_dir: Path) -> list[RawTable]:
    """Every user table of the IDB. Raises CannotOpen (FILE005)."""
    protection = header_protection(path)
    if protection is not None:
        raise CannotOpen(f"Access file refused: {protection}")
    tables: list[RawTable] = []
    for table in list_tables(path):
        schema = table_schema(path, table)
        props = column_properties(path, table)
        names = [n for n, _ in schema]
        types = [access_type(t, props.get(n, {})) for n, t in schema]
        frame = export_table(path, table, len(schema), work_dir)
        exprs = []
        for i, (name, atype) in enumerate(zip(names, types, strict=True)):
            col = column_for(dataset, table, trim(name))
            exprs.append(_column_expr(f"c{i}", atype, col is not None and col.type == ColumnType.TIME))
        if exprs:
            frame = frame.with_columns(exprs)
        frame = frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ROW))
        tables.append(
            RawTable(
                name=table,
                source=table,
                headers=[trim(n) for n in names],
                frame=frame,
                access_types=types,
            )
        )
        log.debug("read Access table %r: %d rows, types %s", table, frame.height, types)
    return tables
