"""Loads a submission's accepted rows into the accepted-data tables (``reporting.models``) in bulk.

PostgreSQL: one ``COPY <table> (...) FROM STDIN WITH (FORMAT csv)`` per table, fed by a stream that
polars fills with CSV one slice at a time (a thread keeps up to ``PREFETCH_CHUNKS`` slices ready, so
the CSV of the next slice is written while PostgreSQL stores the last), so neither the rows nor the
whole CSV are ever Python objects or one big buffer. Other databases (the embedded SQLite default): batched ``executemany``.
Never a row-by-row ORM insert.

Nulls and blanks survive exactly: polars writes a null as an empty unquoted field and an empty
string as ``""``, which is how PostgreSQL's CSV format tells NULL from ''.

Measured (PostgreSQL 15 on the 2-core development box, ``generate_idb(org="TSTP1", period="2017-11",
persons=100000, seed=1)`` frames plus ``ROW_NUMBER``: 972,462 rows in 8 tables, 656,859 of them
Appointment): a first load took 9.0-21 s (108,000-47,000 rows/s) across runs on a box shared with
other test runs (load average 4-6); a reload (delete + load) 21-33 s; reading the 656,859 Appointment
rows back with ``accepted_frame`` 10-13 s. Polars' CSV takes about 1.5 s of the Appointment load and
its three indexes about half of the COPY time; a database foreign-key check would add about 6 s per
million rows (hence none, see models).
Later (issue 4 end-to-end work, the benchmark's 978,817 derived rows, load average 2-6): ~1.0 s client
CPU and ~3.0 s PostgreSQL CPU, of which the Appointment (submission, APPTID) index took 0.4 s (dropped:
2.6 s); all secondary indexes together 1.3 s; wall 3.5-4.5 s when a core is free.
``LOAD_BENCH=1`` runs ``tests/reporting/test_loading.py::test_bulk_load_speed``.
"""

from __future__ import annotations

import io
import queue
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Mapping

import polars as pl
from django.db import connection, transaction

from submissions.models import Submission
from validation.dataset import DATASET

from .models import ACCEPTED_MODELS, DERIVED_COLUMNS, AcceptedDataLoad

ROW_NUMBER = "ROW_NUMBER"
COPY_SLICE_ROWS = 50_000  # rows turned into CSV at a time (PostgreSQL)
PREFETCH_CHUNKS = 2  # CSV slices prepared ahead of the COPY stream
INSERT_BATCH_ROWS = 5_000  # rows per executemany call (other databases)


