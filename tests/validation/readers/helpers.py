"""A tiny data set (independent of the real definition) and input builders for the reader tests."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from validation.dataset.schema import CodeList, Column, ColumnType, DataSet, Obligation, Table
from validation.readers import read_file

TABLE_NAMES = (
    "Header",
    "Person",
    "Disability",
    "Referral",
    "Appointment",
    "AssessmentPEQ",
    "TreatmentPEQ",
    "WaitingTimePause",
    "LTCCondition",
    "MUSSymptom",
    "LTCAppointment",
    "EmploymentAdviser",
)


def _col(
    name: str, ctype: ColumnType = ColumnType.TEXT, codelist: str | None = None, fmt: str | None = None
) -> Column:
    return Column(name=name, type=ctype, obligation=Obligation.OPTIONAL, codelist=codelist, format=fmt)


def tiny_dataset() -> DataSet:
    columns: dict[str, tuple[Column, ...]] = {
        "Header": (_col("IDBVERSION"), _col("START_DATE", ColumnType.DATE)),
        "Person": (
            _col("LPTID"),
            _col("DOB", ColumnType.DATE),
            _col("NHSNOSTATUS", codelist="NHSNumberStatus"),
        ),
        "Disability": (_col("LPTID"), _col("DISABILITY", codelist="Disability")),
        "Referral": (
            _col("SERVICEID"),
            _col("ONSETDATE", fmt="YEARMONTH"),
            _col("REFRECDATE", ColumnType.DATE),
        ),
        "Appointment": (
            _col("APPTID"),
            _col("APPOINTMENT", ColumnType.DATE),
            _col("APPOINTMENTTIME", ColumnType.TIME),
            _col("ATTENDANCE", codelist="Attendance"),
            _col("APPTYPE", codelist="AppointmentType"),
            _col("CONTACTDURATION", ColumnType.INTEGER),
            _col("AGORASCOREACC", ColumnType.DECIMAL),
        ),
    }
    tables = {
        name: Table(name=name, prefix=name[:3].upper(), columns=columns.get(name, (_col("APPTID"),)))
        for name in TABLE_NAMES
    }
    codelists = {
        "NHSNumberStatus": CodeList("NHSNumberStatus", "", {"01": "", "02": "", "07": ""}),
        "Disability": CodeList("Disability", "", {"01": "", "02": "", "XX": "", "NN": ""}),
        "Attendance": CodeList("Attendance", "", {"2": "", "3": "", "5": ""}),
        "AppointmentType": CodeList("AppointmentType", "", {"01": "", "02": "", "03": ""}),
    }
    return DataSet(version="test", tables=tables, codelists=codelists, formats={}, profiles={}, rules={})


DATASET = tiny_dataset()


def read(
    path: Path,
    file_name: str | None = None,
    *,
    max_upload: int = 10**9,
    max_unzipped: int = 10**9,
    work_dir=None,
):
    return read_file(
        path,
        file_name=file_name or path.name,
        max_upload_bytes=max_upload,
        max_unzipped_bytes=max_unzipped,
        dataset=DATASET,
        work_dir=work_dir,
    )


def rule_ids(result) -> list[str]:
    return [f.rule_id for f in result.findings]


def make_zip(path: Path, entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def set_encrypted_flag(path: Path) -> None:
    """Set general-purpose bit 0 (encrypted) in every local and central header of the ZIP."""
    data = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = data.find(sig)
        while pos >= 0:
            (flags,) = struct.unpack_from("<H", data, pos + offset)
            struct.pack_into("<H", data, pos + offset, flags | 0x1)
            pos = data.find(sig, pos + 4)
    path.write_bytes(bytes(data))


def rows(table) -> list[tuple]:
    """Data rows without the row number."""
    cols = [c for c in table.frame.columns if c.startswith("c")]
    return table.frame.select(cols).rows()


def row_numbers(table) -> list[int]:
    from validation.model import ROW

    return table.frame.get_column(ROW).to_list()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()
