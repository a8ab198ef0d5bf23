"""Blank IDB templates per profile (spec 2, 3.5, 4.3, 4.4): an XLSX workbook and a ZIP of CSV files.

Each holds every table of the profile (plus ``EmploymentAdviser`` on request) with the exact header
row in spec 3.5 column order and no data rows, so a template filled in and uploaded as it is passes
the structure checks. Pure Python + xlsxwriter; no Django.

* XLSX: one sheet per table named exactly as the table; header cells bold with a cell comment giving
  the column's type, obligation (M/R/O), code list / format / range, key and meaning; header row
  frozen; column widths from the header; every column formatted as Text (``@``) so that codes such
  as ``01`` and NHS numbers keep their leading zeros when typed. No extra sheet (a sheet that is not
  a table would raise FILE015 on upload).
* ZIP: ``<Table>.csv`` per table holding only the header row: UTF-8 without byte-order mark, LF.
"""

from __future__ import annotations

import io
import zipfile
from typing import BinaryIO

import xlsxwriter

from validation.dataset import DATASET
from validation.dataset.schema import DataSet, Table

from .catalogue import OBLIGATION_LABELS, column_rules_label, type_label

EA_TABLE = "EmploymentAdviser"


class UnknownProfile(KeyError):
    pass


def template_tables(profile_id: str, *, with_ea: bool = False, dataset: DataSet = DATASET) -> list[Table]:
    """Tables of the profile in spec section 3 order; ``with_ea`` adds the optional EmploymentAdviser."""
    profile = dataset.profiles.get(profile_id)
    if profile is None:
        raise UnknownProfile(profile_id)
    wanted = set(profile.required_tables) | (
        {EA_TABLE} if with_ea and EA_TABLE in profile.optional_tables else set()
    )
    return [t for name, t in dataset.tables.items() if name in wanted]


def template_file_name(profile_id: str, *, with_ea: bool, ext: str) -> str:
    return f"IAPT_v1.5_{profile_id}{'_EA' if with_ea else ''}_template.{ext}"


def column_comment(table: Table, name: str) -> str:
    col = table.column(name)
    lines = [
        f"{col.name}: {col.description}" if col.description else col.name,
        f"Type: {type_label(col)}",
        f"{OBLIGATION_LABELS[str(col.obligation)]} ({col.obligation})",
    ]
    rules = column_rules_label(col)
    if rules:
        lines.append(f"Code list / format / range: {rules}")
    if col.key:
        lines.append(f"Key: {col.key}")
    return "\n".join(lines)


def write_template_xlsx(
    out: BinaryIO, profile_id: str, *, with_ea: bool = False, dataset: DataSet = DATASET
) -> None:
    tables = template_tables(profile_id, with_ea=with_ea, dataset=dataset)
    wb = xlsxwriter.Workbook(out, {"strings_to_numbers": False, "strings_to_formulas": False})
    try:
        bold = wb.add_format({"bold": True})
        text = wb.add_format({"num_format": "@"})
        for table in tables:
            ws = wb.add_worksheet(table.name)
            for i, col in enumerate(table.columns):
                ws.set_column(i, i, max(10, len(col.name) + 4), text)
                ws.write_string(0, i, col.name, bold)
                ws.write_comment(0, i, column_comment(table, col.name), {"x_scale": 2.5, "y_scale": 2})
            ws.freeze_panes(1, 0)
    finally:
        wb.close()


def write_template_zip(
    out: BinaryIO, profile_id: str, *, with_ea: bool = False, dataset: DataSet = DATASET
) -> None:
    tables = template_tables(profile_id, with_ea=with_ea, dataset=dataset)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for table in tables:
            header = ",".join(table.column_names) + "\n"  # names need no quoting
            zf.writestr(f"{table.name}.csv", header.encode("utf-8"))


def template_bytes(profile_id: str, ext: str, *, with_ea: bool = False) -> bytes:
    buf = io.BytesIO()
    if ext == "xlsx":
        write_template_xlsx(buf, profile_id, with_ea=with_ea)
    elif ext == "zip":
        write_template_zip(buf, profile_id, with_ea=with_ea)
    else:
        raise ValueError(ext)
    return buf.getvalue()
