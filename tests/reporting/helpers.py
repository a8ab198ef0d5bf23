"""Findings frames built by hand for the writer tests."""

from __future__ import annotations

import re

import polars as pl

from validation.model import FINDING_COLUMNS

SUB_ID = "TSTP1-0000012"

# Values Excel or a naive CSV reader would mangle.
AWKWARD = [
    "0123456789",
    "01",
    "1E5",
    "=1+1",
    "=cmd|' /C calc'!A0",
    "2017-11-20",
    "+44 1234",
    "-5",
    "TRUE",
    "caf\u00e9 \u20ac \U0001f600 \u4e2d",
    'a,b "quoted"',
    "line1\nline2",
    "cr\r\nlf",
    "  inner  spaces  ",
    "12:30",
    "3.10",
]


def finding(
    rule_id: str,
    severity: str,
    table: str | None,
    row_number: int | None,
    record_key: str | None,
    column: str | None,
    value: str | None,
    message: str,
    stage: str = "RECORDS",
) -> dict[str, object]:
    return {
        "rule_id": rule_id,
        "severity": severity,
        "stage": stage,
        "table": table,
        "row_number": row_number,
        "record_key": record_key,
        "column": column,
        "value": value,
        "message": message,
    }


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=FINDING_COLUMNS, orient="row")
        if rows
        else pl.DataFrame(schema=FINDING_COLUMNS)
    )


def example_11_4() -> pl.DataFrame:
    """The findings of spec 11.4, in report line order."""
    return frame(
        [
            finding(
                "REF260",
                "WARNING",
                "Referral",
                1,
                "SERVICEID=R0001;LPTID=P0001",
                "ENDDATE",
                "2017-11-20",
                "Discharge date and end code must be given together.",
            ),
            finding(
                "REF120",
                "GROUP_REJECT",
                "Referral",
                2,
                "SERVICEID=R0009;LPTID=P0099",
                "LPTID",
                "P0099",
                "No person exists for this local patient identifier.",
            ),
            finding(
                "APP240",
                "WARNING",
                "Appointment",
                1,
                "APPTID=A0001;SERVICEID=R0001",
                "PHQ9_SCORE",
                "31",
                "Score is outside the valid range for the measure.",
            ),
            finding(
                "APP170",
                "RECORD_REJECT",
                "Appointment",
                2,
                "APPTID=A0002;SERVICEID=R0001",
                "ATTENDANCE",
                "8",
                "Value is not in the code list.",
            ),
            finding(
                "APP130",
                "GROUP_REJECT",
                "Appointment",
                3,
                "APPTID=X0001;SERVICEID=R0009",
                "SERVICEID",
                "R0009",
                "The parent referral was rejected.",
            ),
        ]
    )


def awkward_findings() -> pl.DataFrame:
    rows = [
        finding(
            "FILE016", "WARNING", "Person", None, None, "EXTRA", None, "Unknown column.", stage="PROFILE"
        ),
        finding("FILE004", "FILE_REJECT", None, None, None, None, "", "The file is empty.", stage="GATE"),
    ]
    for i, v in enumerate(AWKWARD, start=1):
        rows.append(
            finding("PER020", "WARNING", "Person", i, f"LPTID={v}", "NHSNO", v, f"Message {i}, with comma")
        )
    # ';' and '=' inside key values
    rows.append(
        finding(
            "REF120",
            "GROUP_REJECT",
            "Referral",
            99,
            "SERVICEID=R;1=2;LPTID=P=1;x",
            "LPTID",
            "P=1;x",
            "No person exists for this local patient identifier.",
        )
    )
    return frame(rows)


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def excel_text(value: object) -> object:
    """A cell value as Excel shows it: openpyxl leaves OOXML ``_xHHHH_`` escapes (xlsxwriter writes
    them for control characters such as CR) in inline strings undecoded; Excel decodes them."""
    if isinstance(value, str):
        return _OOXML_ESCAPE.sub(lambda m: chr(int(m[1], 16)), value)
    return value
