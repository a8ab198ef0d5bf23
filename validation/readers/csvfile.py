"""One CSV entry of a CSV package (spec 4.3): UTF-8 check, RFC 4180 structure check, parse to a RawTable.

Passes over a file already on disk (the ZIP entry is streamed to a temp file first):

1. a chunked strict UTF-8 decode (a leading BOM is tolerated); the same pass counts line ends and commas of a
   file without any quote character whose CRs are all in CRLFs and whose last line ends: such a file's records
   are its lines and their field counts their commas + 1, so when the commas add up to the header's on every
   line and polars returns as many rows as lines, each as wide as the header (it refuses a line with more
   fields, and a line with fewer would need another with more), every record has the header's field count and
   pass 2 is skipped (a quarter of the reading cost of a 1 M-row package);
2. otherwise the structure check: the field count of every record. An unterminated quote, a quote followed by anything
   but a separator or line end, or a record whose field count differs from the header's is FILE007. An empty
   line (``[]``) is a fully blank row, not an error. The count is vectorised (numpy over 4 MiB chunks, see
   ``_scan_field_counts``) and reproduces the standard-library ``csv`` module (``strict=True``) exactly for
   files whose quotes all open a field, close it or are doubled inside it and whose CRs all end lines; any
   other file (rare, and every malformed one) is counted by the ``csv`` module itself, in a thread while
   polars parses, as before;
3. polars parses the file with every column as String and ``has_header=False`` (the header row is taken as
   data so blank and repeated names survive). Polars keeps empty lines as rows of empty strings, so row numbers
   are simply positions. If polars disagrees with the count of pass 2 (a bare quote inside an unquoted field,
   which polars refuses, or a different record count) the frame is built from the ``csv`` module instead.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from validation.model import RawTable
from validation.readers.common import CsvInvalid, empty_table, log, trim, with_row_numbers

_CHUNK = 4 * 1024 * 1024
_BOM = codecs.BOM_UTF8

csv.field_size_limit(sys.maxsize)


def check_utf8(path: Path) -> bool:
    """True when the file is valid UTF-8 (with or without a BOM). Streams in 4 MiB chunks."""
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                dec.decode(chunk)
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _utf8_and_plain_counts(path: Path) -> tuple[bool, tuple[int, int] | None]:
    """One pass: is the file valid UTF-8 (as ``check_utf8``), and, when it has no quote character and
    every CR is part of a CRLF, its (lines, commas): such a file's records are its lines and each record's
    fields are its commas + 1, so nothing more needs counting when every line holds the header's commas."""
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    plain, lines, commas, crs, crlfs, last = True, 0, 0, 0, 0, b""
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                # An ASCII chunk is valid unless a sequence cut at the previous chunk's end is pending: its
                # first byte tells.
                dec.decode(chunk[:1] if chunk.isascii() else chunk)
                if plain:
                    if b'"' in chunk:
                        plain = False
                    else:
                        lines += chunk.count(b"\n")
                        commas += chunk.count(b",")
                        if b"\r" in chunk:
                            crs += chunk.count(b"\r")
                            crlfs += chunk.count(b"\r\n")
                        if last == b"\r" and chunk[:1] == b"\n":
                            crlfs += 1
                last = chunk[-1:]
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False, None
    if not plain or crs != crlfs or last != b"\n":
        # (polars drops a trailing comma on a last line without a line end: no shortcut then)
        return True, None
    return True, (lines, commas)


def _has_content(path: Path) -> bool:
    """False for a 0-byte file or one holding only a BOM: no header row at all."""
    with path.open("rb") as f:
        head = f.read(len(_BOM) + 1)
    return bool(head) and head != _BOM


