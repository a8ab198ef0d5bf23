"""File readers of the READ stage (spec 4 and 6.1): FILE003-FILE007, then raw tables for the engine.

Public API::

    read_file(path, *, file_name, max_upload_bytes, max_unzipped_bytes, dataset, work_dir=None) -> ReadResult

``file_name`` is the name the user uploaded; its extension (case-insensitive) picks the reader. The checks run
in the order of spec 6.1 and the first failing one of FILE003, FILE004, FILE005, FILE006 ends the stage (the
result then holds that single finding and no tables). After them an IDB inside a ZIP is extracted and opened
(FILE005 if it cannot be), and every CSV entry named after a table of section 3 is decoded and parsed (one
FILE007 per failing entry). No exception escapes: anything unexpected becomes FILE005, with the real reason
logged.

Every table comes back as a ``RawTable``: positional String columns ``c0..cN``, trimmed header names (``""``
for a blank one), the 1-based ``ROW`` number, untrimmed values (null or ``""`` for an empty cell).
"""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from validation.dataset.schema import DataSet
from validation.model import FileFinding, ReadResult
from validation.readers.access import ACCESS_TYPES_ALLOWED, read_access
from validation.readers.common import BadZipContent, CannotOpen, CsvInvalid, empty_table, log
from validation.readers.csvfile import read_csv_table
from validation.readers.limits import MAX_UNZIPPED_BYTES, MAX_UPLOAD_BYTES
from validation.readers.xlsx import read_xlsx
from validation.readers.zippkg import Entry, Extractor, open_package

__all__ = [
    "ACCESS_TYPES_ALLOWED",
    "MAX_UNZIPPED_BYTES",
    "MAX_UPLOAD_BYTES",
    "SUPPORTED_EXTENSIONS",
    "file_kind",
    "read_file",
]

SUPPORTED_EXTENSIONS = {".mdb": "mdb", ".accdb": "mdb", ".zip": "csvzip", ".xlsx": "xlsx"}


def file_kind(file_name: str) -> str | None:
    """ "mdb", "csvzip", "xlsx" from the file-name extension (case-insensitive), None if unsupported."""
    suffix = Path(file_name).suffix.lower()
    return SUPPORTED_EXTENSIONS.get(suffix)


def _reject(kind: str, rule_id: str) -> ReadResult:
    return ReadResult(kind=kind, tables=[], findings=[FileFinding(rule_id=rule_id)])


def read_file(
    path: str | Path,
    *,
    file_name: str,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
    dataset: DataSet | None,
    work_dir: Path | None = None,
) -> ReadResult:
    path = Path(path)
    kind = file_kind(file_name)
    if kind is None:
        return _reject("", "FILE003")
    try:
        size = path.stat().st_size
    except OSError as exc:
        log.error("cannot stat upload %s: %s", path, exc)
        return _reject(kind, "FILE005")
    if size == 0 or size > max_upload_bytes:
        return _reject(kind, "FILE004")
    own_dir = work_dir is None
    tmp = Path(tempfile.mkdtemp(prefix="iapt-read-")) if work_dir is None else Path(work_dir)
    try:
        if kind == "mdb":
            return ReadResult(kind=kind, tables=read_access(path, dataset=dataset, work_dir=tmp))
        if kind == "xlsx":
            return ReadResult(kind=kind, tables=read_xlsx(path, dataset=dataset))
        return _read_zip(path, dataset=dataset, max_unzipped_bytes=max_unzipped_bytes, work_dir=tmp)
    except CannotOpen as exc:
        log.info("FILE005 for %r: %s", file_name, exc)
        return _reject(kind, "FILE005")
    except BadZipContent as exc:
        log.info("FILE006 for %r: %s", file_name, exc)
        return _reject(kind, "FILE006")
    except Exception:
        log.exception("unexpected reader failure for %r; reported as FILE005", file_name)
        return _reject(kind, "FILE005")
    finally:
        if own_dir:
            shutil.rmtree(tmp, ignore_errors=True)


def _read_zip(path: Path, *, dataset: DataSet | None, max_unzipped_bytes: int, work_dir: Path) -> ReadResult:
    package = open_package(path, max_unzipped_bytes=max_unzipped_bytes)
    with package.zf:
        extractor = Extractor(package.zf, max_unzipped_bytes)
        entry_dir = Path(tempfile.mkdtemp(prefix="zip-", dir=work_dir))
        if package.idb is not None:
            suffix = Path(package.idb.file_name).suffix.lower()
            idb_path = extractor.extract(package.idb, entry_dir / f"idb{suffix}")
            tables = read_access(idb_path, dataset=dataset, work_dir=work_dir)
            idb_path.unlink(missing_ok=True)
            return ReadResult(kind="mdb", tables=tables)
        table_names = set(dataset.tables) if dataset is not None else set()
        wanted = [(i, e) for i, e in enumerate(package.csv_entries) if e.stem in table_names]
        extracted: dict[int, Future[Path]] = {i: Future() for i, _ in wanted}

        def extract(items: list[tuple[int, Entry]]) -> None:
            for k, (i, entry) in enumerate(items):
                try:
                    extracted[i].set_result(extractor.extract(entry, entry_dir / f"{i}.csv"))
                except BaseException as exc:
                    extracted[i].set_exception(exc)
                    for j, _ in items[k + 1 :]:  # after a failure in entry order: never waited for
                        extracted[j].set_exception(exc)
                    return

        # The largest entry inflates on a thread of its own while the others are extracted in order on a
        # second one and parsed here as each is ready (zlib and polars release the GIL).
        largest = max(wanted, key=lambda w: w[1].info.file_size, default=None)
        groups = [[w for w in wanted if w is not largest], [largest] if largest else []]
        result = ReadResult(kind="csvzip")
        error: Exception | None = None
        with ThreadPoolExecutor(max_workers=2) as pool:
            for group in groups:
                if group:
                    pool.submit(extract, group)
            # Every entry is extracted before any finding counts: a corrupt entry (FILE005) ends the stage
            # before any FILE007, whatever its place (the first failing one in entry order is raised).
            for i, entry in enumerate(package.csv_entries):
                if i not in extracted:
                    # Not a table of section 3: the engine raises FILE015 and ignores the content.
                    result.tables.append(empty_table(entry.stem, entry.file_name))
                    continue
                entry_path = extracted[i].result()
                if error is not None:
                    entry_path.unlink(missing_ok=True)
                    continue
                try:
                    result.tables.append(read_csv_table(entry_path, name=entry.stem, source=entry.file_name))
                except CsvInvalid as exc:
                    log.info("FILE007 for %s: %s", entry.file_name, exc)
                    result.findings.append(
                        FileFinding(rule_id="FILE007", table=entry.stem, value=entry.file_name)
                    )
                except Exception as exc:  # raised once every entry is extracted
                    error = exc
                finally:
                    entry_path.unlink(missing_ok=True)
    if error is not None:
        raise error
    return result
