"""The three independent readers the Jet 4 writer is checked with: mdbtools, PyPI access-parser, npm mdb-reader.

Each returns ``{table: {"types": [...], "columns": [...], "rows": [tuple, ...]}}`` with values as text in a
common form: integers as digits, floats via repr, dates as ``YYYY-MM-DD HH:MM:SS``, None for NULL.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
NODE_SCRIPT = Path(__file__).with_name("read_mdb.mjs")
MDB_READER = ROOT / "node_modules" / "mdb-reader"
DATE_FMT = "%Y-%m-%d %H:%M:%S"

needs_mdbtools = pytest.mark.skipif(shutil.which("mdb-export") is None, reason="mdbtools not installed")
needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not MDB_READER.is_dir(),
    reason="node or node_modules/mdb-reader missing (npm ci installs it)",
)
try:
    import access_parser  # noqa: F401

    HAVE_ACCESS_PARSER = True
except ImportError:  # pragma: no cover - dev dependency
    HAVE_ACCESS_PARSER = False
needs_access_parser = pytest.mark.skipif(not HAVE_ACCESS_PARSER, reason="pip install access-parser")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C.UTF-8"
    env["TZ"] = "UTC"
    return env


def _run(args: list[str]) -> str:
    proc = subprocess.run(args, capture_output=True, env=_env(), timeout=1800, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout.decode("utf-8")


def float_text(value: float) -> str:
    return repr(float(value))


# --- mdbtools ------------------------------------------------------------------------------------------------


def mdbtools_tables(path: Path) -> list[str]:
    return [t for t in _run(["mdb-tables", "-1", str(path)]).splitlines() if t]


def mdbtools_schema(path: Path, table: str) -> list[tuple[str, str]]:
    from validation.readers.access import table_schema

    return table_schema(path, table)


def mdbtools_rows(path: Path, table: str) -> list[tuple[str | None, ...]]:
    """mdb-export with ISO dates; NULL as None, an empty string as ''."""
    out = _run(["mdb-export", "-H", "-D", DATE_FMT, "-T", DATE_FMT, "-0", "\x01", str(path), table])
    # NULL is written as \x01 (-0) so that it differs from an empty string
    reader = csv.reader(io.StringIO(out, newline=""))
    return [tuple(None if v == "\x01" else v for v in rec) for rec in reader]


def read_mdbtools(path: Path) -> dict[str, dict]:
    out = {}
    for t in mdbtools_tables(path):
        schema = mdbtools_schema(path, t)
        out[t] = {
            "columns": [n for n, _ in schema],
            "types": [ty for _, ty in schema],
            "rows": mdbtools_rows(path, t),
        }
    return out


# --- access-parser -------------------------------------------------------------------------------------------


def read_access_parser(path: Path) -> dict[str, dict]:
    from access_parser import AccessParser

    db = AccessParser(str(path))
    out = {}
    for name in db.catalog:
        if name.startswith("MSys"):
            continue
        table = db.parse_table(name)
        columns = list(table.keys())
        n = max((len(v) for v in table.values()), default=0)
        rows = []
        for i in range(n):
            rows.append(tuple(_ap_value(table[c][i]) for c in columns))
        out[name] = {"columns": columns, "rows": rows}
    return out


def _ap_value(v):
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.strftime(DATE_FMT)
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        return float_text(v)
    return str(v)


# --- mdb-reader ----------------------------------------------------------------------------------------------


def read_mdb_reader(path: Path) -> dict[str, dict]:
    data = json.loads(_run(["node", str(NODE_SCRIPT), str(path)]))
    out = {}
    for name, t in data.items():
        rows = []
        for r in t["rows"]:
            rows.append(tuple(_mr_value(v) for v in r))
        out[name] = {
            "columns": [c["name"] for c in t["columns"]],
            "types": [c["type"] for c in t["columns"]],
            "rows": rows,
        }
    return out


def _mr_value(v):
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, float):
        return float_text(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str) and len(v) == 24 and v[10] == "T" and v.endswith("Z"):
        return v[:10] + " " + v[11:19]
    return v
