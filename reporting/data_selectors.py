"""Reads of the stored accepted data (``reporting.models``) as polars frames.

Callers find the submission through a user-scoped selector first; these functions only read the rows
of the submission they are given. Each table is one query. On PostgreSQL it is streamed with
``COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)`` into a temporary file that polars parses, so no row
is ever a Python object (656 k Appointment rows: ~1.5 s against 10-13 s through a cursor); NULL is
an empty unquoted field and '' a quoted ``""``, which polars reads back as null and ''. Other
databases (SQLite) go through a cursor in batches of ``FETCH_ROWS`` rows.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import polars as pl
from django.db import connection

from submissions.models import Submission

from .models import ACCEPTED_MODELS, DERIVED_COLUMNS, AcceptedDataLoad, stored_columns

ROW_NUMBER = "ROW_NUMBER"
FETCH_ROWS = 20_000


def accepted_load_is_derived(*, submission: Submission) -> bool:
    """Whether the submission's rows were loaded with their derived columns (spec 9.1)."""
    return AcceptedDataLoad.objects.filter(submission_id=submission.pk, derived=True).exists()


def accepted_tables(*, submission: Submission) -> dict[str, int] | None:
    """Rows loaded per table (tables in load order), or None when the submission's accepted rows
    were never loaded into the database (rejected, failed, or processed before accepted data was
    stored there)."""
    load = AcceptedDataLoad.objects.filter(submission_id=submission.pk).only("tables").first()
    return None if load is None else dict(load.tables)


def _columns(table: str, columns: Sequence[str] | None) -> list[str]:
    if table not in ACCEPTED_MODELS:
        raise ValueError(f"Not a data-set table: {table}")
    stored = stored_columns(table)
    if columns is None:
        return [c for c in stored if c not in DERIVED_COLUMNS.get(table, ())]
    unknown = [c for c in columns if c not in stored and c != ROW_NUMBER]
    if unknown:
        raise ValueError(f"{table} has no stored columns {unknown}")
    return [c for c in columns if c != ROW_NUMBER]


def _read(table: str, columns: list[str], where: str, params: Sequence[int | str]) -> pl.DataFrame:
    qn = connection.ops.quote_name
    model = ACCEPTED_MODELS[table]
    select = ", ".join([qn("row_number"), *(qn(c) for c in columns)])
    sql = f"SELECT {select} FROM {qn(model._meta.db_table)} WHERE {where} ORDER BY {qn('row_number')}"
    schema = {ROW_NUMBER: pl.Int64} | {c: pl.String for c in columns}
    if connection.vendor == "postgresql":
        return _read_copy(sql, params, schema)
    parts: list[pl.DataFrame] = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, list(params))
        while rows := cursor.fetchmany(FETCH_ROWS):
            parts.append(pl.DataFrame(rows, schema=schema, orient="row"))
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts, rechunk=True) if len(parts) > 1 else parts[0]


def _read_copy(sql: str, params: Sequence[int | str], schema: dict[str, Any]) -> pl.DataFrame:
    with connection.cursor() as cursor, connection.wrap_database_errors:
        copy = f"COPY ({cursor.cursor.mogrify(sql, list(params)).decode()}) TO STDOUT WITH (FORMAT csv)"
        # Logged like any other query when queries are being recorded (DEBUG, assertNumQueries).
        logged = cursor.debug_sql(copy) if hasattr(cursor, "debug_sql") else nullcontext()
        with tempfile.TemporaryFile(prefix="iapt-copy-") as fh:
            with logged:
                cursor.cursor.copy_expert(copy, fh, size=1024 * 1024)
            fh.seek(0)
            return pl.read_csv(fh, has_header=False, schema=schema, raise_if_empty=False, quote_char='"')


def accepted_frame(
    *, submission: Submission, table: str, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """The submission's accepted rows of ``table`` in row-number order: ``ROW_NUMBER`` (Int64) first,
    then ``columns`` (spec or derived names; default: the spec 3.5 columns in order) as String.

    One query. A table with no stored rows gives an empty frame with the same columns.
    """
    cols = _columns(table, columns)
    return _read(table, cols, f"{connection.ops.quote_name('submission_id')} = %s", [submission.pk])


# Tables reached from a commissioner's referrals, and how (spec 10.5: the referral, its person and
# all accepted descendants).
_BY_LPTID = ("Person", "Disability")
_BY_APPTID = ("LTCAppointment", "EmploymentAdviser")


def _keys_of_referrals(column: str) -> str:
    """SQL: ``column`` of the submission's referrals for one commissioner (params: submission, code)."""
    qn = connection.ops.quote_name
    return (
        f"SELECT {qn(column)} FROM {qn(ACCEPTED_MODELS['Referral']._meta.db_table)} "
        f"WHERE {qn('submission_id')} = %s AND {qn('ORGCODECOMM')} = %s"
    )


def accepted_frames_for_commissioner(
    *, submission: Submission, code: str, tables: Sequence[str], derived: bool = False
) -> dict[str, pl.DataFrame]:
    """The accepted rows of ``tables`` that belong to referrals with ``ORGCODECOMM = code``: the
    referrals, their persons (and disabilities), and every row under the referrals (spec 10.5).
    One query per table, filtered in the database through the (submission, key) indexes; Header is
    left out. ``derived=True`` also reads the stored derived columns (10.4)."""
    qn = connection.ops.quote_name
    this = f"{qn('submission_id')} = %s"
    pk: int = submission.pk
    frames: dict[str, pl.DataFrame] = {}
    for table in tables:
        cols = list(stored_columns(table)) if derived else _columns(table, None)
        params: list[int | str]
        if table == "Referral":
            where, params = f"{this} AND {qn('ORGCODECOMM')} = %s", [pk, code]
        elif table in _BY_LPTID:
            where, params = f"{this} AND {qn('LPTID')} IN ({_keys_of_referrals('LPTID')})", [pk, pk, code]
        elif table in _BY_APPTID:
            appointments = (
                f"SELECT {qn('APPTID')} FROM {qn(ACCEPTED_MODELS['Appointment']._meta.db_table)} "
                f"WHERE {this} AND {qn('SERVICEID')} IN ({_keys_of_referrals('SERVICEID')})"
            )
            where, params = f"{this} AND {qn('APPTID')} IN ({appointments})", [pk, pk, pk, code]
        elif "SERVICEID" in cols:
            where = f"{this} AND {qn('SERVICEID')} IN ({_keys_of_referrals('SERVICEID')})"
            params = [pk, pk, code]
        else:
            continue
        frames[table] = _read(table, cols, where, params)
    return frames