class _ChunkStream(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (what ``copy_expert`` reads from).

    ``read(size)`` returns at most ``size`` bytes of the current chunk (short reads are allowed) and
    ``b""`` at the end.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._view = memoryview(b"")
        self.error: BaseException | None = None  # raised while producing a chunk (see ``_copy``)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        while not self._view:
            try:
                chunk = next(self._chunks, None)
            except BaseException as exc:
                self.error = exc
                raise
            if chunk is None:
                return b""
            self._view = memoryview(chunk)
        n = len(self._view) if size is None or size < 0 else size
        out, self._view = self._view[:n], self._view[n:]
        return out.tobytes()


class FramesAhead(Mapping[str, pl.DataFrame]):
    """``{table: frame}`` filled by a thread from ``source`` (``(table, frame)`` pairs, such as
    ``reporting.derived.derive_iter``), so the loader can store a table while the next is computed.

    ``names`` are the tables ``source`` gives, in its order: iteration gives them without waiting;
    ``frames[t]`` waits until ``t`` is ready. An error in ``source`` is raised by the read that waits
    for a table that will never come (and by ``wait``'s caller checking ``error``).
    """

    def __init__(self, names: Iterable[str], source: Iterator[tuple[str, pl.DataFrame]]) -> None:
        self._names = list(names)
        self._frames: dict[str, pl.DataFrame] = {}
        self._released: set[str] = set()
        self._done = False
        self.error: BaseException | None = None
        self._cond = threading.Condition()
        # Whether the source finished without error, for a thread that must not keep the frames alive.
        self.outcome = SourceOutcome()
        self._thread = threading.Thread(target=self._run, args=(source,), name="frames-ahead", daemon=True)
        self._thread.start()

    def _run(self, source: Iterator[tuple[str, pl.DataFrame]]) -> None:
        try:
            for name, frame in source:
                with self._cond:
                    self._frames[name] = frame
                    self._cond.notify_all()
        except BaseException as exc:  # handed to the readers
            self.error = exc
            self.outcome.error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()
            self.outcome.finished.set()

    def __getitem__(self, name: str) -> pl.DataFrame:
        with self._cond:
            self._cond.wait_for(lambda: name in self._frames or self._done)
            if name in self._frames:
                return self._frames[name]
            if name in self._released:
                raise KeyError(f"{name} was released")
            if self.error is not None:
                raise self.error
            raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def wait(self) -> bool:
        """Wait until ``source`` is exhausted; True unless it raised."""
        return self.outcome.wait()

    def release(self, name: str) -> None:
        """Drop a table the reader is done with (its frame is freed once no one else holds it)."""
        with self._cond:
            self._frames.pop(name, None)
            self._released.add(name)


class SourceOutcome:
    """How a ``FramesAhead`` source ended, without a reference to its frames."""

    def __init__(self) -> None:
        self.finished = threading.Event()
        self.error: BaseException | None = None

    def wait(self) -> bool:
        self.finished.wait()
        return self.error is None


def _prepared(table: str, frame: pl.DataFrame, submission_id: int) -> pl.DataFrame:
    """submission_id, ROW_NUMBER, then the stored columns the frame has, as the database expects."""
    submitted = DATASET.tables[table].column_names
    derived = DERIVED_COLUMNS.get(table, ())
    if ROW_NUMBER not in frame.columns:
        raise ValueError(f"{table}: the accepted frame has no {ROW_NUMBER} column")
    missing = [c for c in submitted if c not in frame.columns]
    unknown = [c for c in frame.columns if c != ROW_NUMBER and c not in submitted and c not in derived]
    if missing or unknown:
        raise ValueError(f"{table}: columns missing {missing}, not in the data set {unknown}")
    columns = [*submitted, *(c for c in derived if c in frame.columns)]
    return frame.select(
        pl.lit(submission_id, dtype=pl.Int64).alias("submission_id"),
        pl.col(ROW_NUMBER).cast(pl.Int64),
        *(pl.col(c).cast(pl.String) for c in columns),
    )


def _csv_chunks(frame: pl.DataFrame) -> Iterator[bytes]:
    for part in frame.iter_slices(COPY_SLICE_ROWS):
        buf = io.BytesIO()
        part.write_csv(buf, include_header=False)
        yield buf.getvalue()


_DONE = object()


def _ahead(chunks: Iterator[bytes], depth: int = PREFETCH_CHUNKS) -> Generator[bytes, None, None]:
    """``chunks`` produced by a thread up to ``depth`` chunks ahead of the consumer, so that polars
    writes the next slice's CSV (it releases the GIL) while PostgreSQL parses and stores the last one.
    An error in the producer is raised here; if the consumer stops early, the producer stops too."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer
            put(exc)

    worker = threading.Thread(target=produce, name="copy-csv", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def _db_columns(frame: pl.DataFrame) -> str:
    qn = connection.ops.quote_name
    names = ["submission_id", "row_number", *frame.columns[2:]]
    return ", ".join(qn(n) for n in names)


def _copy(db_table: str, frame: pl.DataFrame) -> None:
    sql = (
        f"COPY {connection.ops.quote_name(db_table)} ({_db_columns(frame)}) "
        "FROM STDIN WITH (FORMAT csv, HEADER false)"
    )
    chunks = _ahead(_csv_chunks(frame))
    stream = _ChunkStream(chunks)
    try:
        with connection.cursor() as cursor, connection.wrap_database_errors:
            # The raw psycopg2 cursor; wrap_database_errors turns its errors into django.db ones
            # (so OperationalError stays a transient error for the task's retry logic).
            cursor.cursor.copy_expert(sql, stream, size=1024 * 1024)
    except Exception:
        # psycopg2 reports an error raised while reading the stream as a cancelled query (a
        # django.db OperationalError, "transient"): raise the producer's own error instead.
        if stream.error is not None:
            raise stream.error from None
        raise
    finally:
        chunks.close()  # a failed COPY stops the producer thread now, not when the traceback is collected


def _insert(db_table: str, frame: pl.DataFrame) -> None:
    placeholders = ", ".join(["%s"] * frame.width)
    sql = f"INSERT INTO {connection.ops.quote_name(db_table)} ({_db_columns(frame)}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        for part in frame.iter_slices(INSERT_BATCH_ROWS):
            cursor.executemany(sql, part.rows())


@transaction.atomic
def accepted_rows_load(*, submission_id: int, frames: Mapping[str, pl.DataFrame]) -> dict[str, int]:
    """Store a submission's accepted rows (``{table: frame}``, ``ROW_NUMBER`` then spec 3.5 columns and,
    when present, the derived columns of spec 10.4); returns the rows loaded per table.

    Idempotent: the submission's earlier rows (every table) are deleted first, in the same transaction,
    so a re-run replaces them and a failure leaves what was there before. Tables missing from
    ``frames`` get no rows and are not listed as loaded. Tables are stored in ``frames``' order (a
    ``FramesAhead``: as they become ready); the result lists them in section 3 order.
    """
    unknown = [t for t in frames if t not in ACCEPTED_MODELS]
    if unknown:
        raise ValueError(f"Not data-set tables: {unknown}")
    started = time.perf_counter()
    # The lock stands in for a foreign-key constraint (the submission exists and is not deleted while
    # its rows go in) and serialises two loads of one submission (a duplicate task delivery).
    Submission.objects.select_for_update(no_key=True).only("pk").get(pk=submission_id)
    for model in ACCEPTED_MODELS.values():
        model._default_manager.filter(submission_id=submission_id).delete()
    write = _copy if connection.vendor == "postgresql" else _insert
    rows: dict[str, int] = {}
    columns: dict[str, set[str]] = {}
    for table in frames:  # the caller's order (a FramesAhead: the order its tables become ready)
        columns[table] = set(frames[table].columns)
        frame = _prepared(table, frames[table], submission_id)
        if isinstance(frames, FramesAhead):
            frames.release(table)  # stored: its memory can go before the next table
        if frame.height:
            write(ACCEPTED_MODELS[table]._meta.db_table, frame)
        rows[table] = frame.height
        del frame
    loaded = {table: rows[table] for table in ACCEPTED_MODELS if table in rows}
    derived = any(
        table in columns and all(c in columns[table] for c in derived_columns)
        for table, derived_columns in DERIVED_COLUMNS.items()
    )
    AcceptedDataLoad.objects.update_or_create(
        submission_id=submission_id,
        defaults={"tables": loaded, "seconds": round(time.perf_counter() - started, 3), "derived": derived},
    )
    return loaded
