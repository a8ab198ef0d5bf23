"""HEADER/PROFILE/FINAL stages, preconditions, cascades, counts, outcome and report order."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from tests.validation.builders import (
    APPOINTMENT,
    PERSON,
    REFERRAL,
    findings,
    make_ctx,
    make_read,
    raw_table,
    rule_ids,
    run,
    valid_file,
)
from validation.engine import NOT_IMPLEMENTED, run_engine
from validation.model import FINDING_COLUMNS, FileFinding, ReadResult


# ------------------------------------------------------------------ READ / HEADER
def test_reader_file_reject_stops_after_read() -> None:
    read = make_read(valid_file())
    read.findings.append(FileFinding("FILE007", table="Person"))
    res = run_engine(read, make_ctx())
    assert rule_ids(res) == ["FILE007"]
    assert res.findings.row(0, named=True)["stage"] == "READ"
    assert res.counts is None and res.accepted == {} and res.outcome.value == "Rejected"


def test_missing_header_is_file010_in_header_stage() -> None:
    t = valid_file()
    del t["Header"]
    res = run(t)
    assert [(f["rule_id"], f["stage"], f["table"]) for f in findings(res)] == [
        ("FILE010", "HEADER", "Header")
    ]
    assert res.profile is None and res.counts is None


def test_hdr010_two_rows_and_no_hdr020() -> None:
    t = valid_file()
    t["Header"].append(dict(t["Header"][0]))
    res = run(t)
    assert rule_ids(res) == ["HDR010"]
    assert findings(res)[0]["row_number"] is None


def test_hdr020_unknown_version() -> None:
    t = valid_file()
    t["Header"][0]["IDBVERSION"] = "1.5.5"
    res = run(t)
    f = findings(res, "HDR020")
    assert len(f) == 1 and f[0]["row_number"] == 1 and f[0]["value"] == "1.5.5"
    assert rule_ids(res) == ["HDR020"]


def test_header_structure_rules() -> None:
    t = valid_file()
    header = raw_table(
        "Header",
        [{"IDBVERSION": "1.5.05", "ORGCODEPROVIDER": "TSTP1", "START_DATE": "2017-11-01", "X": "1"}],
        headers=["IDBVERSION", "ORGCODEPROVIDER", "START_DATE", "X", "X"],
    )
    del t["Header"]
    res = run_engine(make_read(t, Header=header), make_ctx())
    got = [(f["rule_id"], f["column"]) for f in findings(res)]
    assert got == [("FILE012", "END_DATE"), ("FILE013", "X")]


def test_access_type_compatibility_file014() -> None:
    t = valid_file()
    del t["Header"]
    h = raw_table(
        "Header",
        [
            {
                "IDBVERSION": "1.5.05",
                "ORGCODEPROVIDER": "TSTP1",
                "START_DATE": "2017-11-01 00:00:00",
                "END_DATE": "x",
            }
        ],
        access_types=["Text", "Text", "DateTime", "Long Integer"],
    )
    res = run_engine(make_read(t, kind="mdb", Header=h), make_ctx())
    assert [(f["rule_id"], f["column"]) for f in findings(res)] == [("FILE014", "END_DATE")]
    # DateTime dates are read by their date part
    h2 = raw_table(
        "Header",
        [
            {
                "IDBVERSION": "1.5.05",
                "ORGCODEPROVIDER": "TSTP1",
                "START_DATE": "2017-11-01 00:00:00",
                "END_DATE": "2017-11-30 00:00:00",
            }
        ],
        access_types=["Text", "Memo", "DateTime", "DateTime"],
    )
    res2 = run_engine(make_read(t, kind="mdb", Header=h2), make_ctx())
    assert res2.findings.height == 0, res2.findings


# ------------------------------------------------------------------ PROFILE
def test_pilot_table_in_standard_file_is_file015_and_extra_column_file016() -> None:
    t = valid_file()
    read = make_read(t)
    read.tables.append(raw_table("LTCCondition", [{"SERVICEID": "R0001", "LTCCODE": "10"}]))
    read.tables.append(raw_table("person", [{"LPTID": "x"}]))
    hdr = read.tables[0]
    read.tables[0] = raw_table(
        "Header", [dict(t["Header"][0], ZZZ="1", AAA="2")], headers=[*hdr.headers, "ZZZ", "", "AAA"]
    )
    res = run_engine(read, make_ctx())
    got = [(f["rule_id"], f["stage"], f["table"], f["column"], f["severity"]) for f in findings(res)]
    assert got == [
        ("FILE016", "PROFILE", "Header", "ZZZ", "WARNING"),
        ("FILE016", "PROFILE", "Header", "AAA", "WARNING"),
        ("FILE015", "PROFILE", "LTCCondition", None, "WARNING"),
        ("FILE015", "PROFILE", "person", None, "WARNING"),
    ]
    assert res.outcome.value == "Accepted with warnings"
    assert "LTCCondition" not in (res.counts or {})
    assert res.counts is not None and res.counts["Person"].with_warnings == 0


def test_missing_required_table_and_duplicate_table() -> None:
    t = valid_file()
    del t["WaitingTimePause"]
    read = make_read(t)
    read.tables.append(raw_table("Person", t["Person"]))
    res = run_engine(read, make_ctx())
    got = [(f["rule_id"], f["table"]) for f in findings(res)]
    assert got == [("FILE011", "Person"), ("FILE010", "WaitingTimePause")]
    assert res.counts is None and res.profile == "P15STD"


def test_header_context_rules() -> None:
    t = valid_file("P15LTC")
    t["Header"][0].update(ORGCODEPROVIDER="tstp2", START_DATE="2017-11-02", END_DATE="2017-10-31")
    res = run(t, received_at=datetime(2017, 3, 2, 23, 59, tzinfo=UTC))
    got = [(f["rule_id"], f["column"]) for f in findings(res)]
    assert got == [
        ("HDR030", "IDBVERSION"),
        ("HDR040", "IDBVERSION"),
        ("HDR060", "ORGCODEPROVIDER"),
        ("HDR070", "START_DATE"),
        ("HDR070", "END_DATE"),
    ]
    assert all(f["row_number"] == 1 for f in findings(res))


def test_hdr030_boundary_and_pilot_flag() -> None:
    t = valid_file("P15LTC")
    ok = run(t, received_at=datetime(2017, 3, 3, 0, 0, tzinfo=UTC), ltc=True)
    assert rule_ids(ok) == []
    # 2017-03-03 00:00 London is 00:00 UTC (GMT); one second earlier is too early
    early = run(t, received_at=datetime(2017, 3, 2, 23, 59, 59, tzinfo=UTC), ltc=True)
    assert rule_ids(early) == ["HDR030"]


def test_hdr050_and_hdr080() -> None:
    t = valid_file()
    t["Header"][0]["ORGCODEPROVIDER"] = "T!"
    res = run(t, period="2017-10")
    assert [(f["rule_id"], f["column"]) for f in findings(res)] == [
        ("HDR050", "ORGCODEPROVIDER"),
        ("HDR080", "START_DATE"),
        ("HDR080", "END_DATE"),
    ]


# ------------------------------------------------------------------ preconditions
def test_over_long_lptid_with_space_gets_only_per030() -> None:
    t = valid_file()
    t["Person"][0]["LPTID"] = "P 00000000000000000001"
    t["Referral"][0]["LPTID"] = "P 00000000000000000001"
    res = run(t)
    person = [f["rule_id"] for f in findings(res) if f["table"] == "Person"]
    assert person == ["PER030"]


def test_attendance_55_gets_app030_not_app170() -> None:
    t = valid_file()
    t["Appointment"][0]["ATTENDANCE"] = "55"
    res = run(t)
    assert [f["rule_id"] for f in findings(res) if f["table"] == "Appointment"] == ["APP030"]


def test_unicode_whitespace_is_trimmed() -> None:
    t = valid_file()
    t["Person"][0]["GENDER"] = "\u2003\u00a01\t"
    t["Referral"][0]["SOURCEREFERRAL"] = "\u3000"
    res = run(t)
    assert [f["rule_id"] for f in findings(res)] == ["REF020"]


def test_ref220_alternatives_judged_separately() -> None:
    t = valid_file()
    t["Person"][0]["DOB"] = ""
    t["Referral"][0]["ONSETDATE"] = "2017-11"
    res = run(t)
    assert findings(res, "REF220")
    t["Referral"][0]["ONSETDATE"] = "1979-12"
    t["Person"][0]["DOB"] = "1980-05-17"
    assert findings(run(t), "REF220")


def test_parent_value_rule_needs_exactly_one_parent() -> None:
    t = valid_file()
    t["Person"].append(dict(PERSON, NHSNO="4010232137"))  # duplicate LPTID P0001
    t["Referral"][0]["REFRECDATE"] = "1970-01-01"
    t["Referral"][0]["ONSETDATE"] = ""
    res = run(t)
    assert not findings(res, "REF170")
    assert len(findings(res, "PER110")) == 2
    assert findings(res, "REF130")  # both parents rejected -> cascade


def test_invalid_code_is_not_read_by_other_rules() -> None:
    t = valid_file()
    t["Referral"][0].update(ENDDATE="2017-11-20", ENDCODE="4X", PROVDIAG="")
    res = run(t)
    assert findings(res, "REF180") and not findings(res, "REF280")


def test_invalid_date_not_compared() -> None:
    t = valid_file()
    t["Person"][0]["DOB"] = "2019-02-29"
    res = run(t)
    assert [f["rule_id"] for f in findings(res) if f["table"] == "Person"] == ["PER050"]


# ------------------------------------------------------------------ cascades
def cascade_file() -> dict[str, list[dict[str, str]]]:
    t = valid_file("P15LTC")
    t["Disability"] = [{"LPTID": "P0001", "DISABILITY": "01"}]
    t["LTCAppointment"] = [{"APPTID": "A0001", "LTCSERVICEIND": "Y"}]
    t["WaitingTimePause"] = [
        {"SERVICEID": "R0001", "PAUSEID": "1", "PAUSESTARTDATE": "2017-11-02", "PAUSEREASON": "01"}
    ]
    return t


def test_cascade_flows_down_every_level() -> None:
    base = run(cascade_file(), ltc=True)
    assert base.findings.height == 0, base.findings
    t = cascade_file()
    t["Person"][0]["GMPC"] = "BAD"
    res = run(t, ltc=True)
    got = [(f["rule_id"], f["table"], f["row_number"], f["column"], f["value"]) for f in findings(res)]
    assert got[-1] == ("FILE090", "Referral", None, None, None)
    assert got[:-1] == [
        ("PER160", "Person", 1, "GMPC", "BAD"),
        ("DIS110", "Disability", 1, "LPTID", "P0001"),
        ("REF130", "Referral", 1, "LPTID", "P0001"),
        ("APP130", "Appointment", 1, "SERVICEID", "R0001"),
        ("WTP130", "WaitingTimePause", 1, "SERVICEID", "R0001"),
        ("LTA120", "LTCAppointment", 1, "APPTID", "A0001"),
    ]
    assert res.outcome.value == "Rejected"  # FILE090: every referral rejected
    counts = res.counts
    assert counts is not None
    assert counts["Referral"].rejected_group == 1 and counts["Person"].rejected_record == 1


def test_orphan_vs_cascade_and_no_upward_propagation() -> None:
    t = valid_file()
    t["Appointment"].append(dict(APPOINTMENT, APPTID="A0002", SERVICEID="R0404"))
    t["Appointment"].append(dict(APPOINTMENT, APPTID="A0003", APPTYPE="", APPOINTMENTTIME="11:00"))
    t["Disability"] = [{"LPTID": "P0404", "DISABILITY": "01"}, {"LPTID": "P0001", "DISABILITY": "01"}]
    res = run(t)
    got = [(f["rule_id"], f["table"], f["row_number"]) for f in findings(res)]
    assert got == [("DIS100", "Disability", 1), ("APP120", "Appointment", 2), ("APP010", "Appointment", 3)]
    assert res.counts is not None and res.counts["Referral"].accepted == 1
    assert res.outcome.value == "Partially accepted"


def test_blank_or_invalid_fk_gets_no_orphan() -> None:
    t = valid_file()
    t["Referral"].append(dict(REFERRAL, SERVICEID="R0002", LPTID=""))
    t["Referral"].append(dict(REFERRAL, SERVICEID="R0003", LPTID="P" * 21))
    res = run(t)
    assert not findings(res, "REF120")
    assert [f["rule_id"] for f in findings(res)] == ["REF010", "REF030"]


def test_duplicate_keys_code_only_tables_keep_first() -> None:
    t = valid_file()
    t["Disability"] = [
        {"LPTID": "P0001", "DISABILITY": "01"},
        {"LPTID": "P0001", "DISABILITY": "01"},
        {"LPTID": "P0001", "DISABILITY": "zz9"},
        {"LPTID": "P0001", "DISABILITY": "QQ"},
        {"LPTID": "P0001", "DISABILITY": "qq"},
    ]
    res = run(t)
    got = [(f["rule_id"], f["row_number"]) for f in findings(res)]
    assert ("DIS130", 2) in got and ("DIS130", 1) not in got
    assert ("DIS030", 3) in got
    assert ("DIS120", 4) in got and ("DIS120", 5) in got
    assert not [g for g in got if g[0] == "DIS130" and g[1] in (4, 5)]


def test_composite_key_blank_equals_blank() -> None:
    t = valid_file()
    t["AssessmentPEQ"] = [
        {"SERVICEID": "R0001", "ASSESSPEQDATE": "2017-11-01"},
        {"SERVICEID": "R0001", "ASSESSPEQDATE": "2017-11-01", "ASSESSPEQTIME": " "},
        {"SERVICEID": "R0001", "ASSESSPEQDATE": "2017-11-01", "ASSESSPEQTIME": "10:00"},
        {"SERVICEID": "R0001", "ASSESSPEQDATE": "2017-11-01", "ASSESSPEQTIME": "10:00:00"},
    ]
    res = run(t)
    assert sorted(f["row_number"] for f in findings(res, "APQ100")) == [1, 2, 3, 4]


# ------------------------------------------------------------------ file content and FINAL
def test_file020_and_file021() -> None:
    t = valid_file()
    t["Person"] = []
    t["Referral"][0]["REFRECDATE"] = "2017-12-01"
    res = run(t)
    got = [(f["rule_id"], f["table"]) for f in findings(res) if f["rule_id"].startswith("FILE")]
    assert got == [("FILE020", "Person"), ("FILE021", "Referral")]
    assert res.counts is not None and res.counts["Referral"].accepted == 0
    assert res.outcome.value == "Rejected"


def test_file021_discharged_before_rp() -> None:
    t = valid_file()
    t["Referral"][0].update(ENDDATE="2017-10-20", ENDCODE="46")
    res = run(t)
    assert findings(res, "FILE021")
    t["Referral"][0].update(ENDDATE="2017-11-01")
    assert not findings(run(t), "FILE021")


def test_file090_when_every_referral_rejected() -> None:
    t = valid_file()
    t["Referral"][0]["ORGCODECOMM"] = "!"
    res = run(t)
    f = findings(res)
    assert [x["rule_id"] for x in f] == ["REF140", "APP130", "FILE090"]
    assert f[-1]["stage"] == "FINAL" and f[-1]["table"] == "Referral"
    assert res.accepted == {} and res.outcome.value == "Rejected"
    assert res.counts is not None and all(c.accepted == 0 for c in res.counts.values())


def test_no_file090_after_records_file_reject() -> None:
    t = valid_file()
    t["Referral"][0]["ORGCODECOMM"] = "!"
    t["Person"][0]["NHSNO"] = "1234567890"
    assert "FILE090" not in rule_ids(run(t))


# ------------------------------------------------------------------ counts, blank rows, outcome, order
def test_worked_example_11_4() -> None:
    t = valid_file()
    t["Referral"] = [
        dict(REFERRAL, ENDDATE="2017-11-20", ENDCODE=""),
        dict(REFERRAL, SERVICEID="R0009", LPTID="P0099"),
    ]
    t["Appointment"] = [
        dict(
            APPOINTMENT,
            APPOINTMENT="2017-10-09",
            APPTYPE="01",
            ATTENDANCE="5",
            PHQ9_SCORE="31",
            GAD7SCORE="14",
        ),
        dict(APPOINTMENT, APPTID="A0002", APPOINTMENT="2017-10-16", APPTYPE="02", ATTENDANCE="8"),
        dict(APPOINTMENT, APPTID="X0001", SERVICEID="R0009"),
    ]
    res = run(t)
    got = [
        (
            f["rule_id"],
            f["severity"],
            f["table"],
            f["row_number"],
            f["record_key"],
            f["column"],
            f["value"],
            f["message"],
        )
        for f in findings(res)
    ]
    assert got == [
        ("REF260", "WARNING", "Referral", 1, "SERVICEID=R0001;LPTID=P0001", "ENDDATE", "2017-11-20",
         "Discharge date and end code must be given together."),
        ("REF120", "GROUP_REJECT", "Referral", 2, "SERVICEID=R0009;LPTID=P0099", "LPTID", "P0099",
         "No person exists for this local patient identifier."),
        ("APP240", "WARNING", "Appointment", 1, "APPTID=A0001;SERVICEID=R0001", "PHQ9_SCORE", "31",
         "Score is outside the valid range for the measure."),
        ("APP170", "RECORD_REJECT", "Appointment", 2, "APPTID=A0002;SERVICEID=R0001", "ATTENDANCE", "8",
         "Value is not in the code list."),
        ("APP130", "GROUP_REJECT", "Appointment", 3, "APPTID=X0001;SERVICEID=R0009", "SERVICEID", "R0009",
         "The parent referral was rejected."),
    ]  # fmt: skip
    c = res.counts
    assert c is not None
    assert c["Person"].as_dict() == dict(
        read=1, accepted=1, rejected_record=0, rejected_group=0, with_warnings=0
    )
    assert c["Referral"].as_dict() == dict(
        read=2, accepted=1, rejected_record=0, rejected_group=1, with_warnings=1
    )
    assert c["Appointment"].as_dict() == dict(
        read=3, accepted=1, rejected_record=1, rejected_group=1, with_warnings=1
    )
    assert c["Header"].accepted == 1
    assert res.outcome.value == "Partially accepted"
    assert res.total_records == 1
    assert res.findings_by_rule == {"APP130": 1, "APP170": 1, "APP240": 1, "REF120": 1, "REF260": 1}
    assert res.accepted["Appointment"].get_column("ROW_NUMBER").to_list() == [1]
    assert res.accepted["Appointment"].columns[:3] == ["ROW_NUMBER", "APPTID", "SERVICEID"]


def test_blank_rows_skipped_but_keep_numbers() -> None:
    t = valid_file()
    t["Person"] = [
        dict(PERSON),
        {k: " " for k in PERSON},
        dict(PERSON, LPTID="P0002", NHSNO="", NHSNOSTATUS="03", GENDER="7"),
    ]
    t["Referral"].append(dict(REFERRAL, SERVICEID="R0002", LPTID="P0002"))
    res = run(t)
    assert res.counts is not None and res.counts["Person"].read == 2
    rows = {(f["rule_id"], f["row_number"]) for f in findings(res) if f["table"] == "Person"}
    assert rows == {("PER020", 3), ("PER170", 3)}
    assert res.accepted["Person"].get_column("ROW_NUMBER").to_list() == [1, 3]
    # Access rows are never skipped
    res_mdb = run(t, kind="mdb")
    assert res_mdb.counts is not None and res_mdb.counts["Person"].read == 3


def test_normalised_accepted_values() -> None:
    t = valid_file()
    t["Appointment"][0].update(PHQ9_SCORE="007", AGORASCOREACC="02.50", APPOINTMENTTIME="09:05")
    res = run(t)
    a = res.accepted["Appointment"].to_dicts()[0]
    assert (a["PHQ9_SCORE"], a["AGORASCOREACC"], a["APPOINTMENTTIME"]) == ("7", "2.5", "09:05:00")


def test_decimal_and_integer_checks() -> None:
    for value, ok in [
        ("5", True),
        ("1.00", True),
        ("5.001", False),
        ("10.0", False),
        ("-1", False),
        ("1e1", False),
    ]:
        t = valid_file()
        t["Appointment"][0]["AGORASCOREACC"] = value
        ids = rule_ids(run(t))
        assert ("APP040" not in ids) is ok, (value, ids)
    t = valid_file()
    t["Appointment"][0]["PHQ9_SCORE"] = "0027"
    assert rule_ids(run(t)) == []


def test_findings_frame_shape_and_order() -> None:
    t = valid_file()
    t["Person"].append(dict(PERSON, LPTID="P0002", NHSNO="", GENDER="7", ETHNICITY="", DOB="x"))
    t["Referral"].append(dict(REFERRAL, SERVICEID="R0002", LPTID="P0002"))
    read = make_read(t)
    read.tables.append(raw_table("Zeta", [{"A": "1"}]))
    read.tables.append(raw_table("Alpha", [{"A": "1"}]))
    res = run_engine(read, make_ctx())
    assert dict(res.findings.schema) == {k: v() for k, v in FINDING_COLUMNS.items()}
    got = [(f["stage"], f["table"], f["row_number"], f["rule_id"], f["column"]) for f in findings(res)]
    assert got == [
        ("PROFILE", "Alpha", None, "FILE015", None),
        ("PROFILE", "Zeta", None, "FILE015", None),
        ("RECORDS", "Person", 2, "PER020", "NHSNO"),
        ("RECORDS", "Person", 2, "PER020", "ETHNICITY"),
        ("RECORDS", "Person", 2, "PER050", "DOB"),
        ("RECORDS", "Person", 2, "PER140", "NHSNOSTATUS"),
        ("RECORDS", "Person", 2, "PER170", "GENDER"),
        ("RECORDS", "Referral", 2, "REF130", "LPTID"),
    ]


def test_progress_callback_and_not_implemented_list() -> None:
    calls: list[tuple[str, str | None, float]] = []
    run_engine(make_read(valid_file()), make_ctx(), progress=lambda s, t, f: calls.append((s, t, f)))
    assert calls and calls[-1] == ("validating", None, 1.0)
    assert {c[1] for c in calls} >= {"Person", "Referral"}
    assert NOT_IMPLEMENTED == []
    assert not [r for r in NOT_IMPLEMENTED if r.startswith(("PER", "REF", "HDR", "FILE"))]


def test_empty_read_result() -> None:
    res = run_engine(ReadResult(kind="csvzip"), make_ctx())
    assert rule_ids(res) == ["FILE010"]
    assert isinstance(res.findings, pl.DataFrame)
