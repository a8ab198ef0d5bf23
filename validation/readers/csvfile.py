"""One CSV entry of a CSV package (spec 4.3): UTF-8 check, RFC 4180 structure check, parse to a RawTable.

Three passes over a file already on disk (the ZIP entry is streamed to a temp file first):

1. a chunked strict UTF-8 decode (a leading BOM is tolerated);
2. the standard-library ``csv`` module (C parser, ``strict=True``) counts the fields of every record: an
   unterminated quote, a quote followed by anything but a separator or line end, or a record whose field count
   differs from the header's is FILE007. An empty line (``[]``) is a fully blank row, not an error;
3. polars parses the file (in a thread, at the same time as pass 2) with every column as String and ``has_header=False`` (the header row is taken as
   data so blank and repeated names survive). Polars keeps empty lines as rows of empty strings, so row numbers
   are simply positions. If polars disagrees with the ``csv`` module (a bare quote inside an unquoted field,
   which polars refuses, or a different record count) the frame is built from the ``csv`` module instead.
"""

from __future__ import annotations

import codecs
import csv
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def _frame_with_polars(path: Path) -> pl.DataFrame | None:
    try:
        frame = pl.read_csv(
            path,
            has_header=False,
            infer_schema=False,
            quote_char='"',
            separator=",",
            raise_if_empty=False,
            empty_string_is_null=False,
            low_memory=False,
        )
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


def read_csv_table(path: Path, *, name: str, source: str) -> RawTable:
    """Read one CSV entry. Raises CsvInvalid (FILE007) when it is not valid UTF-8 CSV."""
    if not _has_content(path):
        return empty_table(name, source)
    if not check_utf8(path):
        raise CsvInvalid("not valid UTF-8")
    # polars parses (releasing the GIL) while the csv module checks the structure.
    with ThreadPoolExecutor(max_workers=1) as pool:
        parsed = pool.submit(_frame_with_polars, path)
        try:
            header, counts = _record_counts(path)
        finally:
            frame = parsed.result()
    width = len(header)
    if width == 0:
        # An empty first line: a header of one blank name (an empty line is one empty field).
        header, width = [""], 1
    wrong = {n for n in counts if n != width and n != 0}
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
