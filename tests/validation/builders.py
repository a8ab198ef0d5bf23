"""Build in-memory RawTables / ReadResults for engine tests (no files, no Django)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from validation.dataset import DATASET
from validation.engine import run_engine
from validation.model import (
    ROW,
    OrganisationRegister,
    RawTable,
    ReadResult,
    RegisterEntry,
    UploadContext,
    ValidationResult,
)

PERSON = {
    "LPTID": "P0001",
    "NHSNO": "9434765919",
    "NHSNOSTATUS": "01",
    "DOB": "1980-05-17",
    "POSTCODE": "LS1 4AP",
    "GENDER": "1",
    "GMPC": "B86001",
    "ETHNICITY": "A",
    "RELIGION": "C1",
    "SEXUALORIENTATION": "1",
    "BAFINDICATOR": "03",
    "LTCONDITION": "N",
}
REFERRAL = {
    "SERVICEID": "R0001",
    "LPTID": "P0001",
    "ORGCODECOMM": "02V",
    "REFRECDATE": "2017-10-02",
    "SOURCEREFERRAL": "A1",
    "OPTINDATE": "",
    "SERREQACCIND": "Y",
    "PROVDIAG": "F32.1",
    "ONSETDATE": "2017-09",
    "RECURIND": "N",
    "CARECLUSTER": "01",
    "ORGCODEPROVIDSTEPTO": "",
    "ENDDATE": "",
    "ENDCODE": "",
}
APPOINTMENT = {
    "APPTID": "A0001",
    "SERVICEID": "R0001",
    "APPOINTMENT": "2017-11-09",
    "APPOINTMENTTIME": "10:00",
    "ATTENDANCE": "5",
    "APPTYPE": "01",
    "CONSMEDIUM": "01",
    "PHQ9_SCORE": "12",
    "GAD7SCORE": "10",
}


def valid_file(profile: str = "P15STD") -> dict[str, list[dict[str, str]]]:
    """A minimal valid file for RP 2017-11 from provider TSTP1: 1 person, 1 referral, 1 appointment."""
    version = DATASET.profiles[profile].idb_version
    tables: dict[str, list[dict[str, str]]] = {name: [] for name in DATASET.profiles[profile].required_tables}
    tables["Header"] = [
        {
            "IDBVERSION": version,
            "ORGCODEPROVIDER": "TSTP1",
            "START_DATE": "2017-11-01",
            "END_DATE": "2017-11-30",
        }
    ]
    tables["Person"] = [dict(PERSON)]
    tables["Referral"] = [dict(REFERRAL)]
    tables["Appointment"] = [dict(APPOINTMENT)]
    return copy.deepcopy(tables)


def raw_table(
    name: str,
    rows: list[dict[str, Any]],
    headers: list[str] | None = None,
    access_types: list[str] | None = None,
    row_numbers: list[int] | None = None,
) -> RawTable:
    """Rows are dicts by column name; missing keys are blank. ``headers`` defaults to the spec columns."""
    if headers is None:
        headers = (
            list(DATASET.tables[name].column_names)
            if name in DATASET.tables
            else sorted({k for r in rows for k in r})
        )
    data: dict[str, list[Any]] = {f"c{i}": [r.get(h, "") for r in rows] for i, h in enumerate(headers)}
    data[ROW] = row_numbers or list(range(1, len(rows) + 1))
    schema = {f"c{i}": pl.String for i in range(len(headers))} | {ROW: pl.Int64}
    return RawTable(name, f"{name}.csv", headers, pl.DataFrame(data, schema=schema), access_types)


def make_read(
    tables: dict[str, list[dict[str, str]]], kind: str = "csvzip", **raw_tables: RawTable
) -> ReadResult:
    out = [raw_table(name, rows) for name, rows in tables.items()]
    out.extend(raw_tables.values())
    return ReadResult(kind=kind, tables=out)


def register(*, ltc: bool = False, ea: bool = False) -> OrganisationRegister:
    return OrganisationRegister(
        {
            "TSTP1": RegisterEntry("TSTP1", "Test provider", "PROVIDER", ltc_mus_pilot=ltc, ea_pilot=ea),
            "02V": RegisterEntry("02V", "Leeds CCG", "COMMISSIONER"),
            "03C": RegisterEntry("03C", "Other CCG", "COMMISSIONER"),
        }
    )


def make_ctx(
    *,
    period: str = "2017-11",
    org: str = "TSTP1",
    received_at: datetime | None = None,
    ltc: bool = False,
    ea: bool = False,
    window_opens_on: date | None = date(2017, 12, 1),
) -> UploadContext:
    return UploadContext(
        org_code=org,
        period=period,
        window_type="Primary",
        received_at=received_at or datetime(2017, 12, 5, 14, 3, 27, tzinfo=UTC),
        window_opens_on=window_opens_on,
        register=register(ltc=ltc, ea=ea),
        file_name="test.zip",
    )


def run(tables: dict[str, list[dict[str, str]]], *, kind: str = "csvzip", **ctx_kw: Any) -> ValidationResult:
    return run_engine(make_read(tables, kind=kind), make_ctx(**ctx_kw))


def findings(result: ValidationResult, rule_id: str | None = None) -> list[dict[str, Any]]:
    f = result.findings
    if rule_id is not None:
        f = f.filter(pl.col("rule_id") == rule_id)
    return f.to_dicts()


def rule_ids(result: ValidationResult) -> list[str]:
    return result.findings.get_column("rule_id").to_list()
