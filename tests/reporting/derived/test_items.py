"""Edge cases of spec 9 beyond the worked examples."""

from __future__ import annotations

import polars as pl
import pytest

from reporting.derived import DERIVED_COLUMNS, THRESHOLDS, derive, pseudonym
from validation.dataset import DATASET

from .examples import KEY, PERIOD, PROVIDER, frame


def run(persons, referrals, appointments=(), pauses=(), period=PERIOD):
    referrals = [{"ORGCODECOMM": "TSTC1", **r} for r in referrals]
    tables = {
        "Person": frame("Person", list(persons)),
        "Referral": frame("Referral", referrals),
        "Appointment": frame("Appointment", list(appointments)),
        "WaitingTimePause": frame("WaitingTimePause", list(pauses)),
    }
    return derive(tables, period=period, provider=PROVIDER, key=KEY)


P1 = {"LPTID": "P1", "NHSNO": "9434765919", "DOB": "1985-06-15", "GENDER": "2", "POSTCODE": "LS1 4AP"}


def ref(**kw: str | None) -> dict[str, str | None]:
    return {"SERVICEID": "R1", "LPTID": "P1", "REFRECDATE": "2017-09-04", **kw}


def appt(apptid: str, date: str, apptype: str = "02", attendance: str = "5", **kw: str | None) -> dict:
    return {
        "APPTID": apptid,
        "SERVICEID": "R1",
        "APPOINTMENT": date,
        "APPTYPE": apptype,
        "ATTENDANCE": attendance,
        **kw,
    }


def one(derived: dict[str, pl.DataFrame], table: str = "Referral") -> dict:
    return derived[table].row(0, named=True)


# ------------------------------------------------------------------------------------------ layout
def test_column_order_types_and_row_order() -> None:
    persons = [{**P1, "LPTID": f"P{i}"} for i in (3, 1, 2)]
    refs = [ref(SERVICEID=f"R{i}", LPTID=f"P{i}") for i in (2, 3, 1)]
    appts = [appt("Z", "2017-09-10"), appt("A", "2017-09-09", SERVICEID="R2")]
    d = run(persons, refs, appts)
    for table in ("Person", "Referral", "Appointment"):
        spec = DATASET.tables[table].column_names
        assert d[table].columns == ["ROW_NUMBER", *spec, *DERIVED_COLUMNS[table]]
        assert all(d[table].schema[c] == pl.String for c in DERIVED_COLUMNS[table])
    assert d["Person"].get_column("LPTID").to_list() == ["P3", "P1", "P2"]
    assert d["Referral"].get_column("SERVICEID").to_list() == ["R2", "R3", "R1"]
    assert d["Appointment"].get_column("APPTID").to_list() == ["Z", "A"]
    assert d["Appointment"].get_column("ROW_NUMBER").to_list() == [1, 2]


def test_other_tables_pass_through_and_empty_appointments() -> None:
    tables = {
        "Header": frame("Header", [{"IDBVERSION": "1.5.05"}]),
        "Person": frame("Person", [P1]),
        "Referral": frame("Referral", [{**ref(), "ORGCODECOMM": "TSTC1"}]),
        "Appointment": frame("Appointment", []),
        "WaitingTimePause": frame("WaitingTimePause", []),
        "TreatmentPEQ": frame("TreatmentPEQ", []),
    }
    d = derive(tables, period=PERIOD, provider=PROVIDER, key=KEY)
    assert list(d) == list(tables)
    assert d["Header"].equals(tables["Header"]) and d["TreatmentPEQ"].equals(tables["TreatmentPEQ"])
    r = one(d)
    assert (
        r["COUNT_TREATMENT_APPTS"] == "0" and r["COUNT_ATTENDED_APPTS"] == "0" and r["COUNT_DNA_APPTS"] == "0"
    )
    assert r["FIRST_TREATMENT_DATE"] is None and r["WAIT_DAYS"] is None and r["PAUSED_DAYS"] is None
    assert r["WAIT_6WK"] is None and r["ENTERED_TREATMENT_IN_RP"] == "N" and r["FINISHED_TREATMENT"] == "N"
    assert r["PAIRED_SCORES"] == "N" and r["OUTCOME_ELIGIBLE"] == "N" and r["CASENESS"] is None


