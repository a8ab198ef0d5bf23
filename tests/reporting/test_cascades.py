import polars as pl

from reporting.cascades import cascade_roots
from validation.model import FINDING_COLUMNS


def f(rule, sev, table, row, key, column, value):  # type: ignore[no-untyped-def]
    return {
        "rule_id": rule,
        "severity": sev,
        "stage": "RECORDS",
        "table": table,
        "row_number": row,
        "record_key": key,
        "column": column,
        "value": value,
        "message": "m",
    }


def test_cascades_are_attributed_to_the_root_person():
    findings = pl.DataFrame(
        [
            f("PER030", "RECORD_REJECT", "Person", 4, "LPTID=P1", "GENDER", "XX"),
            f("REF130", "GROUP_REJECT", "Referral", 7, "SERVICEID=R1;LPTID=P1", "LPTID", "P1"),
            f("REF130", "GROUP_REJECT", "Referral", 8, "SERVICEID=R2;LPTID=P1", "LPTID", "P1"),
            f("DIS110", "GROUP_REJECT", "Disability", 1, "LPTID=P1;DISABILITY=01", "LPTID", "P1"),
            *[
                f("APP130", "GROUP_REJECT", "Appointment", i, f"APPTID=A{i};SERVICEID=R1", "SERVICEID", "R1")
                for i in range(1, 6)
            ],
            f("LTA120", "GROUP_REJECT", "LTCAppointment", 2, "APPTID=A1", "APPTID", "A1"),
            # an own reject at Referral level with its own cascade
            f("REF240", "RECORD_REJECT", "Referral", 9, "SERVICEID=R3;LPTID=P2", "ENDDATE", "2017-01-01"),
            f("APP130", "GROUP_REJECT", "Appointment", 9, "APPTID=A9;SERVICEID=R3", "SERVICEID", "R3"),
            f("APP240", "WARNING", "Appointment", 10, "APPTID=A10;SERVICEID=R4", "PHQ9_SCORE", "31"),
        ],
        schema=FINDING_COLUMNS,
    )
    roots = cascade_roots(findings)
    assert roots[0] == {
        "table": "Person",
        "key": "P1",
        "rows": [4],
        "rules": ["PER030"],
        "descendants": {"Disability": 1, "Referral": 2, "Appointment": 5, "LTCAppointment": 1},
        "total": 9,
    }
    assert roots[1]["table"] == "Referral" and roots[1]["key"] == "R3" and roots[1]["rules"] == ["REF240"]
    assert roots[1]["descendants"] == {"Appointment": 1}
    assert len(roots) == 2


def test_no_cascades():
    assert cascade_roots(pl.DataFrame(schema=FINDING_COLUMNS)) == []
