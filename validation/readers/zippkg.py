"""ZIP packages (spec 4.1, 4.3): inspect the entries, apply FILE005/FILE006, extract the usable ones.

Only root entries count; entries in sub-folders (``__MACOSX/...``, ``data/Person.csv``) and root entries whose
extension is not .csv, .mdb, .accdb or .zip are ignored silently. Entries are streamed to files in a work
directory, never held in memory. The declared uncompressed sizes of all entries are added up before anything is
extracted (FILE006 above ``max_unzipped_bytes``), and the bytes actually written are counted while extracting,
so a ZIP whose headers lie cannot fill the disk: ``zipfile`` never returns more than an entry's declared size,
and an entry whose data does not match its header fails the CRC check, which is reported as a corrupt file
(FILE005).
"""

from __future__ import annotations

import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from validation.readers.common import BadZipContent, CannotOpen

IDB_EXTENSIONS = (".mdb", ".accdb")
_CHUNK = 1024 * 1024
# Hardening beyond spec 4.1 (FILE006, docs/decisions.md "Accounts and security"): a real IDB package has a
# dozen entries; no entry may name a path outside the package; no large entry may inflate more than
# MAX_ENTRY_RATIO times (deflate tops out near 1032:1; a real IDB CSV or .mdb compresses 5-50 times).
MAX_ZIP_ENTRIES = 1000
MAX_ENTRY_RATIO = 200
RATIO_CHECK_ABOVE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    info: zipfile.ZipInfo
    file_name: str  # the entry's name, e.g. "Person.CSV"
    kind: str  # "csv", "idb", "zip"

    @property
    def stem(self) -> str:
        return self.file_name.rsplit(".", 1)[0]


def _root_name(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if info.is_dir() or "/" in name or "\\" in name:
        return None
    return name


def _leaves_package(name: str) -> bool:
    """An absolute name (/x, \\x, C:x) or one with a '..' part."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in name.replace("\\", "/").split("/")


def _check_limits(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ZIP_ENTRIES:
        raise BadZipContent(f"{len(infos)} entries, more than {MAX_ZIP_ENTRIES}")
    for info in infos:
        if _leaves_package(info.filename):
            raise BadZipContent(f"entry name {info.filename!r} points outside the package")
        if info.file_size > RATIO_CHECK_ABOVE_BYTES and info.file_size > MAX_ENTRY_RATIO * max(
            info.compress_size, 1
        ):
            raise BadZipContent(
                f"entry {info.filename!r} inflates {info.file_size} from {info.compress_size} bytes"
            )


def _kind(name: str) -> str | None:
    low = name.lower()
    if low.endswith(".csv"):
        return "csv"
    if low.endswith(IDB_EXTENSIONS):
        return "idb"
    if low.endswith(".zip"):
        return "zip"
    return None


@dataclass
class Package:
    zf: zipfile.ZipFile
    csv_entries: list[Entry]
    idb: Entry | None


def open_package(path: Path, *, max_unzipped_bytes: int) -> Package:
    """Open and inspect the ZIP. Raises CannotOpen (FILE005) or BadZipContent (FILE006)."""
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise CannotOpen(f"not a readable ZIP: {exc}") from exc
    try:
        entries = []
        for info in infos:
            name = _root_name(info)
            kind = _kind(name) if name is not None else None
            if name is None or kind is None:
                continue
            if info.flag_bits & 0x1:
                raise CannotOpen(f"encrypted ZIP entry {name!r}")
            if info.compress_type not in (
                zipfile.ZIP_STORED,
                zipfile.ZIP_DEFLATED,
                zipfile.ZIP_BZIP2,
                zipfile.ZIP_LZMA,
            ):
                raise CannotOpen(
                    f"ZIP entry {name!r} uses unsupported compression method {info.compress_type}"
                )
            entries.append(Entry(info=info, file_name=name, kind=kind))
        _check_limits(infos)
        csvs = [e for e in entries if e.kind == "csv"]
        idbs = [e for e in entries if e.kind == "idb"]
        if any(e.kind == "zip" for e in entries):
            raise BadZipContent("nested .zip at the root")
        if idbs and csvs:
            raise BadZipContent("both an IDB and CSV entries at the root")
        if len(idbs) > 1:
            raise BadZipContent("more than one .mdb/.accdb entry")
        if not idbs and not csvs:
            raise BadZipContent("no .mdb/.accdb and no .csv entry at the root")
        total = sum(i.file_size for i in infos)
        if total > max_unzipped_bytes:
            raise BadZipContent(f"declared uncompressed size {total} above {max_unzipped_bytes}")
    except BaseException:
        zf.close()
        raise
    return Package(zf=zf, csv_entries=csvs, idb=idbs[0] if idbs else None)


class Extractor:
    """Streams entries to files, counting every byte against the unzipped budget."""

    def __init__(self, zf: zipfile.ZipFile, max_unzipped_bytes: int) -> None:
        self.zf = zf
        self.budget = max_unzipped_bytes
        self.written = 0
        self._lock = threading.Lock()  # entries may be extracted on two threads

    def extract(self, entry: Entry, dest: Path) -> Path:
        try:
            with self.zf.open(entry.info) as src, dest.open("wb") as out:
                remaining = entry.info.file_size
                while chunk := src.read(_CHUNK):
                    remaining -= len(chunk)
                    with self._lock:
                        self.written += len(chunk)
                        over = self.written > self.budget
                    if remaining < 0 or over:
                        raise BadZipContent(f"entry {entry.file_name!r} inflates beyond its declared size")
                    out.write(chunk)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
            # Bad CRC, truncated data, unknown compression, encryption (RuntimeError) ...
            raise CannotOpen(f"cannot extract ZIP entry {entry.file_name!r}: {exc}") from exc
        return dest