# -------------------------------------------------------------------------------------- 9.2 person
@pytest.mark.parametrize(
    ("dob", "period", "start", "end"),
    [
        ("2000-02-29", "2017-02", "16", "16"),  # non-leap year: older on 1 March
        ("2000-02-29", "2017-03", "17", "17"),
        ("2000-02-29", "2016-02", "15", "16"),  # leap year: 29 Feb is the birthday
        ("1990-11-30", "2017-11", "26", "27"),
        ("2017-11-15", "2017-11", None, "0"),  # born during the RP: no negative age
        (None, "2017-11", None, None),
    ],
)
def test_ages(dob: str | None, period: str, start: str | None, end: str | None) -> None:
    d = run([{**P1, "DOB": dob}], [ref(REFRECDATE=f"{period}-01")], period=period)
    p = one(d, "Person")
    assert (p["AGE_RP_START"], p["AGE_RP_END"]) == (start, end)
    assert p["YEAR_OF_BIRTH"] == (dob[:4] if dob else None)


@pytest.mark.parametrize(
    ("postcode", "district", "in_message"),
    [
        ("LS1 4AP", "LS1", "LS14AP"),
        ("EC1A  1BB", None, ""),  # 9 characters: fails PER150
        ("SW1A 1AA", "SW1A", "SW1A1AA"),
        ("LS14AP", None, ""),  # no space
        ("LS1\t4AP", None, ""),
        (None, None, ""),
    ],
)
def test_postcode_district_and_fallback_message(
    postcode: str | None, district: str | None, in_message: str
) -> None:
    person = {**P1, "NHSNO": None, "POSTCODE": postcode, "GENDER": "Q"}  # Q: not a Gender code
    p = one(run([person], [ref()]), "Person")
    assert p["POSTCODE_DISTRICT"] == district
    assert p["PERSON_ID"] == pseudonym(f"L|TSTP1|P1|1985-06-15||{in_message}", KEY)


def test_fallback_message_with_blank_dob() -> None:
    p = one(
        run([{**P1, "NHSNO": None, "DOB": None, "GENDER": "X"}], [ref(REFRECDATE="2017-11-01")]), "Person"
    )
    assert p["PERSON_ID"] == pseudonym("L|TSTP1|P1||X|LS14AP", KEY)


def test_pathway_id_uses_provider_service_and_person() -> None:
    d = run([P1], [ref()])
    pid = one(d, "Person")["PERSON_ID"]
    assert one(d)["PATHWAY_ID"] == pseudonym(f"P|TSTP1|R1|{pid}", KEY)
    assert len(pid) == 64 and pid == pid.lower()


# ------------------------------------------------------------------------------------ 9.4 appointment
def test_appointment_flags_and_wsas() -> None:
    appts = [
        appt(
            "A1",
            "2017-09-05",
            "01",
            "6",
            THERTYPE1="40",
            THERTYPE2="20",
            WSASWSCORE="9",
            WSASHMSCORE="3",
            WSASRSCORE="8",
        ),
        appt("A2", "2017-09-06", "04", "4", THERTYPE1="99", WSASWSCORE="9"),
        appt("A3", "2017-09-07", "06", "7", WSASWSCORE="0", WSASHMSCORE="12"),
    ]
    a = run([P1], [ref()], appts)["Appointment"]
    cols = [
        "ATTENDED",
        "IS_ASSESSMENT",
        "IS_TREATMENT",
        "IS_FOLLOWUP",
        "LOW_INTENSITY",
        "HIGH_INTENSITY",
        "WSAS_TOTAL",
    ]
    assert a.select(cols).rows() == [
        ("Y", "Y", "N", "N", "Y", "Y", "11"),
        ("N", "N", "N", "N", "N", "N", None),
        ("N", "N", "N", "Y", "N", "N", "0"),
    ]


