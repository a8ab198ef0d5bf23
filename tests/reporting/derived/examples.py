"""Spec 11.3 worked examples A-E as accepted, normalised String tables (RP 2017-11, provider TSTP1)."""

from __future__ import annotations

import polars as pl

from validation.dataset import DATASET

PERIOD = "2017-11"
PROVIDER = "TSTP1"
KEY = b"example-key-do-not-use"


def frame(table: str, rows: list[dict[str, str | None]]) -> pl.DataFrame:
    cols = DATASET.tables[table].column_names
    data: dict[str, list] = {"ROW_NUMBER": list(range(1, len(rows) + 1))}
    for c in cols:
        data[c] = [r.get(c) for r in rows]
    schema = {"ROW_NUMBER": pl.Int64, **{c: pl.String for c in cols}}
    return pl.DataFrame(data, schema=schema)


PERSONS = [
    {
        "LPTID": "P0001",
        "NHSNO": "9434765919",
        "NHSNOSTATUS": "01",
        "DOB": "1985-06-15",
        "GENDER": "2",
        "POSTCODE": "LS1 4AP",
    },
    {
        "LPTID": "P0002",
        "NHSNO": "4010232137",
        "NHSNOSTATUS": "01",
        "DOB": "1970-02-28",
        "GENDER": "1",
        "POSTCODE": "M1 1AE",
    },
    {
        "LPTID": "P0003",
        "NHSNO": None,
        "NHSNOSTATUS": "07",
        "DOB": "1992-11-30",
        "GENDER": "1",
        "POSTCODE": "LS1  4AP",
    },
    {
        "LPTID": "P0004",
        "NHSNO": "4505577104",
        "NHSNOSTATUS": "01",
        "DOB": "1964-03-01",
        "GENDER": "2",
        "POSTCODE": "B1 1AA",
    },
    {
        "LPTID": "P0005",
        "NHSNO": "4857773457",
        "NHSNOSTATUS": "01",
        "DOB": "1999-12-31",
        "GENDER": "1",
        "POSTCODE": "S1 2HE",
    },
]

REFERRALS = [
    {
        "SERVICEID": "R0001",
        "LPTID": "P0001",
        "REFRECDATE": "2017-09-04",
        "PROVDIAG": "F41.1",
        "ENDDATE": "2017-11-20",
        "ENDCODE": "46",
    },
    {
        "SERVICEID": "R0002",
        "LPTID": "P0002",
        "REFRECDATE": "2017-07-03",
        "PROVDIAG": "F32.1",
        "ENDDATE": "2017-11-28",
        "ENDCODE": "46",
    },
    {
        "SERVICEID": "R0003",
        "LPTID": "P0003",
        "REFRECDATE": "2017-08-14",
        "PROVDIAG": "F40.1",
        "ENDDATE": "2017-11-15",
        "ENDCODE": "46",
    },
    {
        "SERVICEID": "R0004",
        "LPTID": "P0004",
        "REFRECDATE": "2017-06-05",
        "PROVDIAG": "F400",
        "ENDDATE": "2017-11-10",
        "ENDCODE": "47",
    },
    {
        "SERVICEID": "R0005",
        "LPTID": "P0005",
        "REFRECDATE": "2017-10-16",
        "PROVDIAG": "F41.2",
        "ENDDATE": "2017-11-21",
        "ENDCODE": "48",
    },
]
for _r in REFERRALS:
    _r.update(ORGCODECOMM="TSTC1", SOURCEREFERRAL="A1")

_APPT_COLS = ("APPTID", "APPOINTMENT", "APPTYPE", "ATTENDANCE", "THERTYPE1", "PHQ9_SCORE", "GAD7SCORE")
_APPTS = {
    "R0001": [
        ("A0001", "2017-09-11", "01", "5", None, "16", "14", {}),
        ("A0002", "2017-09-25", "02", "5", "20", "13", "12", {}),
        ("A0003", "2017-10-09", "02", "3", None, None, None, {}),
        ("A0004", "2017-10-16", "02", "5", "20", "9", "8", {}),
        ("A0005", "2017-11-13", "02", "6", "20", "6", "5", {}),
    ],
    "R0002": [
        ("B0001", "2017-07-10", "01", "5", None, "22", "15", {}),
        ("B0002", "2017-08-21", "02", "5", "50", "20", "14", {}),
        ("B0003", "2017-09-18", "02", "5", "50", "18", "12", {}),
        ("B0004", "2017-10-16", "02", "2", None, None, None, {"CANCELLATION": "Y"}),
        ("B0005", "2017-11-06", "05", "5", "50", "14", "9", {}),
    ],
    "R0003": [
        ("C0001", "2017-08-21", "03", "5", "50", "7", "6", {"SOCPHOBIAINVSCORE": "15"}),
        ("C0002", "2017-09-18", "02", "5", "50", "6", None, {"SOCPHOBIAINVSCORE": "14"}),
        ("C0003", "2017-10-23", "02", "5", "50", "4", "5", {"SOCPHOBIAINVSCORE": "12"}),
        ("C0004", "2017-11-27", "06", "5", None, "3", None, {"SOCPHOBIAINVSCORE": "10"}),
    ],
    "R0004": [
        ("D0001", "2017-06-12", "01", "5", None, "11", "9", {"AGORASCOREALONE": "3.1"}),
        ("D0002", "2017-07-31", "02", "5", "51", "12", "11", {}),
        ("D0003", "2017-09-04", "02", "7", None, None, None, {}),
        ("D0004", "2017-10-02", "02", "5", "51", "12", "14", {}),
    ],
    "R0005": [
        ("E0001", "2017-10-23", "01", "5", None, "15", "12", {}),
        ("E0002", "2017-11-06", "02", "5", "22", "13", "11", {}),
        ("E0003", "2017-11-13", "02", "3", None, None, None, {}),
    ],
}
APPOINTMENTS = []
for _sid, _rows in _APPTS.items():
    for *_vals, _other in _rows:
        _row = dict(zip(_APPT_COLS, _vals, strict=True))
        _row.update(SERVICEID=_sid, CONSMEDIUM="01", **_other)
        APPOINTMENTS.append(_row)

