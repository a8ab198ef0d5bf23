"""Cross-check of the vectorised derivations against a plain-Python reading of spec 9 on synthetic data."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation

import polars as pl
import pytest

from reporting.derived import DERIVED_COLUMNS, THRESHOLDS, commissioner_extract, derive, pseudonym
from reporting.derived.constants import PD_ADSM
from validation.dataset import DATASET
from validation.synth import generate_idb

PERIOD, PROVIDER, KEY = "2017-11", "TSTP1", b"reference-test-key"
RP_START, RP_END = dt.date(2017, 11, 1), dt.date(2017, 11, 30)


@pytest.fixture(scope="module")
def data() -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    raw = generate_idb(org=PROVIDER, period=PERIOD, persons=1500, seed=7)
    tables = {
        k: v.with_row_index("ROW_NUMBER", offset=1).with_columns(pl.col("ROW_NUMBER").cast(pl.Int64))
        for k, v in raw.items()
    }
    return tables, derive(tables, period=PERIOD, provider=PROVIDER, key=KEY)


def d(s: str | None) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


def usable(col: str, v: str | None) -> Decimal | None:
    if v is None:
        return None
    try:
        x = Decimal(v)
    except InvalidOperation:
        return None
    lo, hi = (Decimal(b) for b in DATASET.tables["Appointment"].column(col).range)  # type: ignore[union-attr]
    return x if lo <= x <= hi else None


def fmt(x: Decimal | int | None) -> str | None:
    if x is None:
        return None
    s = format(Decimal(x).normalize(), "f")
    return s


def reference_referral(ref: dict, appts: list[dict], pauses: list[dict]) -> dict[str, str | None]:
    rec, end = d(ref["REFRECDATE"]), d(ref["ENDDATE"])
    order = sorted(
        appts,
        key=lambda a: (
            a["APPOINTMENT"],
            a["APPOINTMENTTIME"] is not None,
            a["APPOINTMENTTIME"] or "",
            a["APPTID"],
        ),
    )
    counted = [
        a for a in order if a["ATTENDANCE"] in ("5", "6") and rec <= d(a["APPOINTMENT"]) <= (end or RP_END)
    ]
    treat = [a for a in counted if a["APPTYPE"] in ("02", "03", "05")]
    scoring = [a for a in counted if a["APPTYPE"] in ("01", "02", "03", "04", "05")]
    out: dict[str, str | None] = {
        "FIRST_TREATMENT_DATE": treat[0]["APPOINTMENT"] if treat else None,
        "SECOND_TREATMENT_DATE": treat[1]["APPOINTMENT"] if len(treat) > 1 else None,
        "LAST_TREATMENT_DATE": treat[-1]["APPOINTMENT"] if treat else None,
        "COUNT_TREATMENT_APPTS": str(len(treat)),
        "COUNT_ATTENDED_APPTS": str(sum(a["ATTENDANCE"] in ("5", "6") for a in appts)),
        "COUNT_DNA_APPTS": str(sum(a["ATTENDANCE"] == "3" for a in appts)),
    }
    firsts, lasts = {}, {}
    for m, t in THRESHOLDS.items():
        vals = [v for v in (usable(t.column, a[t.column]) for a in scoring) if v is not None]
        firsts[m] = vals[0] if vals else None
        lasts[m] = vals[-1] if end and len(vals) >= 2 else None
    adsm_pd = ref["ADSM_FOR_PD"]
    adsm = None
    if adsm_pd != "GAD7" and firsts[adsm_pd] is not None and lasts[adsm_pd] is not None:
        adsm = adsm_pd
    elif firsts["GAD7"] is not None and lasts["GAD7"] is not None:
        adsm = "GAD7"
    fa, la = (firsts[adsm], lasts[adsm]) if adsm else (None, None)
    paired = firsts["PHQ9"] is not None and lasts["PHQ9"] is not None and adsm is not None
    out |= {
        "FIRST_PHQ9": fmt(firsts["PHQ9"]),
        "LAST_PHQ9": fmt(lasts["PHQ9"]),
        "FIRST_GAD7": fmt(firsts["GAD7"]),
        "LAST_GAD7": fmt(lasts["GAD7"]),
        "ADSM": adsm,
        "FIRST_ADSM": fmt(fa),
        "LAST_ADSM": fmt(la),
        "PAIRED_SCORES": "Y" if paired else "N",
    }
    eligible = end is not None and len(treat) >= 2 and paired
    out["OUTCOME_ELIGIBLE"] = "Y" if eligible else "N"
    flags = dict.fromkeys(
        (
            "CASENESS",
            "RECOVERY",
            "RELIABLE_IMPROVEMENT",
            "RELIABLE_DETERIORATION",
            "NO_RELIABLE_CHANGE",
            "RELIABLE_RECOVERY",
        )
    )
    if eligible:
        td, ta = THRESHOLDS["PHQ9"], THRESHOLDS[adsm]  # type: ignore[index]
        dd, da = firsts["PHQ9"] - lasts["PHQ9"], fa - la  # type: ignore[operator]
        case = firsts["PHQ9"] >= td.caseness or fa >= ta.caseness  # type: ignore[operator]
        better = dd >= td.reliable_change or da >= ta.reliable_change
        worse = -dd >= td.reliable_change or -da >= ta.reliable_change
        ri, rd = better and not worse, worse and not better
        rec_ = lasts["PHQ9"] < td.caseness and la < ta.caseness  # type: ignore[operator]
        yn = {True: "Y", False: "N"}
        flags |= {
            "CASENESS": yn[case],
            "RELIABLE_IMPROVEMENT": yn[ri],
            "RELIABLE_DETERIORATION": yn[rd],
            "NO_RELIABLE_CHANGE": yn[not (ri or rd)],
        }
        if case:
            flags |= {"RECOVERY": yn[rec_], "RELIABLE_RECOVERY": yn[rec_ and ri]}
    out |= flags
    ft = d(out["FIRST_TREATMENT_DATE"])
    if ft:
        days: set[dt.date] = set()
        for p in pauses:
            s, e = d(p["PAUSESTARTDATE"]), d(p["PAUSEENDDATE"]) or ft - dt.timedelta(days=1)
            while s <= e:
                if rec <= s < ft:
                    days.add(s)
                s += dt.timedelta(days=1)
        wait = (ft - rec).days
        out |= {
            "WAIT_DAYS": str(wait),
            "PAUSED_DAYS": str(len(days)),
            "WAIT_DAYS_ADJUSTED": str(wait - len(days)),
        }
    else:
        out |= {"WAIT_DAYS": None, "PAUSED_DAYS": None, "WAIT_DAYS_ADJUSTED": None}
    return out


def test_referrals_match_reference(data) -> None:
    tables, derived = data
    appts, pauses = defaultdict(list), defaultdict(list)
    for a in tables["Appointment"].iter_rows(named=True):
        appts[a["SERVICEID"]].append(a)
    for p in tables["WaitingTimePause"].iter_rows(named=True):
        pauses[p["SERVICEID"]].append(p)
    mismatches = []
    eligible = 0
    for ref in derived["Referral"].iter_rows(named=True):
        assert ref["ADSM_FOR_PD"] in set(PD_ADSM.values()) | {"GAD7"}
        want = reference_referral(ref, appts[ref["SERVICEID"]], pauses[ref["SERVICEID"]])
        eligible += want["OUTCOME_ELIGIBLE"] == "Y"
        for k, v in want.items():
            if ref[k] != v:
                mismatches.append((ref["SERVICEID"], k, ref[k], v))
    assert mismatches == []
    assert eligible > 50  # the data exercises the outcome flags


def test_ids_and_layout_on_synthetic_data(data) -> None:
    tables, derived = data
    for name, frame in tables.items():
        assert derived[name].height == frame.height
        assert derived[name].columns == [*frame.columns, *DERIVED_COLUMNS.get(name, ())]
    p = derived["Person"].row(0, named=True)
    assert p["PERSON_ID"] == pseudonym(f"N|{p['NHSNO']}", KEY) if p["NHSNO"] else True
    assert derived["Person"].get_column("PERSON_ID").null_count() == 0
    assert derived["Referral"].get_column("PATHWAY_ID").null_count() == 0


def test_commissioner_extracts_partition_the_referrals(data) -> None:
    _, derived = data
    codes = sorted(derived["Referral"].get_column("ORGCODECOMM").unique().to_list())
    total_refs = total_appts = 0
    for code in codes:
        c = commissioner_extract(derived, code=code, provider=PROVIDER, key=KEY)
        assert "Header" not in c
        for name, frame in c.items():
            assert frame.columns[0] == "ORGCODEPROVIDER"
            assert not {"NHSNO", "DOB", "POSTCODE", "LPTID", "SERVICEID", "APPTID", "ROW_NUMBER"} & set(
                frame.columns
            ), name
            assert frame.get_column("ORGCODEPROVIDER").unique().to_list() in ([PROVIDER], [])
        assert set(c["Referral"].get_column("ORGCODECOMM").unique().to_list()) == {code}
        assert set(c["Referral"].get_column("PERSON_ID")) <= set(c["Person"].get_column("PERSON_ID"))
        assert set(c["Appointment"].get_column("PATHWAY_ID")) <= set(c["Referral"].get_column("PATHWAY_ID"))
        total_refs += c["Referral"].height
        total_appts += c["Appointment"].height
    assert total_refs == derived["Referral"].height
    assert total_appts == derived["Appointment"].height