def test_appointment_order_and_treatment_rank() -> None:
    appts = [
        appt("B", "2017-09-10", APPOINTMENTTIME="09:00:00"),
        appt("C", "2017-09-10"),  # blank time sorts first
        appt("A", "2017-09-10", APPOINTMENTTIME="09:00:00"),  # same time: APPTID order
        appt("D", "2017-09-08", attendance="3"),
        appt("E", "2017-09-09", "01"),
        appt("F", "2017-09-20", "05", PHQ9_SCORE="10"),
    ]
    d = run([P1], [ref(ENDDATE="2017-09-15", ENDCODE="46")], appts)
    ranks = dict(d["Appointment"].select("APPTID", "TREATMENT_RANK").iter_rows())
    assert ranks == {"C": "1", "A": "2", "B": "3", "D": None, "E": None, "F": None}  # F is after ENDDATE
    r = one(d)
    assert r["SECOND_TREATMENT_DATE"] == "2017-09-10" and r["LAST_TREATMENT_DATE"] == "2017-09-10"
    assert (
        r["COUNT_TREATMENT_APPTS"] == "3" and r["COUNT_ATTENDED_APPTS"] == "5" and r["COUNT_DNA_APPTS"] == "1"
    )


def test_counted_window_uses_rp_end_when_open() -> None:
    appts = [appt("A", "2017-11-30"), appt("B", "2017-09-04")]
    r = one(run([P1], [ref()], appts))
    assert r["FIRST_TREATMENT_DATE"] == "2017-09-04" and r["LAST_TREATMENT_DATE"] == "2017-11-30"
    assert r["FINISHED_TREATMENT"] == "N"  # no ENDDATE


# ------------------------------------------------------------------------------------- 9.5 referral
@pytest.mark.parametrize(
    ("provdiag", "category", "adsm"),
    [
        ("F41.1", "GAD", "GAD7"),
        ("F40.01", "AGORAPHOBIA", "MI_ALONE"),
        ("F32", "DEPRESSION", "GAD7"),
        ("F33.1X", "DEPRESSION", "GAD7"),  # 6 characters: valid
        ("F43.1", "PTSD", "IESR"),
        ("F42-0", "OCD", "OCI"),
        ("F45.2", "HEALTH_ANXIETY", "HAI"),
        ("F41.0", "PANIC", "PDSS"),
        ("F40", "OTHER_F", "GAD7"),  # no listed prefix of F40 alone
        ("F99", "OTHER_F", "GAD7"),
        ("Z73.0", "OTHER", "GAD7"),
        ("F41.10X", "NOT_RECORDED", "GAD7"),  # longer than 6: REF200
        ("F4", "NOT_RECORDED", "GAD7"),
        ("DEPRESSION", "NOT_RECORDED", "GAD7"),
        (None, "NOT_RECORDED", "GAD7"),
    ],
)
def test_problem_descriptor(provdiag: str | None, category: str, adsm: str) -> None:
    r = one(run([P1], [ref(PROVDIAG=provdiag)]))
    assert (r["PD_CATEGORY"], r["ADSM_FOR_PD"]) == (category, adsm)


@pytest.mark.parametrize(
    ("endcode", "group"),
    [("50", "NOT_SEEN"), ("14", "SEEN_NOT_TREATED"), ("96", "TREATED"), ("99", None), (None, None)],
)
def test_end_group(endcode: str | None, group: str | None) -> None:
    assert one(run([P1], [ref(ENDCODE=endcode)]))["END_GROUP"] == group


def test_in_rp_flags() -> None:
    r = one(run([P1], [ref(REFRECDATE="2017-11-01", ENDDATE="2017-11-30", ENDCODE="50")]))
    assert (r["REFERRED_IN_RP"], r["ENDED_IN_RP"]) == ("Y", "Y")
    r = one(run([P1], [ref(REFRECDATE="2017-10-31")]))
    assert (r["REFERRED_IN_RP"], r["ENDED_IN_RP"], r["AGE_AT_REFERRAL"]) == ("N", "N", "32")