PAUSES = [
    {
        "SERVICEID": "R0002",
        "PAUSEID": "1",
        "PAUSESTARTDATE": "2017-07-17",
        "PAUSEENDDATE": "2017-07-30",
        "PAUSEREASON": "02",
    },
]


def tables() -> dict[str, pl.DataFrame]:
    return {
        "Header": frame(
            "Header",
            [
                {
                    "IDBVERSION": "1.5.05",
                    "ORGCODEPROVIDER": PROVIDER,
                    "START_DATE": "2017-11-01",
                    "END_DATE": "2017-11-30",
                }
            ],
        ),
        "Person": frame("Person", PERSONS),
        "Disability": frame("Disability", [{"LPTID": "P0003", "DISABILITY": "NN"}]),
        "Referral": frame("Referral", REFERRALS),
        "Appointment": frame("Appointment", APPOINTMENTS),
        "AssessmentPEQ": frame("AssessmentPEQ", []),
        "TreatmentPEQ": frame("TreatmentPEQ", []),
        "WaitingTimePause": frame("WaitingTimePause", PAUSES),
    }


# Spec 11.3 "Derived values for examples A-E (RP 2017-11)"; None = (blank).
_EXPECTED_TEXT = """
AGE_AT_REFERRAL | 32 | 47 | 24 | 53 | 17
REFERRED_IN_RP | N | N | N | N | N
ENDED_IN_RP | Y | Y | Y | Y | Y
END_GROUP | TREATED | TREATED | TREATED | TREATED | TREATED
PD_CATEGORY | GAD | DEPRESSION | SOCIAL_PHOBIA | AGORAPHOBIA | MIXED_ANX_DEP
ADSM_FOR_PD | GAD7 | GAD7 | SPIN | MI_ALONE | GAD7
FIRST_ASSESSMENT_DATE | 2017-09-11 | 2017-07-10 | 2017-08-21 | 2017-06-12 | 2017-10-23
FIRST_TREATMENT_DATE | 2017-09-25 | 2017-08-21 | 2017-08-21 | 2017-07-31 | 2017-11-06
SECOND_TREATMENT_DATE | 2017-10-16 | 2017-09-18 | 2017-09-18 | 2017-10-02 | (blank)
LAST_TREATMENT_DATE | 2017-11-13 | 2017-11-06 | 2017-10-23 | 2017-10-02 | 2017-11-06
COUNT_TREATMENT_APPTS | 3 | 3 | 3 | 2 | 1
COUNT_ATTENDED_APPTS | 4 | 4 | 4 | 3 | 2
COUNT_DNA_APPTS | 1 | 0 | 0 | 0 | 1
ENTERED_TREATMENT_IN_RP | N | N | N | N | Y
FINISHED_TREATMENT | Y | Y | Y | Y | N
FIRST_PHQ9 | 16 | 22 | 7 | 11 | 15
LAST_PHQ9 | 6 | 14 | 4 | 12 | 13
FIRST_GAD7 | 14 | 15 | 6 | 9 | 12
LAST_GAD7 | 5 | 9 | 5 | 14 | 11
ADSM | GAD7 | GAD7 | SPIN | GAD7 | GAD7
FIRST_ADSM | 14 | 15 | 15 | 9 | 12
LAST_ADSM | 5 | 9 | 12 | 14 | 11
PAIRED_SCORES | Y | Y | Y | Y | Y
OUTCOME_ELIGIBLE | Y | Y | Y | Y | N
CASENESS | Y | Y | N | Y | (blank)
RECOVERY | Y | N | (blank) | N | (blank)
RELIABLE_IMPROVEMENT | Y | Y | N | N | (blank)
RELIABLE_DETERIORATION | N | N | N | Y | (blank)
NO_RELIABLE_CHANGE | N | N | Y | N | (blank)
RELIABLE_RECOVERY | Y | N | (blank) | N | (blank)
WAIT_DAYS | 21 | 49 | 7 | 56 | 21
PAUSED_DAYS | 0 | 14 | 0 | 0 | 0
WAIT_DAYS_ADJUSTED | 21 | 35 | 7 | 56 | 21
WAIT_6WK | Y | N | Y | N | Y
WAIT_18WK | Y | Y | Y | Y | Y
LI_TREATED | Y | N | N | N | Y
HI_TREATED | N | Y | Y | Y | N
"""

EXPECTED: dict[str, dict[str, str | None]] = {}
for _line in _EXPECTED_TEXT.strip().splitlines():
    _item, *_vals = (p.strip() for p in _line.split("|"))
    for _sid, _v in zip(("R0001", "R0002", "R0003", "R0004", "R0005"), _vals, strict=True):
        EXPECTED.setdefault(_sid, {})[_item] = None if _v == "(blank)" else _v
