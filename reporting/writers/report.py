"""Validation report writers (spec 10.1): CSV, XLSX and JSON.

Input is ``ValidationResult.findings`` (columns ``validation.model.FINDING_COLUMNS``), already in
the report's line order; the writers never re-sort, drop or alter findings.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import IO, Any, BinaryIO
from zoneinfo import ZoneInfo

import polars as pl

from validation.model import TableCounts

from .common import (
    COUNT_FIELDS,
    COUNT_HEADERS,
    DEFAULT_REPORT_KEYS,
    REPORT_COLUMNS,
    check_findings,
    counts_rows,
    report_frame,
)
from .xlsx import (
    EXCEL_MAX_ROWS,
    NUMBER,
    TEXT,
    column_widths,
    open_workbook,
    write_frame_sheets,
    write_rows_sheet,
)

LONDON = ZoneInfo("Europe/London")
CSV_LINE_TERMINATOR = "\r\n"  # RFC 4180
CSV_CHUNK_ROWS = 100_000

FINDINGS_SHEET = "Findings"
COUNTS_SHEET = "Counts"
# Cap for the XLSX column widths (characters); MESSAGE may be wider.
_WIDTH_CAPS = {"RECORD_KEY": 50, "VALUE": 40, "MESSAGE": 100}

SUBMISSION_FIELDS: tuple[str, ...] = (
    "submission_id",
    "provider",
    "reporting_period",
    "window_type",
    "profile",
    "received_at",
    "status",
    "file_name",
)


# --------------------------------------------------------------------------------------------- CSV


def write_report_csv(findings: pl.DataFrame, *, submission_id: str, out: BinaryIO, bom: bool = False) -> None:
    """Write the report as CSV: UTF-8, header row, comma, RFC 4180 quoting, CRLF line ends.

    Values are written exactly as in the findings (no formula-injection escaping: the CSV is a
    faithful data export; use the XLSX for Excel). No byte-order mark unless ``bom`` is true.
    Written in chunks of ``CSV_CHUNK_ROWS`` so the serialised text is never held whole in memory.
    """
    frame = report_frame(findings, submission_id)
    write_csv_chunked(frame, out, bom=bom)


def write_csv_chunked(
    frame: pl.DataFrame, out: IO[bytes], *, bom: bool = False, chunk_rows: int = CSV_CHUNK_ROWS
) -> None:
    n = frame.height
    offset = 0
    while True:
        chunk = frame.slice(offset, chunk_rows)
        chunk.write_csv(
            out,
            include_header=offset == 0,
            include_bom=bom and offset == 0,
            line_terminator=CSV_LINE_TERMINATOR,
            quote_style="necessary",
        )
        offset += chunk_rows
        if offset >= n:
            break


# --------------------------------------------------------------------------------------------- XLSX


class _Default:
    def __repr__(self) -> str:
        return "<PORTAL_BASE_URL>"


PORTAL_BASE_URL = _Default()
_RULE_ID_RE = re.compile(r"^[A-Z]{2,4}[0-9]{3}$")


def _settings_base_url() -> str | None:
    """``settings.PORTAL_BASE_URL`` when Django is installed and configured, else None."""
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is a dependency of the portal
        return None
    if not settings.configured:
        return None
    return getattr(settings, "PORTAL_BASE_URL", None) or None


def rule_url(base_url: str, rule_id: str) -> str | None:
    """Absolute URL of the rule's catalogue page (``<base>/rules/<ID>/``), None for a malformed ID."""
    if not _RULE_ID_RE.match(rule_id):
        return None
    return f"{base_url.rstrip('/')}/rules/{rule_id}/"