# ------------------------------------------------------------------------------------ 9.6 / 9.7
def scored(
    values: list[tuple[str, str]], measure_col: str, provdiag: str, enddate: str | None = "2017-11-20"
):
    """Referral with one attended scoring appointment per (PHQ-9, ADSM score) pair; GAD-7 left blank."""
    appts = [
        appt(f"A{i}", f"2017-09-{10 + i:02d}", "01" if i == 0 else "02", PHQ9_SCORE=phq, **{measure_col: m})
        for i, (phq, m) in enumerate(values)
    ]
    return one(run([P1], [ref(PROVDIAG=provdiag, ENDDATE=enddate, ENDCODE="46" if enddate else None)], appts))


def test_mobility_inventory_exact_decimal_reliable_change() -> None:
    r = scored([("12", "2.3"), ("11", "2.0"), ("9", "1.57")], "AGORASCOREALONE", "F40.0")
    assert (r["ADSM"], r["FIRST_ADSM"], r["LAST_ADSM"]) == ("MI_ALONE", "2.3", "1.57")
    assert r["CASENESS"] == "Y"  # 2.3 is at caseness (>= 2.3)
    assert r["RELIABLE_IMPROVEMENT"] == "Y"  # 2.30 - 1.57 = 0.73 exactly
    assert r["RECOVERY"] == "Y" and r["RELIABLE_RECOVERY"] == "Y" and r["NO_RELIABLE_CHANGE"] == "N"


def test_mobility_inventory_just_short_of_reliable() -> None:
    r = scored([("8", "2.3"), ("8", None), ("8", "1.58")], "AGORASCOREALONE", "F40.0")
    assert (r["RELIABLE_IMPROVEMENT"], r["NO_RELIABLE_CHANGE"], r["RECOVERY"]) == ("N", "Y", "Y")


def test_mixed_change_is_no_reliable_change() -> None:
    # PHQ-9 improves by 6, SPIN worsens by 10: neither improvement nor deterioration.
    r = scored([("20", "20"), ("17", None), ("14", "30")], "SOCPHOBIAINVSCORE", "F40.1")
    assert r["ADSM"] == "SPIN"
    assert (r["RELIABLE_IMPROVEMENT"], r["RELIABLE_DETERIORATION"], r["NO_RELIABLE_CHANGE"]) == (
        "N",
        "N",
        "Y",
    )
    assert (r["CASENESS"], r["RECOVERY"], r["RELIABLE_RECOVERY"]) == ("Y", "N", "N")


def test_out_of_range_scores_are_ignored() -> None:
    r = scored([("31", "20"), ("15", "90"), ("12", "10"), ("5", "10")], "PTSDSCORE", "F43.1")
    # PHQ-9 31 and IES-R 90 are out of range: first PHQ-9 is 15, first IES-R 20.
    assert (r["FIRST_PHQ9"], r["LAST_PHQ9"], r["ADSM"], r["FIRST_ADSM"], r["LAST_ADSM"]) == (
        "15",
        "5",
        "IESR",
        "20",
        "10",
    )


def test_last_scores_need_enddate_and_two_values() -> None:
    r = scored([("15", "20"), ("12", "10")], "PTSDSCORE", "F43.1", enddate=None)
    assert (r["FIRST_PHQ9"], r["LAST_PHQ9"], r["ADSM"], r["PAIRED_SCORES"]) == ("15", None, None, "N")
    r = scored([("15", "20")], "PTSDSCORE", "F43.1")
    assert (r["FIRST_PHQ9"], r["LAST_PHQ9"], r["FIRST_ADSM"], r["PAIRED_SCORES"]) == ("15", None, None, "N")


def test_adsm_blank_when_neither_measure_is_paired() -> None:
    r = scored([("15", "40"), ("12", None)], "OCDSCORE", "F42")
    assert (r["ADSM"], r["FIRST_ADSM"], r["LAST_ADSM"], r["PAIRED_SCORES"], r["OUTCOME_ELIGIBLE"]) == (
        None,
        None,
        None,
        "N",
        "N",
    )


def test_follow_up_and_unattended_never_score() -> None:
    appts = [
        appt("A1", "2017-09-10", "01", PHQ9_SCORE="20", GAD7SCORE="15"),
        appt("A2", "2017-09-11", "02", "3", PHQ9_SCORE="1", GAD7SCORE="1"),
        appt("A3", "2017-09-12", "02", PHQ9_SCORE="9", GAD7SCORE="7"),
        appt("A4", "2017-09-13", "06", PHQ9_SCORE="25", GAD7SCORE="20"),
    ]
    r = one(run([P1], [ref(ENDDATE="2017-09-13", ENDCODE="46")], appts))
    assert (r["FIRST_PHQ9"], r["LAST_PHQ9"], r["FIRST_GAD7"], r["LAST_GAD7"]) == ("20", "9", "15", "7")


