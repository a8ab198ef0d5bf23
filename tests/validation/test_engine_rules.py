"""One case per implemented Person/Referral rule: a row that breaks it (row 2) next to a valid row (row 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.validation.builders import APPOINTMENT, PERSON, REFERRAL, findings, run, valid_file
from validation.dataset import DATASET

Tables = dict[str, list[dict[str, str]]]


def two_of_each() -> Tables:
    """Valid file with two persons, two referrals and one appointment per referral."""
    t = valid_file()
    t["Person"].append(dict(PERSON, LPTID="P0002", NHSNO="4010232137", DOB="1975-03-01"))
    t["Referral"].append(dict(REFERRAL, SERVICEID="R0002", LPTID="P0002"))
    t["Appointment"].append(dict(APPOINTMENT, APPTID="A0002", SERVICEID="R0002"))
    return t


def setp(**kw: str) -> Callable[[Tables], None]:
    def f(t: Tables) -> None:
        t["Person"][1].update(kw)

    return f


def setr(**kw: str) -> Callable[[Tables], None]:
    def f(t: Tables) -> None:
        t["Referral"][1].update(kw)

    return f


def both(*fns: Callable[[Tables], None]) -> Callable[[Tables], None]:
    def f(t: Tables) -> None:
        for fn in fns:
            fn(t)

    return f


def seta(**kw: str) -> Callable[[Tables], None]:
    def f(t: Tables) -> None:
        t["Appointment"][1].update(kw)

    return f


# (rule, table, mutation, column, rows expected)
CASES: list[tuple[str, str, Callable[[Tables], None], str | None, list[int]]] = [
    ("PER010", "Person", setp(LPTID="  "), "LPTID", [2]),
    ("PER020", "Person", setp(NHSNO="", NHSNOSTATUS="03"), "NHSNO", [2]),
    ("PER030", "Person", setp(GENDER="12"), "GENDER", [2]),
    ("PER050", "Person", setp(DOB="1980-02-30"), "DOB", [2]),
    ("PER100", "Person", both(setp(LPTID="P 0002"), setr(LPTID="P 0002")), "LPTID", [2]),
    ("PER110", "Person", both(setp(LPTID="P0001", NHSNO="9434765919")), "LPTID", [1, 2]),
    ("PER120", "Person", setp(DOB="2017-12-01"), "DOB", [2]),
    ("PER130", "Person", setp(DOB="1896-11-01"), "DOB", [2]),
    ("PER140", "Person", setp(NHSNOSTATUS="07"), "NHSNOSTATUS", [2]),
    ("PER150", "Person", setp(POSTCODE="LS14AP"), "POSTCODE", [2]),
    ("PER160", "Person", setp(GMPC="B8600"), "GMPC", [2]),
    ("PER170", "Person", setp(ETHNICITY="Q"), "ETHNICITY", [2]),
    ("PER180", "Person", setr(LPTID="P0001"), "LPTID", [2]),
    ("FILE022", "Person", setp(NHSNO="9434765918"), "NHSNO", [2]),
    ("FILE023", "Person", setp(NHSNO="9434765919"), "NHSNO", [1, 2]),
    ("REF010", "Referral", setr(ORGCODECOMM=""), "ORGCODECOMM", [2]),
    ("REF020", "Referral", setr(SOURCEREFERRAL="\u00a0"), "SOURCEREFERRAL", [2]),
    ("REF030", "Referral", setr(SERREQACCIND="YY"), "SERREQACCIND", [2]),
    ("REF050", "Referral", setr(OPTINDATE="2017-13-01"), "OPTINDATE", [2]),
    ("REF100", "Referral", both(setr(SERVICEID="R 0002"), seta(SERVICEID="R 0002")), "SERVICEID", [2]),
    ("REF110", "Referral", setr(SERVICEID="R0001"), "SERVICEID", [1, 2]),
    ("REF120", "Referral", setr(LPTID="P0099"), "LPTID", [2]),
    ("REF130", "Referral", setp(GMPC="B8600"), "LPTID", [2]),
    ("REF140", "Referral", setr(ORGCODECOMM="02"), "ORGCODECOMM", [2]),
    ("REF150", "Referral", setr(ORGCODECOMM="99x"), "ORGCODECOMM", [2]),
    ("REF160", "Referral", setr(ENDDATE="2017-12-01", ENDCODE="46"), "ENDDATE", [2]),
    ("REF170", "Referral", setr(REFRECDATE="1975-02-28", ONSETDATE=""), "REFRECDATE", [2]),
    ("REF180", "Referral", setr(CARECLUSTER="99"), "CARECLUSTER", [2]),
    ("REF190", "Referral", setr(OPTINDATE="2017-09-01"), "OPTINDATE", [2]),
    ("REF200", "Referral", setr(PROVDIAG="XYZ"), "PROVDIAG", [2]),
    ("REF210", "Referral", setr(ONSETDATE="2017-9"), "ONSETDATE", [2]),
    ("REF220", "Referral", setr(ONSETDATE="2017-11"), "ONSETDATE", [2]),
    ("REF230", "Referral", setr(ORGCODEPROVIDSTEPTO="AB"), "ORGCODEPROVIDSTEPTO", [2]),
    ("REF240", "Referral", setr(ENDDATE="2017-10-01", ENDCODE="46"), "ENDDATE", [2]),
    (
        "REF250",
        "Referral",
        both(setr(ENDDATE="2017-10-20", ENDCODE="46"), seta(APPOINTMENT="2017-10-10")),
        "ENDDATE",
        [2],
    ),
    ("REF260", "Referral", setr(ENDDATE="2017-11-20"), "ENDDATE", [2]),
    ("REF270", "Referral", setr(ENDDATE="2017-11-20", ENDCODE="50"), "ENDCODE", [2]),
    ("REF280", "Referral", setr(ENDDATE="2017-11-20", ENDCODE="46", PROVDIAG=""), "PROVDIAG", [2]),
]


def test_base_file_has_no_findings() -> None:
    result = run(two_of_each())
    assert result.findings.height == 0, result.findings
    assert result.outcome.value == "Accepted"


@pytest.mark.parametrize(("rule_id", "table", "mutate", "column", "rows"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires(
    rule_id: str, table: str, mutate: Callable[[Tables], None], column: str | None, rows: list[int]
) -> None:
    base = run(two_of_each())
    assert not findings(base, rule_id)
    t = two_of_each()
    mutate(t)
    result = run(t)
    got = findings(result, rule_id)
    spec = DATASET.rules[rule_id]
    assert sorted(f["row_number"] for f in got) == rows, result.findings
    for f in got:
        assert f["severity"] == spec.severity.value
        assert f["table"] == table
        assert f["column"] == column
        assert f["message"] == spec.message
        assert f["stage"] == "RECORDS"


def test_all_person_referral_rules_have_a_case() -> None:
    covered = {c[0] for c in CASES}
    expected = {r for r in DATASET.rules if r.startswith(("PER", "REF"))} | {"FILE022", "FILE023"}
    assert expected <= covered


def _row(result: Any, rule_id: str) -> dict[str, Any]:
    got = findings(result, rule_id)
    assert len(got) == 1, result.findings
    return got[0]


def test_value_and_record_key() -> None:
    t = two_of_each()
    t["Referral"][1]["CARECLUSTER"] = "  99\u2003"
    r = _row(run(t), "REF180")
    assert r["value"] == "99"
    assert r["record_key"] == "SERVICEID=R0002;LPTID=P0002"


def test_value_cut_to_200_characters() -> None:
    t = two_of_each()
    t["Person"][1]["POSTCODE"] = "X" * 250
    r = _row(run(t), "PER150")
    assert r["value"] == "X" * 200


def test_file022_worked_examples() -> None:
    for nhs, ok in [
        ("9434765919", True),
        ("4010232137", True),
        ("9434765918", False),
        ("1234567890", False),
        ("4000000004", False),
        ("1111111111", False),
        ("943476591", False),
        ("94347659190", False),
        ("943476591A", False),
    ]:
        t = valid_file()
        t["Person"][0]["NHSNO"] = nhs
        res = run(t)
        assert bool(findings(res, "FILE022")) is not ok, nhs
        if not ok:
            assert res.outcome.value == "Rejected"
            assert res.accepted == {}
            assert res.counts is not None and res.counts["Person"].accepted == 0


def test_per130_age_boundary() -> None:
    t = valid_file()
    t["Person"][0]["DOB"] = "1897-11-01"  # exactly 120 on 2017-11-01
    assert not findings(run(t), "PER130")
    t["Person"][0]["DOB"] = "1897-10-31"  # 120 too, turns 121 later
    assert not findings(run(t), "PER130")
    t["Person"][0]["DOB"] = "1896-11-01"
    assert findings(run(t), "PER130")


def test_upper_casing_of_codes_and_org_codes() -> None:
    t = valid_file()
    t["Person"][0].update(GENDER="x", ETHNICITY="a", POSTCODE="ls1 4ap", GMPC="b86001")
    t["Referral"][0].update(ORGCODECOMM="02v", SERREQACCIND="y", PROVDIAG="f32.1")
    res = run(t)
    assert res.findings.height == 0, res.findings
    p = res.accepted["Person"].to_dicts()[0]
    assert (p["GENDER"], p["ETHNICITY"], p["POSTCODE"], p["GMPC"]) == ("X", "A", "LS1 4AP", "B86001")
    assert res.accepted["Referral"].to_dicts()[0]["ORGCODECOMM"] == "02V"


def test_identifiers_keep_case() -> None:
    t = valid_file()
    t["Referral"][0]["LPTID"] = "p0001"
    res = run(t)
    assert findings(res, "REF120")
    assert findings(res, "PER180")