def _record_counts(path: Path) -> tuple[list[str], Counter[int]]:
    """Header fields and a count of data records per field count. Raises CsvInvalid on a quoting error."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, strict=True)
        try:
            header = next(reader, [])
            counts: Counter[int] = Counter(map(len, reader))
        except csv.Error as exc:
            raise CsvInvalid(f"CSV syntax error near line {reader.line_num}: {exc}") from exc
    return header, counts


_QUOTE, _COMMA, _LF, _CR = 0x22, 0x2C, 0x0A, 0x0D
_FIELD_START_BEFORE = np.array([_COMMA, _LF, _CR, _QUOTE], dtype=np.uint8)
_FIELD_END_AFTER = np.array([_COMMA, _LF, _CR, _QUOTE], dtype=np.uint8)


def _scan_field_counts(path: Path) -> np.ndarray | None:
    """Field count of every record (header included), vectorised; None when the ``csv`` module must decide.

    The file is read in chunks (bounded memory). A byte is inside a quoted field when an odd number of quotes
    precede it; that holds, and the ``csv`` module (strict) reads the file the same way, when every quote of
    even rank starts a field (after a separator, a line end or the start) or doubles the quote just before it,
    and every quote of odd rank is followed by a separator, a line end, the end of the file or a quote. Outside
    quotes, LF ends a record (CR LF too; a CR not followed by LF is left to the ``csv`` module), each comma
    adds a field, and an empty record (``""`` or ``"\r"``) has no field at all. Anything else - a literal
    quote inside an unquoted field, text after a closing quote, an unterminated quote, a lone CR - returns None.
    """
    counts: list[np.ndarray] = []
    n_quotes = 0  # quotes before the current chunk (their parity says whether it starts inside quotes)
    prev = _LF  # byte before the chunk; the start of the file counts as a line end
    rec_start = 0  # global offset of the record in progress
    rec_commas = 0  # its commas so far (outside quotes)
    offset = 0
    with path.open("rb") as f:
        head = f.read(len(_BOM))
        if head == _BOM:
            offset = rec_start = len(_BOM)
            data = f.read(_CHUNK)
        else:
            data = head + f.read(_CHUNK)
        while data:
            ahead = f.read(_CHUNK)
            a = np.frombuffer(data, dtype=np.uint8)
            nxt = ahead[0] if ahead else None  # the byte after the chunk (None at the end of the file)
            q = np.flatnonzero(a == _QUOTE)
            if q.size:
                rank_even = (n_quotes + np.arange(q.size)) % 2 == 0
                before = np.where(q > 0, a[np.maximum(q - 1, 0)], prev)
                after = np.where(
                    q + 1 < a.size,
                    a[np.minimum(q + 1, a.size - 1)].astype(np.int16),
                    -1 if nxt is None else nxt,
                )
                if not np.isin(before[rank_even], _FIELD_START_BEFORE).all():
                    return None
                if (before[rank_even] == _QUOTE).any() and not _doubles_ok(q, rank_even, before):
                    return None
                odd_after = after[~rank_even]
                if not (np.isin(odd_after, _FIELD_END_AFTER) | (odd_after == -1)).all():
                    return None
            lf = np.flatnonzero(a == _LF)
            cr = np.flatnonzero(a == _CR)
            commas = np.flatnonzero(a == _COMMA)
            if q.size or n_quotes % 2:
                lf = lf[(n_quotes + np.searchsorted(q, lf)) % 2 == 0]
                cr = cr[(n_quotes + np.searchsorted(q, cr)) % 2 == 0]
                commas = commas[(n_quotes + np.searchsorted(q, commas)) % 2 == 0]
            if cr.size:
                cr_next = np.where(
                    cr + 1 < a.size,
                    a[np.minimum(cr + 1, a.size - 1)].astype(np.int16),
                    -1 if nxt is None else nxt,
                )
                if (cr_next != _LF).any():
                    return None
            if lf.size:
                # commas per record: those before each LF minus those before the previous one
                before_lf = np.searchsorted(commas, lf)
                per = np.diff(before_lf, prepend=0)
                per[0] += rec_commas
                starts = np.empty_like(lf)
                starts[0] = rec_start - offset
                starts[1:] = lf[:-1] + 1
                length = lf - starts
                last = np.where(lf > 0, a[np.maximum(lf - 1, 0)], prev)
                empty = (length == 0) | ((length == 1) & (last == _CR))
                counts.append(np.where(empty, 0, per + 1))
                rec_start = offset + int(lf[-1]) + 1
                rec_commas = int(commas.size - before_lf[-1])
            else:
                rec_commas += int(commas.size)
            n_quotes += int(q.size)
            prev = int(a[-1])
            offset += a.size
            data = ahead
    if n_quotes % 2:
        return None  # unterminated quote: the csv module reports it
    if offset > rec_start:  # a last record without a final line end
        counts.append(np.array([rec_commas + 1]))
    return np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)


def _doubles_ok(q: np.ndarray, rank_even: np.ndarray, before: np.ndarray) -> bool:
    """An even-rank quote preceded by a quote must directly follow the previous quote (a doubled quote)."""
    idx = np.flatnonzero(rank_even & (before == _QUOTE))
    return bool((idx > 0).all() and (q[idx] - q[np.maximum(idx - 1, 0)] == 1).all())


def _header_fields(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        try:
            return next(csv.reader(f, strict=True), [])
        except csv.Error as exc:
            raise CsvInvalid(f"CSV syntax error in the header: {exc}") from exc


# A large entry's columns with few distinct values (codes, dates, scores) are parsed as Categorical, each over
# categories of its own: the engine computes such a column once per distinct value anyway
# (``validation.engine.prepare``), and parsing straight to codes spares it the String column and a hashing
# pass. Decided, as the engine decides, on a sample of the first rows; a smaller entry stays String.
CATEGORICAL_SAMPLE_ROWS = 20_000
_SAMPLE_BYTES = 4 * 1024 * 1024
_POLARS_OPTIONS: dict[str, Any] = {
    "has_header": False,
    "infer_schema": False,
    "quote_char": '"',
    "separator": ",",
    "raise_if_empty": False,
    "empty_string_is_null": False,
    "low_memory": False,
}


def _few_values_columns(path: Path) -> dict[str, pl.DataType]:
    # The sample is parsed from the file's first lines only (a guess: a line end inside quotes may cut it
    # short or make polars refuse it; the engine handles String and Categorical columns alike).
    with path.open("rb") as f:
        head = f.read(_SAMPLE_BYTES)
    ends = np.flatnonzero(np.frombuffer(head, dtype=np.uint8) == _LF)
    if ends.size < CATEGORICAL_SAMPLE_ROWS + 2:
        return {}  # a small entry (or very long lines)
    try:
        sample = pl.read_csv(
            io.BytesIO(head[: int(ends[CATEGORICAL_SAMPLE_ROWS + 1]) + 1]), **_POLARS_OPTIONS
        )
    except Exception:
        return {}
    if sample.height <= CATEGORICAL_SAMPLE_ROWS:
        return {}
    body = sample.slice(1, CATEGORICAL_SAMPLE_ROWS)  # the header row is data here
    distinct = body.select(pl.all().n_unique()).row(0)
    return {
        c: pl.Categorical(pl.Categories.random())
        for c, n in zip(body.columns, distinct, strict=True)
        if 2 * n <= body.height
    }


def _frame_with_polars(path: Path, *, overrides: dict[str, pl.DataType] | None = None) -> pl.DataFrame | None:
    try:
        frame = pl.read_csv(path, schema_overrides=overrides or None, **_POLARS_OPTIONS)
    except Exception as exc:  # polars refuses some inputs the csv module accepts: fall back
        log.info("polars could not parse %s (%s); using the csv module", path.name, exc)
        return None
    return frame


def _frame_with_csv_module(path: Path, width: int) -> pl.DataFrame:
    columns: list[list[str | None]] = [[] for _ in range(width)]
    with path.open(encoding="utf-8-sig", newline="") as f:
        for rec in csv.reader(f, strict=True):
            if not rec:
                rec = [""] * width
            for col, value in zip(columns, rec, strict=True):
                col.append(value)
    return pl.DataFrame(
        {f"column_{i}": pl.Series(values, dtype=pl.String) for i, values in enumerate(columns)}
    )


def _wrong_counts(counts: Counter[int], width: int) -> set[int]:
    return {n for n in counts if n != width and n != 0}


def read_csv_table(path: Path, *, name: str, source: str) -> RawTable:
    """Read one CSV entry. Raises CsvInvalid (FILE007) when it is not valid UTF-8 CSV."""
    if not _has_content(path):
        return empty_table(name, source)
    # polars parses (releasing the GIL) while the UTF-8 pass counts; the frame is used only once the file
    # has passed the checks that would have let it be parsed.
    with ThreadPoolExecutor(max_workers=1) as pool:
        parsed = pool.submit(lambda: _frame_with_polars(path, overrides=_few_values_columns(path)))
        try:
            utf8, plain = _utf8_and_plain_counts(path)
        finally:
            polars_frame = parsed.result()
    if not utf8:
        raise CsvInvalid("not valid UTF-8")
    header: list[str] = []
    frame: pl.DataFrame | None = None
    counts: Counter[int] | None = None
    if plain is not None:
        # No quotes, CRs only in CRLFs: when the commas add up to the header's on every line, polars finding
        # as many rows as lines, each as wide as the header, means every record has the header's field count
        # (polars refuses a line with more fields; one with fewer would need another with more).
        header = _header_fields(path)
        lines, commas = plain
        if header and commas == (len(header) - 1) * lines:
            frame = polars_frame
            if frame is not None and frame.width == len(header) and frame.height == lines:
                counts = Counter({len(header): lines - 1})
            else:
                frame = None
    if counts is None:
        header, counts, frame = _checked_frame(path, polars_frame)
    return _finish(path, name, source, header, counts, frame)


def _checked_frame(
    path: Path, polars_frame: pl.DataFrame | None
) -> tuple[list[str], Counter[int], pl.DataFrame | None]:
    """Header, field counts (vectorised scan or the csv module) and the polars frame (``polars_frame``, the
    file as ``_frame_with_polars`` parsed it; None when refused or when the counts are wrong)."""
    scanned = _scan_field_counts(path)
    frame: pl.DataFrame | None = None
    header: list[str] = []
    if scanned is not None and scanned.size:
        header = _header_fields(path)
        if len(header) != int(scanned[0]):
            scanned = None  # cannot happen when the scan is right; let the csv module decide
    if scanned is not None and scanned.size:
        values, n = np.unique(scanned[1:], return_counts=True)
        counts: Counter[int] = Counter(dict(zip(values.tolist(), n.tolist(), strict=True)))
        frame = polars_frame if not _wrong_counts(counts, max(len(header), 1)) else None
    else:
        header, counts = _record_counts(path)
        frame = polars_frame
    return header, counts, frame


def _finish(
    path: Path, name: str, source: str, header: list[str], counts: Counter[int], frame: pl.DataFrame | None
) -> RawTable:
    width = len(header)
    if width == 0:
        # An empty first line: a header of one blank name (an empty line is one empty field).
        header, width = [""], 1
    wrong = _wrong_counts(counts, width)
    if wrong:
        raise CsvInvalid(f"records with {sorted(wrong)} fields; the header has {width}")
    n_records = 1 + sum(counts.values())
    if frame is not None and frame.width != width:
        frame = None
    if frame is None or frame.height != n_records:
        if frame is not None:
            log.info("polars found %d records in %s, csv module %d", frame.height, path.name, n_records)
        frame = _frame_with_csv_module(path, width)
    frame = with_row_numbers(frame.slice(1), first=1)
    # Empty strings and nulls are both blank; keep the polars nulls of an empty line as "".
    return RawTable(name=name, source=source, headers=[trim(h) for h in header], frame=frame)