def test_thresholds_match_the_spec_yaml() -> None:
    yaml = pytest.importorskip("yaml")
    from pathlib import Path

    # Next to the checkout (../shared) or where the workplace keeps it (a CI clone lives elsewhere).
    candidates = [Path(__file__).resolve().parents[4] / "shared" / "spec" / "iapt-v1.5.yaml"]
    candidates.append(Path("/work/shared/spec/iapt-v1.5.yaml"))
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        pytest.skip("spec YAML not available")
    spec = yaml.safe_load(path.read_text())["thresholds"]
    assert set(spec) == set(THRESHOLDS)
    for m, t in THRESHOLDS.items():
        assert spec[m]["column"] == t.column
        assert str(t.caseness) == spec[m]["caseness_at_or_above"]
        assert str(t.reliable_change) == spec[m]["reliable_change_at_least"]


# --------------------------------------------------------------------------------------- 9.8 waits
def pause(pid: str, start: str, end: str | None) -> dict:
    return {"SERVICEID": "R1", "PAUSEID": pid, "PAUSESTARTDATE": start, "PAUSEENDDATE": end}


@pytest.mark.parametrize(
    ("pauses", "paused"),
    [
        ([], 0),
        ([("1", "2017-09-10", "2017-09-12")], 3),
        ([("1", "2017-09-10", "2017-09-12"), ("2", "2017-09-11", "2017-09-14")], 5),  # overlap counted once
        ([("1", "2017-09-10", "2017-09-20"), ("2", "2017-09-12", "2017-09-13")], 11),  # nested
        ([("1", "2017-10-10", "2017-10-20")], 6),  # cut at the day before first treatment (10-10..10-15)
        ([("1", "2017-10-12", None)], 4),  # open: to the day before first treatment
        ([("1", "2017-10-16", "2017-10-20")], 0),  # from first treatment on: not counted
        ([("1", "2017-09-04", "2017-09-04"), ("2", "2017-09-05", "2017-09-05")], 2),  # adjacent
    ],
)
def test_paused_days(pauses: list[tuple[str, str, str | None]], paused: int) -> None:
    appts = [appt("A1", "2017-10-16")]
    r = one(run([P1], [ref()], appts, [pause(*p) for p in pauses]))
    assert r["WAIT_DAYS"] == "42" and r["WAIT_6WK"] == "Y" and r["WAIT_18WK"] == "Y"
    assert r["PAUSED_DAYS"] == str(paused) and r["WAIT_DAYS_ADJUSTED"] == str(42 - paused)


@pytest.mark.parametrize(
    ("first", "wait", "w6", "w18"), [("2017-10-17", "43", "N", "Y"), ("2018-01-08", "126", "N", "Y")]
)
def test_wait_boundaries(first: str, wait: str, w6: str, w18: str) -> None:
    period = first[:7]
    r = one(run([P1], [ref()], [appt("A1", first)], period=period))
    assert (r["WAIT_DAYS"], r["WAIT_6WK"], r["WAIT_18WK"]) == (wait, w6, w18)
    r = one(run([P1], [ref()], [appt("A1", "2018-01-09")], period="2018-01"))
    assert (r["WAIT_DAYS"], r["WAIT_18WK"]) == ("127", "N")


def test_pause_of_another_referral_does_not_count() -> None:
    persons = [P1]
    refs = [ref(), ref(SERVICEID="R2")]
    appts = [appt("A1", "2017-10-16"), appt("A2", "2017-10-16", SERVICEID="R2")]
    pauses = [{**pause("1", "2017-09-10", "2017-09-12"), "SERVICEID": "R2"}]
    d = run(persons, refs, appts, pauses)
    assert d["Referral"].get_column("PAUSED_DAYS").to_list() == ["0", "3"]
