"""Planting rule violations: every supported rule plants findings, deterministically, where the manifest says."""

from __future__ import annotations

from collections import Counter
from datetime import date

import polars as pl
import pytest

from validation.synth import SPRINKLE_RULES, SUPPORTED_RULES, generate_idb_with_manifest
from validation.synth._specdata import CODELISTS, RULES, TABLES
from validation.synth.inject import InjectionError
from validation.synth.nhs import is_valid_nhs_number

KW = dict(org="TSTP1", period="2017-10", persons=400, profile="P15LTC", with_ea=True, seed=21)
FILE_LEVEL_ONCE = {"FILE020", "FILE021", "HDR010", "HDR020", "HDR050", "HDR060", "HDR070", "HDR080"}


def test_supported_rules_cover_the_brief():
    need = {"FILE020", "FILE021", "FILE022", "FILE023", "APP010", "APP110", "APP120", "APP170"}
    need |= {r for r in RULES if r.startswith(("PER", "REF"))}
    assert need <= set(SUPPORTED_RULES)
    for prefix in ("DIS", "APP", "APQ", "TPQ", "WTP", "LTC", "MUS", "LTA", "EA"):
        ids = {r for r in RULES if r.startswith(prefix) and r[len(prefix) :].isdigit()}
        generic = {r for r in ids if r[len(prefix) :] in ("010", "020", "030", "040", "050")}
        assert generic <= set(SUPPORTED_RULES), prefix
    assert set(SPRINKLE_RULES) <= set(SUPPORTED_RULES)


@pytest.mark.parametrize("rule", SUPPORTED_RULES)
def test_each_rule_is_planted(rule):
    tables, manifest = generate_idb_with_manifest(**KW, inject={rule: 2})
    hits = [f for f in manifest if f.rule_id == rule]
    expected = 1 if rule in FILE_LEVEL_ONCE else 2
    assert len(hits) >= expected, manifest
    for f in manifest:
        if f.row_number is not None:
            assert f.table in tables and 1 <= f.row_number <= tables[f.table].height, f
            assert f.column is None or f.column in tables[f.table].columns, f


def _value(tables, finding):
    return tables[finding.table][finding.column][finding.row_number - 1]


def test_planted_values_break_the_rule():
    inject = {
        "FILE022": 3,
        "PER170": 7,
        "APP170": 2,
        "REF160": 3,
        "APP110": 2,
        "REF120": 2,
        "APP250": 2,
        "WTP160": 1,
    }
    tables, manifest = generate_idb_with_manifest(**KW, inject=inject)
    by = Counter(f.rule_id for f in manifest)
    assert by["FILE022"] == 3 and by["PER170"] == 7 and by["APP110"] == 4
    for f in manifest:
        v = _value(tables, f)
        if f.rule_id == "FILE022":
            assert not is_valid_nhs_number(v)
        elif f.rule_id in ("PER170", "APP170"):
            col = next(c for c in TABLES[f.table]["columns"] if c[0] == f.column)
            assert v not in CODELISTS[col[6]]
        elif f.rule_id == "REF160":
            assert date.fromisoformat(v) > date(2017, 10, 31)
        elif f.rule_id == "APP110":
            assert tables["Appointment"]["APPTID"].to_list().count(v) == 2
        elif f.rule_id == "REF120":
            assert v not in set(tables["Person"]["LPTID"])
        elif f.rule_id == "APP250":
            assert v is None
    # each planted row has only the planted problem: no family is hit twice
    rows = [(f.table, f.row_number) for f in manifest if f.rule_id != "APP110"]
    assert len(rows) == len(set(rows))


def test_cascade_lists_parent_and_child():
    _tables, manifest = generate_idb_with_manifest(**KW, inject={"APP130": 2, "EA120": 1})
    by = Counter(f.rule_id for f in manifest)
    assert by["REF140"] == 2 and by["APP130"] >= 2
    assert by["APP050"] == 1 and by["EA120"] >= 1


def test_column_can_be_chosen_and_bad_requests_fail():
    _, manifest = generate_idb_with_manifest(**KW, inject={"PER020@DOB": 3})
    assert [(f.rule_id, f.column) for f in manifest] == [("PER020", "DOB")] * 3
    with pytest.raises(InjectionError):
        generate_idb_with_manifest(**KW, inject={"FILE001": 1})
    with pytest.raises(InjectionError):
        generate_idb_with_manifest(**KW, inject={"PER020@LPTID": 1})
    with pytest.raises(InjectionError):
        generate_idb_with_manifest(**{**KW, "profile": "P15STD"}, inject={"LTC120": 1})


def test_file021_keeps_everything_else_valid():
    tables, manifest = generate_idb_with_manifest(**KW, inject={"FILE021": 1})
    assert manifest == [("FILE021", "Referral", None, "REFRECDATE")]
    ref = tables["Referral"]
    assert ref.filter(pl.col("ENDDATE").is_null() | (pl.col("ENDDATE") >= "2017-10-01")).height == 0
    app = tables["Appointment"]
    in_rp = app.filter(pl.col("APPOINTMENT") >= "2017-10-01")
    assert set(in_rp["APPTYPE"]) == {"06"} and in_rp["SERVICEID"].n_unique() == ref.height


def test_error_rate_is_deterministic_and_spread():
    kw = {**KW, "persons": 1500}
    t1, m1 = generate_idb_with_manifest(**kw, error_rate=0.01)
    t2, m2 = generate_idb_with_manifest(**kw, error_rate=0.01)
    assert m1 == m2
    assert all(t1[k].equals(t2[k], null_equal=True) for k in t1)
    rows = sum(df.height for n, df in t1.items() if n != "Header")
    assert 0.5 * 0.01 * rows < len(m1) < 2.5 * 0.01 * rows
    assert len({f.rule_id for f in m1}) > 40
