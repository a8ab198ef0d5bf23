"""The blank IDB of a profile as Access tables (spec 3, 4.2): one Access table per data-set table, no rows.

Types per spec 4.2: text(n) -> Text(n); integer -> Long Integer; decimal -> Double; date -> Date/Time;
time -> Date/Time (a time of day, which Access keeps on 1899-12-30). Tables and columns in spec order;
``with_ea`` adds the optional tables of the profile (EmploymentAdviser).
"""

from __future__ import annotations

from pathlib import Path

from validation.dataset import DATASET
from validation.dataset.schema import Column, ColumnType, DataSet

from .schema import ColumnDef, DateTime, Double, Long, TableDef, Text
from .writer import write_mdb


def access_column(col: Column) -> ColumnDef:
    if col.type == ColumnType.TEXT:
        return Text(col.name, min(col.length or 255, 255))
    if col.type == ColumnType.INTEGER:
        return Long(col.name)
    if col.type == ColumnType.DECIMAL:
        return Double(col.name)
    return DateTime(col.name)  # date, time


def idb_table_defs(profile_id: str, *, with_ea: bool = False, dataset: DataSet = DATASET) -> list[TableDef]:
    profile = dataset.profiles.get(profile_id)
    if profile is None:
        raise KeyError(f"unknown profile {profile_id!r}; one of {sorted(dataset.profiles)}")
    wanted = set(profile.required_tables) | (set(profile.optional_tables) if with_ea else set())
    return [
        TableDef(t.name, tuple(access_column(c) for c in t.columns))
        for name, t in dataset.tables.items()
        if name in wanted
    ]


def write_idb_template(path: str | Path, profile_id: str, *, with_ea: bool = False) -> Path:
    """Write the blank IDB of ``profile_id`` as a Jet 4 .mdb (Access 2000-2003 format)."""
    return write_mdb(path, idb_table_defs(profile_id, with_ea=with_ea))