def write_report_xlsx(
    findings: pl.DataFrame,
    counts: Mapping[str, TableCounts] | None,
    *,
    submission_id: str,
    out: BinaryIO,
    base_url: str | _Default | None = PORTAL_BASE_URL,
) -> None:
    """Write the report as XLSX: sheet ``Findings`` (10.1 columns) and sheet ``Counts`` (7.1).

    Text cells are strings, ``ROW_NUMBER`` and the counts are numbers. Header rows are bold, frozen
    and filtered. More findings than one sheet holds (1,048,575 data rows) continue on
    ``Findings (2)``, ``Findings (3)`` ... placed before ``Counts``. ``counts=None`` (no row counts,
    spec 7.1) gives a ``Counts`` sheet with its header row only.

    Each ``RULE_ID`` cell is a hyperlink to ``<base_url>/rules/<ID>/`` showing the rule ID (up to
    Excel's 65,530 links per sheet; later cells are plain text). ``base_url`` defaults to Django's
    ``settings.PORTAL_BASE_URL`` when Django is configured; ``None`` (or no setting) writes no links.
    """
    base = _settings_base_url() if isinstance(base_url, _Default) else base_url
    links = {REPORT_COLUMNS.index("RULE_ID"): (lambda rid: rule_url(base, rid))} if base else None
    frame = report_frame(findings, submission_id)
    kinds = [NUMBER if c == "ROW_NUMBER" else TEXT for c in REPORT_COLUMNS]
    widths = [
        min(w, float(_WIDTH_CAPS.get(c, 60)))
        for c, w in zip(REPORT_COLUMNS, column_widths(frame, REPORT_COLUMNS, cap=100), strict=True)
    ]
    rows = counts_rows(counts)
    with open_workbook(out) as (wb, bold):
        write_frame_sheets(
            wb,
            bold,
            frame,
            sheet_name=FINDINGS_SHEET,
            kinds=kinds,
            widths=widths,
            max_rows=EXCEL_MAX_ROWS,
            links=links,
        )
        headers = [COUNT_HEADERS[f] for f in COUNT_FIELDS]
        write_rows_sheet(
            wb,
            bold,
            sheet_name=COUNTS_SHEET,
            headers=headers,
            rows=[[r[f] for f in COUNT_FIELDS] for r in rows],
            kinds=[TEXT] + [NUMBER] * (len(COUNT_FIELDS) - 1),
            widths=[20.0] + [max(12.0, len(h) + 2.0) for h in headers[1:]],
        )


# --------------------------------------------------------------------------------------------- JSON


def write_report_json(
    findings: pl.DataFrame,
    counts: Mapping[str, TableCounts] | None,
    *,
    submission: Mapping[str, Any],
    out: IO[str] | IO[bytes],
    report_keys: Mapping[str, tuple[str, ...]] | None = None,
) -> None:
    """Write the report as one JSON object (spec 10.1), UTF-8, streamed finding by finding::

        {"submission": {"submission_id", "provider", "reporting_period", "window_type", "profile",
                        "received_at", "status", "file_name"},
         "counts": [{"table", "rows_read", "rows_accepted", "rows_rejected_record",
                     "rows_rejected_group", "rows_with_warnings"}],
         "findings": [{"rule_id", "severity", "table", "row_number", "record_key": {column: value},
                       "column", "value", "message"}]}

    ``submission`` supplies those eight keys (missing ones become null; others are ignored);
    ``received_at`` may be an aware ``datetime`` (shown in Europe/London time with its offset,
    to the second) or an already formatted string; ``status`` may be an ``Outcome``.
    Blank ``table``/``row_number``/``column``/``value`` are null. ``record_key`` is null for a
    finding without a row, otherwise an object in report-key order whose values are strings ("" for
    a blank key value); see ``parse_record_key`` for how the text form is split.
    ``counts=None`` gives ``"counts": []``.
    """
    check_findings(findings)
    keys = DEFAULT_REPORT_KEYS if report_keys is None else report_keys
    text = isinstance(out, io.TextIOBase)

    def emit(s: str) -> None:
        out.write(s if text else s.encode("utf-8"))  # type: ignore[arg-type]

    dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    head = {
        "submission": _submission_object(submission),
        "counts": counts_rows(counts),
    }
    emit('{"submission": ' + dumps(head["submission"]) + ",\n")
    emit('"counts": ' + dumps(head["counts"]) + ",\n")
    emit('"findings": [')

    cols = ["rule_id", "severity", "table", "row_number", "record_key", "column", "value", "message"]
    structured = "record_key_values" in findings.columns
    sel = findings.select([*cols, *(["record_key_values"] if structured else [])])
    first = True
    buf: list[str] = []
    for row in sel.iter_rows(buffer_size=10_000):
        rule_id, severity, table, row_number, record_key, column, value, message = row[:8]
        if row_number is None:
            rk: dict[str, str] | None = None
        elif structured and row[8] is not None and table in keys:
            rk = dict(zip(keys[table], (v or "" for v in row[8]), strict=False))
        else:
            rk = parse_record_key(record_key, keys.get(table or "", ()))
        obj = {
            "rule_id": rule_id,
            "severity": severity,
            "table": table or None,
            "row_number": row_number,
            "record_key": rk,
            "column": column or None,
            "value": None if value is None or value == "" else value,
            "message": message,
        }
        buf.append(("\n" if first else ",\n") + dumps(obj))
        first = False
        if len(buf) >= 10_000:
            emit("".join(buf))
            buf.clear()
    if buf:
        emit("".join(buf))
    emit("\n]}\n" if not first else "]}\n")


