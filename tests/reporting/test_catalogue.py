"""Rule catalogue help: every rule has an example and a fix; generated examples fit the rule."""

from __future__ import annotations

import re

import pytest

from reporting.catalogue import (
    RuleKind,
    rule_entry,
    rule_help,
    rule_kind,
    rule_rows,
    type_label,
)
from reporting.rule_help import RULE_HELP
from validation.dataset import DATASET


def test_there_are_163_rules() -> None:
    assert len(DATASET.rules) == 163


@pytest.mark.parametrize("rule_id", list(DATASET.rules))
def test_every_rule_has_an_example_and_a_fix(rule_id: str) -> None:
    help_ = rule_help(rule_id)
    assert help_.example.strip(), rule_id
    assert help_.fix.strip(), rule_id


def test_specific_rules_have_hand_written_help_and_nothing_else_is_listed() -> None:
    specific = {r.id for r in DATASET.rules.values() if rule_kind(r) is RuleKind.SPECIFIC}
    assert specific <= set(RULE_HELP), sorted(specific - set(RULE_HELP))
    assert set(RULE_HELP) <= set(DATASET.rules)
    assert all(rid.startswith(("FILE", "HDR")) or int(rid[-3:]) >= 100 for rid in RULE_HELP)
    for example, fix in RULE_HELP.values():
        assert example.strip() and fix.strip()


def test_every_file_and_header_rule_is_hand_written() -> None:
    assert {r for r in DATASET.rules if r.startswith(("FILE", "HDR"))} <= set(RULE_HELP)


def test_kinds_agree_with_the_catalogue_wording() -> None:
    for rule in DATASET.rules.values():
        kind = rule_kind(rule)
        cond = rule.condition
        if kind is RuleKind.CODELIST:
            assert "not a code in" in cond, rule.id
        elif kind is RuleKind.RANGE:
            assert "outside" in cond, rule.id
        elif kind is RuleKind.ORPHAN:
            assert cond.startswith("No ") and "row has this" in cond, rule.id
        elif kind is RuleKind.CASCADE:
            assert "every one of them has" in cond, rule.id
        elif kind is RuleKind.DUPLICATE:
            assert "more than one" in cond.lower() or "earlier row" in cond, rule.id
        elif kind is RuleKind.MANDATORY:
            assert cond == "Mandatory column is blank.", rule.id
        elif kind is RuleKind.REQUIRED:
            assert cond == "Required column is blank.", rule.id
        elif kind is RuleKind.LENGTH:
            assert "longer than the column's maximum length" in cond, rule.id


@pytest.mark.parametrize(
    "rule_id", [r for r in DATASET.rules if r.endswith("030") and not r.startswith("HDR")]
)
def test_length_example_is_one_character_too_long(rule_id: str) -> None:
    rule = DATASET.rules[rule_id]
    col = DATASET.tables[rule.table].column(rule.columns[0])  # type: ignore[index]
    value = re.search(r"'([^']*)'", rule_help(rule_id).example).group(1)  # type: ignore[union-attr]
    assert len(value) == col.length + 1  # type: ignore[operator]
    assert f"{type_label(col)}" in rule_help(rule_id).example


def test_date_example_is_february_30() -> None:
    assert "'2017-02-30'" in rule_help("REF050").example
    assert "'2017-02-30'" in rule_help("PER050").example


def test_codelist_example_is_invalid_and_valid_codes_are_listed() -> None:
    help_ = rule_help("APP180")
    value = re.search(r"'([^']*)'", help_.example).group(1)  # type: ignore[union-attr]
    assert value not in DATASET.codelists["StepIntensity"].codes
    lists = {cl.name: cl for cl in help_.code_lists}
    assert {"StepIntensity", "CareProfRole", "TherapyType", "YesNo"} <= set(lists)
    codes = {code: (meaning, kind) for code, meaning, kind in lists["StepIntensity"].codes}
    assert codes["01"] == ("Low intensity (step 2)", "valid")
    assert codes["99"][1] == "default" and codes["03"][1] == "other"
    assert lists["TherapyType"].columns == ("THERTYPE1", "THERTYPE2", "THERTYPE3", "THERTYPE4")


def test_range_rule_shows_the_ranges() -> None:
    help_ = rule_help("APP240")
    assert ("PHQ9_SCORE", "0", "27") in help_.ranges
    assert ("AGORASCOREACC", "1.00", "5.00") in help_.ranges
    assert "'28'" in help_.example


def test_orphan_and_cascade_explain_the_parent() -> None:
    assert "Referral table" in rule_help("APP120").example
    assert "Appointment row" in rule_help("LTA120").fix or "Appointment" in rule_help("LTA120").example
    assert rule_entry("REF110").kind is RuleKind.DUPLICATE


def test_filters() -> None:
    assert len(rule_rows()) == 163
    ref = rule_rows(table="Referral")
    assert ref and all(r.table == "Referral" for r in ref)
    file_level = rule_rows(table="-")
    assert {r.id for r in file_level} == {r.id for r in DATASET.rules.values() if not r.table}
    warnings = rule_rows(severity="WARNING")
    assert len(warnings) == 45
    assert len(rule_rows(severity="FILE_REJECT")) == 25
    assert len(rule_rows(severity="GROUP_REJECT")) == 28
    assert len(rule_rows(severity="RECORD_REJECT")) == 65
    assert all(
        r.table == "Person" and r.severity == "WARNING" for r in rule_rows(table="Person", severity="WARNING")
    )
