"""One case per table-specific rule of Disability, Appointment, the questionnaires, pauses and the pilot
tables: a row that breaks the rule next to valid rows, then the edge cases the spec spells out (6.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.validation.builders import APPOINTMENT, PERSON, REFERRAL, findings, run, valid_file
from validation.dataset import DATASET
from validation.engine import IMPLEMENTED, NOT_IMPLEMENTED

Tables = dict[str, list[dict[str, str]]]
CTX = {"ltc": True, "ea": True}

EA_ROW = {
    "APPTID": "A0001",
    "EASESSIONIND": "Y",
    "WEEKHOURSWORKED": "01",
    "SICKABSENCEIND": "N",
    "BENEFITRECIND": "N",
    "JSAIND": "N",
    "ESAIND": "N",
    "UCIND": "N",
    "PIPIND": "N",
    "OTHERBENEFITIND": "N",
    "EMPSUPPORTDISCHDATE": "2017-11-20",
}


def full_file() -> Tables:
    """Valid P15LTC file with EA rows: two of everything, row 1 of each child table belonging to the first
    person/referral/appointment, row 2 to the second."""
    t = valid_file("P15LTC")
    t["Person"].append(dict(PERSON, LPTID="P0002", NHSNO="4010232137", DOB="1975-03-01"))
    t["Referral"].append(dict(REFERRAL, SERVICEID="R0002", LPTID="P0002"))
    t["Appointment"][0]["EMPSTATUS"] = "01"
    t["Appointment"].append(dict(APPOINTMENT, APPTID="A0002", SERVICEID="R0002", EMPSTATUS="01"))
    t["Disability"] = [{"LPTID": p, "DISABILITY": "01"} for p in ("P0001", "P0002")]
    t["AssessmentPEQ"] = [
        {"SERVICEID": s, "ASSESSPEQDATE": "2017-11-09", "ASSESSPEQTIME": "10:30", "ASSESSMENT1": "Y",
         "ASSESSMENT2": "Y", "ASSESSMENT3": "Y", "SATISFACTION": "4"}
        for s in ("R0001", "R0002")
    ]  # fmt: skip
    t["TreatmentPEQ"] = [
        {"SERVICEID": s, "TREATPEQDATE": "2017-11-09", "TREATPEQTIME": "11:00", **{f"TREATMENT{i}": "4" for i in range(1, 6)}}
        for s in ("R0001", "R0002")
    ]  # fmt: skip
    t["WaitingTimePause"] = [
        {"SERVICEID": s, "PAUSEID": "1", "PAUSESTARTDATE": "2017-10-10", "PAUSEENDDATE": "2017-10-20",
         "PAUSEREASON": "01"}
        for s in ("R0001", "R0002")
    ]  # fmt: skip
    t["LTCCondition"] = [{"SERVICEID": s, "LTCCODE": "10"} for s in ("R0001", "R0002")]
    t["MUSSymptom"] = [{"SERVICEID": s, "MUSCODE": "01"} for s in ("R0001", "R0002")]
    t["LTCAppointment"] = [
        {"APPTID": a, "LTCSERVICEIND": "Y", "PHQ15SCORE": "5", "IBSSSSCORE": "100"}
        for a in ("A0001", "A0002")
    ]
    t["EmploymentAdviser"] = [dict(EA_ROW), dict(EA_ROW, APPTID="A0002")]
    return t


def upd(table: str, row: int = 1, **kw: str) -> Callable[[Tables], None]:
    """Update row ``row`` (0-based) of ``table``."""

    def f(t: Tables) -> None:
        t[table][row].update(kw)

    return f


def add(table: str, **kw: str) -> Callable[[Tables], None]:
    """Append a copy of row 2 of ``table`` with ``kw`` changed."""

    def f(t: Tables) -> None:
        t[table].append(dict(t[table][1], **kw))

    return f


def both(*fns: Callable[[Tables], None]) -> Callable[[Tables], None]:
    def f(t: Tables) -> None:
        for fn in fns:
            fn(t)

    return f


def app(**kw: str) -> Callable[[Tables], None]:
    return upd("Appointment", **kw)


# (rule, table, mutation, column, rows expected, context overrides)
CASES: list[tuple[str, str, Callable[[Tables], None], str | None, list[int], dict[str, Any]]] = [
    ("DIS140", "Disability", add("Disability", DISABILITY="NN"), "DISABILITY", [3], {}),
    ("APP140", "Appointment", app(EMPSUPPORTREFERRAL="2017-12-01", EMPSUPPORTIND="Y"), "EMPSUPPORTREFERRAL", [2], {}),
    ("APP150", "Appointment", app(APPOINTMENT="2017-10-01"), "APPOINTMENT", [2], {}),
    (
        "APP160",
        "Appointment",
        both(upd("Referral", ENDDATE="2017-11-08", ENDCODE="46"), app(APPTYPE="02", THERTYPE1="20")),
        "APPOINTMENT",
        [2],
        {},
    ),
    ("APP190", "Appointment", app(CONSMEDIUM="02", FFCOMM="01"), "FFCOMM", [2], {}),
    ("APP200", "Appointment", app(CANCELLATION="Y"), "CANCELLATION", [2], {}),
    ("APP210", "Appointment", app(THERTYPE2="20"), "THERTYPE2", [2], {}),
    ("APP220", "Appointment", app(APPTYPE="02"), "THERTYPE1", [2], {}),
    ("APP230", "Appointment", app(ATTENDANCE="3", PHQ9_SCORE="", GAD7SCORE="", OCDSCORE="12"), "OCDSCORE", [2], {}),
    ("APP250", "Appointment", app(GAD7SCORE=""), "GAD7SCORE", [2], {}),
    ("APP260", "Appointment", app(SERVICEID="R0001"), "APPOINTMENT", [2], {}),
    ("APP270", "Appointment", app(EMPSUPPORTREFERRAL="2017-11-01"), "EMPSUPPORTREFERRAL", [2], {}),
    ("APP280", "Appointment", app(CONTACTDURATION="481"), "CONTACTDURATION", [2], {}),
    ("APQ130", "AssessmentPEQ", upd("AssessmentPEQ", ASSESSPEQDATE="2017-12-01"), "ASSESSPEQDATE", [2], {}),
    ("APQ140", "AssessmentPEQ", upd("AssessmentPEQ", ASSESSPEQDATE="2017-10-01"), "ASSESSPEQDATE", [2], {}),
    ("TPQ130", "TreatmentPEQ", upd("TreatmentPEQ", TREATPEQDATE="2017-12-01"), "TREATPEQDATE", [2], {}),
    ("TPQ140", "TreatmentPEQ", upd("TreatmentPEQ", TREATPEQDATE="2017-10-01"), "TREATPEQDATE", [2], {}),
    (
        "TPQ160",
        "TreatmentPEQ",
        upd("TreatmentPEQ", **{f"TREATMENT{i}": " " for i in range(1, 6)}),
        "TREATMENT1",
        [2],
        {},
    ),
    ("WTP140", "WaitingTimePause", upd("WaitingTimePause", PAUSEENDDATE="2017-12-01"), "PAUSEENDDATE", [2], {}),
    ("WTP150", "WaitingTimePause", upd("WaitingTimePause", PAUSESTARTDATE="2017-10-01"), "PAUSESTARTDATE", [2], {}),
    ("WTP160", "WaitingTimePause", upd("WaitingTimePause", PAUSEENDDATE="2017-10-09"), "PAUSEENDDATE", [2], {}),
    (
        "WTP180",
        "WaitingTimePause",
        upd("WaitingTimePause", SERVICEID="R0001", PAUSEID="2", PAUSESTARTDATE="2017-10-20", PAUSEENDDATE=""),
        "PAUSESTARTDATE",
        [2],
        {},
    ),
    ("LTC140", "LTCCondition", add("LTCCondition", LTCCODE="97"), "LTCCODE", [3], {}),
    (
        "LTA150",
        "LTCAppointment",
        both(app(ATTENDANCE="7", PHQ9_SCORE="", GAD7SCORE=""), upd("LTCAppointment", IBSSSSCORE="")),
        "PHQ15SCORE",
        [2],
        {},
    ),
    ("EA130", "EmploymentAdviser", lambda t: None, "APPTID", [1, 2], {"window_opens_on": "2017-09-01"}),
    ("EA140", "EmploymentAdviser", lambda t: None, "APPTID", [1, 2], {"ea": False}),
    ("EA160", "EmploymentAdviser", upd("EmploymentAdviser", UCIND="y"), "UCIND", [2], {}),
    ("EA170", "EmploymentAdviser", app(EMPSTATUS="02"), "WEEKHOURSWORKED", [2], {}),
    ("EA180", "EmploymentAdviser", upd("EmploymentAdviser", EMPSUPPORTDISCHDATE="2017-12-01"), "EMPSUPPORTDISCHDATE", [2], {}),
]  # fmt: skip


def _ctx(overrides: dict[str, Any]) -> dict[str, Any]:
    from datetime import date

    out = dict(CTX)
    for k, v in overrides.items():
        out[k] = date.fromisoformat(v) if k == "window_opens_on" and v else v
    return out


def run_full(t: Tables, **kw: Any) -> Any:
    return run(t, **_ctx(kw))


def test_full_file_has_no_findings() -> None:
    result = run_full(full_file())
    assert result.findings.height == 0, result.findings
    assert result.outcome.value == "Accepted"


@pytest.mark.parametrize(
    ("rule_id", "table", "mutate", "column", "rows", "ctx"), CASES, ids=[c[0] for c in CASES]
)
def test_rule_fires(
    rule_id: str,
    table: str,
    mutate: Callable[[Tables], None],
    column: str | None,
    rows: list[int],
    ctx: dict[str, Any],
) -> None:
    t = full_file()
    mutate(t)
    result = run_full(t, **ctx)
    got = findings(result, rule_id)
    spec = DATASET.rules[rule_id]
    assert sorted(f["row_number"] for f in got) == rows, result.findings
    for f in got:
        assert f["severity"] == spec.severity.value
        assert f["table"] == table
        assert f["column"] == column
        assert f["message"] == spec.message
        assert f["stage"] == "RECORDS"
    # The valid rows of the same file stay free of this rule.
    assert not [f for f in got if f["row_number"] not in rows]


def test_every_new_rule_has_a_case() -> None:
    expected = {
        "DIS140", "APP140", "APP150", "APP160", "APP190", "APP200", "APP210", "APP220", "APP230", "APP250",
        "APP260", "APP270", "APP280", "APQ130", "APQ140", "TPQ130", "TPQ140", "TPQ160", "WTP140", "WTP150",
        "WTP160", "WTP180", "LTC140", "LTA150", "EA130", "EA140", "EA160", "EA170", "EA180",
    }  # fmt: skip
    assert expected == {c[0] for c in CASES}


def test_engine_implements_the_whole_catalogue() -> None:
    assert NOT_IMPLEMENTED == []
    outside = {"FILE001", "FILE002", "FILE003", "FILE004", "FILE005", "FILE006", "FILE007"}
    assert set(DATASET.rules) - outside <= IMPLEMENTED
    assert len(DATASET.rules) == 163


# ------------------------------------------------------------------------------------------- edge cases
def ids_of(result: Any, rule_id: str) -> list[tuple[int, str]]:
    return [(f["row_number"], f["column"]) for f in findings(result, rule_id)]


def test_dis140_only_valid_codes_count() -> None:
    t = full_file()
    t["Disability"] = [
        {"LPTID": "P0001", "DISABILITY": "zz"},
        {"LPTID": "P0001", "DISABILITY": "QQ"},  # invalid code (DIS120): never "a different code"
        {"LPTID": "P0001", "DISABILITY": "ZZ"},  # same code repeated (DIS130), not different
        {"LPTID": "P0002", "DISABILITY": "NN"},
        {"LPTID": "P0002", "DISABILITY": "ZZ"},  # NN and ZZ differ: both flagged
        {"LPTID": "P0099", "DISABILITY": "01"},  # orphan rows still count ...
        {"LPTID": "P0099", "DISABILITY": "NN"},
    ]
    res = run_full(t)
    assert ids_of(res, "DIS140") == [(4, "DISABILITY"), (5, "DISABILITY"), (7, "DISABILITY")]
    assert ids_of(res, "DIS120") == [(2, "DISABILITY")]
    assert ids_of(res, "DIS130") == [(3, "DISABILITY")]


def test_ltc140_other_service_ids_do_not_count() -> None:
    t = full_file()
    t["LTCCondition"] = [
        {"SERVICEID": "R0001", "LTCCODE": "99"},
        {"SERVICEID": "R0002", "LTCCODE": "10"},
        {"SERVICEID": "R0002", "LTCCODE": "98"},
        {"SERVICEID": "R0002", "LTCCODE": "X1"},
    ]
    res = run_full(t)
    assert ids_of(res, "LTC140") == [(3, "LTCCODE")]


def test_app160_follow_up_allowed_and_needs_valid_apptype() -> None:
    t = full_file()
    t["Referral"][1].update(ENDDATE="2017-11-08", ENDCODE="46")
    t["Appointment"][1].update(APPTYPE="06")
    assert not findings(run_full(t), "APP160")
    t["Appointment"][1].update(APPTYPE="99")  # APP170; APP160 not evaluated
    res = run_full(t)
    assert not findings(res, "APP160") and findings(res, "APP170")


def test_parent_value_rules_need_exactly_one_valid_parent() -> None:
    t = full_file()
    t["Referral"].append(dict(REFERRAL, SERVICEID="R0002", LPTID="P0002"))  # REF110 on both copies
    t["Appointment"][1]["APPOINTMENT"] = "2017-10-01"
    res = run_full(t)
    assert findings(res, "REF110") and not findings(res, "APP150")
    assert findings(res, "APP130")
    t = full_file()
    t["Appointment"][1].update(ATTENDANCE="9")  # invalid parent ATTENDANCE: LTA150 not evaluated
    assert not findings(run_full(t), "LTA150")
    t = full_file()
    t["Appointment"][1].update(EMPSTATUS="77")  # invalid parent EMPSTATUS: EA170 not evaluated
    assert not findings(run_full(t), "EA170")
    t["Appointment"][1].update(EMPSTATUS="")  # blank: "populated and not 01" is false
    assert not findings(run_full(t), "EA170")


@pytest.mark.parametrize(
    ("attendance", "cancellation", "fires"),
    [("2", "", True), ("2", "Y", False), ("3", "N", True), ("3", "", False), ("9", "Y", False)],
)
def test_app200_both_alternatives(attendance: str, cancellation: str, fires: bool) -> None:
    t = full_file()
    t["Appointment"][1].update(ATTENDANCE=attendance, CANCELLATION=cancellation, PHQ9_SCORE="", GAD7SCORE="")
    assert bool(findings(run_full(t), "APP200")) is fires


def test_app210_gap_and_repeat_on_later_columns() -> None:
    t = full_file()
    t["Appointment"][1].update(THERTYPE1="20", THERTYPE2="", THERTYPE3="21", THERTYPE4="20")
    assert ids_of(run_full(t), "APP210") == [(2, "THERTYPE3"), (2, "THERTYPE4")]
    t["Appointment"][1].update(THERTYPE1="20", THERTYPE2="21", THERTYPE3="21", THERTYPE4="")
    assert ids_of(run_full(t), "APP210") == [(2, "THERTYPE3")]
    t["Appointment"][1].update(THERTYPE1="ZZ", THERTYPE2="zz", THERTYPE3="", THERTYPE4="")
    assert ids_of(run_full(t), "APP210") == []  # invalid codes never repeat


def test_app230_and_app250_need_valid_attendance() -> None:
    t = full_file()
    t["Appointment"][1].update(ATTENDANCE="8", THERTYPE1="20", GAD7SCORE="")
    res = run_full(t)
    assert findings(res, "APP170")
    assert not findings(res, "APP230") and not findings(res, "APP250") and not findings(res, "APP220")
    t["Appointment"][1].update(ATTENDANCE="4")
    assert ids_of(run_full(t), "APP230") == [(2, "THERTYPE1"), (2, "PHQ9_SCORE")]


def test_app260_blank_time_and_invalid_values() -> None:
    t = full_file()
    t["Appointment"] = [
        dict(APPOINTMENT, APPTID="A1", APPOINTMENTTIME=""),
        dict(APPOINTMENT, APPTID="A2", APPOINTMENTTIME=""),  # blank equals blank
        dict(APPOINTMENT, APPTID="A3", APPOINTMENTTIME="10:00:00"),  # same time as 10:00 in normal form
        dict(APPOINTMENT, APPTID="A4", APPOINTMENTTIME="10:00", ATTENDANCE="3", PHQ9_SCORE="", GAD7SCORE=""),
        dict(APPOINTMENT, APPTID="A5", APPOINTMENTTIME="10:00"),
        dict(APPOINTMENT, APPTID="A6", APPOINTMENTTIME="25:00"),  # invalid time: never matches
        dict(APPOINTMENT, APPTID="A7", APPOINTMENTTIME="25:00"),
        dict(APPOINTMENT, APPTID="A8", SERVICEID="R0002"),
    ]
    t["LTCAppointment"], t["EmploymentAdviser"] = [], []
    assert ids_of(run_full(t), "APP260") == [(2, "APPOINTMENT"), (5, "APPOINTMENT")]


def test_app270_and_app280_alternatives() -> None:
    t = full_file()
    t["Appointment"][1].update(EMPSUPPORTREFERRAL="2017-11-01", EMPSUPPORTIND="Y")
    assert not findings(run_full(t), "APP270")
    t["Appointment"][1].update(EMPSUPPORTIND="X1")  # invalid: alternative false
    assert not findings(run_full(t), "APP270")
    t["Appointment"][1].update(EMPSUPPORTIND="NA")
    assert findings(run_full(t), "APP270")
    t = full_file()
    t["Appointment"][1].update(CONTACTDURATION="0")
    assert findings(run_full(t), "APP280")
    t["Appointment"][1].update(CONTACTDURATION="0", ATTENDANCE="3", PHQ9_SCORE="", GAD7SCORE="")
    assert not findings(run_full(t), "APP280")
    t["Appointment"][1].update(CONTACTDURATION="481", ATTENDANCE="x")
    assert findings(run_full(t), "APP280")
    t["Appointment"][1].update(CONTACTDURATION="480", ATTENDANCE="5")
    assert not findings(run_full(t), "APP280")


PAUSES = [
    # SERVICEID, PAUSEID, start, end -> rows expected to overlap an earlier row
    ("R0001", "1", "2017-10-10", "2017-10-20"),
    ("R0001", "2", "2017-10-20", "2017-10-25"),  # 2: touches row 1 on 2017-10-20 (inclusive) -> overlap
    ("R0001", "3", "2017-10-26", "2017-10-30"),  # 3: no overlap
    ("R0001", "4", "2017-11-30", ""),  # 4: blank end = RP end, no overlap with earlier rows
    ("R0001", "5", "2017-11-15", "2017-11-30"),  # 5: overlaps row 4 (blank end counts as 2017-11-30)
    ("R0001", "6", "2017-11-20", "2017-11-01"),  # 6: end before start (WTP160): empty range, no overlap
    ("R0001", "7", "2017-10-01", "2017-10-05"),  # 7: no overlap
    ("R0001", "8", "2017-10-01", "2017-1x-05"),  # 8: invalid end (WTP050): not evaluated, never matches
    ("R0001", "9", "2017-10-03", "2017-10-04"),  # 9: inside row 7
    ("R0002", "1", "2017-10-12", "2017-10-12"),  # other referral: no overlap
    ("R0001", "1", "2017-10-27", "2017-10-27"),  # 11: duplicate key (WTP110) still compared: inside row 3
]


def test_wtp180_overlaps_with_earlier_rows() -> None:
    t = full_file()
    t["WaitingTimePause"] = [
        {"SERVICEID": s, "PAUSEID": p, "PAUSESTARTDATE": a, "PAUSEENDDATE": b, "PAUSEREASON": "01"}
        for s, p, a, b in PAUSES
    ]
    res = run_full(t)
    assert ids_of(res, "WTP180") == [(r, "PAUSESTARTDATE") for r in (2, 5, 9, 11)]
    assert {f["row_number"] for f in findings(res, "WTP110")} == {1, 11}


def test_wtp180_matches_brute_force_on_random_pauses() -> None:
    import random
    from datetime import date, timedelta

    rng = random.Random(7)
    base = date(2017, 9, 1)
    rows = []
    for _ in range(300):
        s = base + timedelta(days=rng.randint(0, 90))
        e = "" if rng.random() < 0.1 else (s + timedelta(days=rng.randint(-2, 12))).isoformat()
        rows.append((rng.choice(["R0001", "R0002"]), s.isoformat(), e))
    t = full_file()
    t["WaitingTimePause"] = [
        {"SERVICEID": g, "PAUSEID": str(i), "PAUSESTARTDATE": s, "PAUSEENDDATE": e, "PAUSEREASON": "01"}
        for i, (g, s, e) in enumerate(rows)
    ]
    rp_end = "2017-11-30"
    ranges = [(g, s, e or rp_end) for g, s, e in rows]
    expected = [
        i + 1
        for i, (g, s, e) in enumerate(ranges)
        if any(g2 == g and max(s, s2) <= min(e, e2) for g2, s2, e2 in ranges[:i])
    ]
    got = [f["row_number"] for f in findings(run_full(t), "WTP180")]
    assert got == expected


def test_tpq160_not_raised_when_any_answer_given() -> None:
    t = full_file()
    t["TreatmentPEQ"][1].update({f"TREATMENT{i}": "" for i in range(1, 5)})
    t["TreatmentPEQ"][1]["TREATMENT5"] = "9"  # out of range (TPQ150) but populated
    res = run_full(t)
    assert not findings(res, "TPQ160") and findings(res, "TPQ150")


def test_ea130_window_boundary_and_no_window() -> None:
    from datetime import date

    for opens, fires in [(date(2017, 10, 5), True), (date(2017, 10, 6), False), (None, False)]:
        res = run(full_file(), ltc=True, ea=True, window_opens_on=opens)
        assert bool(findings(res, "EA130")) is fires, opens
    # An empty EmploymentAdviser table is always allowed.
    t = full_file()
    t["EmploymentAdviser"] = []
    assert not findings(run(t, ltc=True, ea=False, window_opens_on=date(2017, 9, 1)), "EA140")


def test_ea160_each_benefit_column() -> None:
    t = full_file()
    t["EmploymentAdviser"][1].update(JSAIND="Y", PIPIND="Y", ESAIND="U")
    assert ids_of(run_full(t), "EA160") == [(2, "JSAIND"), (2, "PIPIND")]
    t["EmploymentAdviser"][1].update(BENEFITRECIND="Y")
    assert not findings(run_full(t), "EA160")


def test_lta150_each_score_column() -> None:
    t = full_file()
    t["Appointment"][1].update(ATTENDANCE="2", CANCELLATION="Y", PHQ9_SCORE="", GAD7SCORE="")
    t["LTCAppointment"][0].update(IBSSSSCORE="")
    res = run_full(t)
    assert ids_of(res, "LTA150") == [(2, "PHQ15SCORE"), (2, "IBSSSSCORE")]