def _submission_object(submission: Mapping[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key in SUBMISSION_FIELDS:
        v = submission.get(key)
        if key == "received_at" and isinstance(v, datetime):
            v = format_received_at(v)
        elif isinstance(v, Enum):
            v = v.value  # e.g. Outcome.PARTIALLY_ACCEPTED -> "Partially accepted"
        elif v is not None and not isinstance(v, str | int | float | bool):
            v = str(v)
        obj[key] = v
    return obj


def format_received_at(when: datetime) -> str:
    """Aware instant -> ISO 8601 in Europe/London time with its offset, e.g. ``2017-12-05T14:03:27+00:00``."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    return when.astimezone(LONDON).isoformat(timespec="seconds")


_GENERIC_SPLIT = re.compile(r";(?=[A-Za-z_][A-Za-z0-9_]*=)")


def parse_record_key(record_key: str | None, key_columns: tuple[str, ...] | list[str] = ()) -> dict[str, str]:
    """Split a ``RECORD_KEY`` text (``COL=value;COL=value``) into ``{column: value}``.

    Values are as received and may themselves contain ``;`` or ``=``, so the text is split
    positionally on the table's report-key column names: ``key_columns`` = (K1, K2, ...) means the
    text is ``K1=`` v1 ``;K2=`` v2 ... and each separator ``;Kn=`` is looked for after the previous
    one (first occurrence); the last value is the rest of the text. The only text this cannot split
    as intended is one where a value itself contains ``;<next key name>=``; the engine can remove even
    that ambiguity by adding a ``record_key_values`` list column to the findings (used verbatim).

    If the text does not follow ``key_columns`` (unknown table, other key), it is split generically
    on ``;`` followed by ``NAME=`` and each part on its first ``=``. Blank text gives ``{}``.
    """
    if not record_key:
        return {}
    if key_columns:
        out: dict[str, str] = {}
        first = f"{key_columns[0]}="
        if record_key.startswith(first):
            pos = len(first)
            ok = True
            for i, name in enumerate(key_columns):
                if i + 1 < len(key_columns):
                    sep = f";{key_columns[i + 1]}="
                    j = record_key.find(sep, pos)
                    if j < 0:
                        ok = False
                        break
                    out[name] = record_key[pos:j]
                    pos = j + len(sep)
                else:
                    out[name] = record_key[pos:]
            if ok:
                return out
    result: dict[str, str] = {}
    for part in _GENERIC_SPLIT.split(record_key):
        name, _, value = part.partition("=")
        result[name] = value
    return result
