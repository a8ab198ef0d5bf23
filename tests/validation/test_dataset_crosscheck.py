"""Cross-check the Python data-set definition against the spec's YAML companion."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from validation.dataset import DATASET

YAML_PATH = Path("/work/shared/spec/iapt-v1.5.yaml")

pytestmark = pytest.mark.skipif(not YAML_PATH.exists(), reason=f"spec YAML not found at {YAML_PATH}")


@pytest.fixture(scope="module")
def spec() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(YAML_PATH.read_text(encoding="utf-8"))


def test_counts() -> None:
    assert len(DATASET.tables) == 12
    assert sum(len(t.columns) for t in DATASET.tables.values()) == 110
    assert len(DATASET.codelists) == 30
    assert sum(len(c.codes) for c in DATASET.codelists.values()) == 290
    assert len(DATASET.rules) == 163
    assert len(DATASET.formats) == 8
    assert len(DATASET.profiles) == 2


def test_table_order_and_structure(spec: dict) -> None:
    assert list(DATASET.tables) == list(spec["tables"])
    for name, y in spec["tables"].items():
        t = DATASET.tables[name]
        assert t.prefix == y["rule_prefix"], name
        assert t.parent == y["parent"], name
        assert t.level == y["level"], name
        assert list(t.report_key) == list(y["report_key"] or []), name
        key = y["primary_key"] or y["natural_key"] or []
        assert list(t.row_key) == list(key), name
        assert list(t.column_names) == list(y["columns"]), name
        fks = [c for c, cy in y["columns"].items() if cy.get("fk")]
        assert ([t.fk] if t.fk else []) == fks, name


def _norm_range(r):
    return None if r is None else tuple(Decimal(str(x)) for x in r)


def test_columns(spec: dict) -> None:
    for tname, y in spec["tables"].items():
        t = DATASET.tables[tname]
        for cname, cy in y["columns"].items():
            c = t.column(cname)
            where = f"{tname}.{cname}"
            assert c.type.value == cy["type"], where
            assert c.obligation.value == cy["mandatory"], where
            assert c.length == cy.get("length", cy.get("digits")), where
            assert c.precision == cy.get("precision"), where
            assert c.scale == cy.get("scale"), where
            assert c.codelist == cy["codelist"], where
            assert c.format == cy["format"], where
            assert _norm_range(c.range) == _norm_range(cy["range"]), where
            assert c.key == cy["key"], where
            if cy.get("fk"):
                assert cy["fk"] == f"{t.parent}.{cname}" or cy["fk"].startswith(f"{t.parent}."), where


def test_codelists(spec: dict) -> None:
    assert list(DATASET.codelists) == list(spec["codelists"])
    for name, y in spec["codelists"].items():
        cl = DATASET.codelists[name]
        assert {str(k): v for k, v in y["codes"].items()} == cl.codes, name
        assert list(cl.codes) == [str(k) for k in y["codes"]], name
        assert list(cl.defaults) == [str(x) for x in y["defaults"]], name
        assert list(cl.others) == [str(x) for x in y["others"]], name
        yattrs = {str(k): {a: str(v) for a, v in d.items()} for k, d in (y.get("attributes") or {}).items()}
        assert cl.attributes == yattrs, name
    assert DATASET.codelists["EndCode"].attributes["46"]["group"] == "TREATED"


def test_formats_and_profiles(spec: dict) -> None:
    assert DATASET.formats == {k: v["pattern"] for k, v in spec["formats"].items()}
    for pid, y in spec["profiles"].items():
        p = DATASET.profiles[pid]
        assert p.idb_version == y["idb_version"]
        assert p.name == y["name"]
        assert list(p.required_tables) == y["required_tables"]
        assert list(p.optional_tables) == y["optional_tables"]


def test_rules(spec: dict) -> None:
    yrules = spec["rules"]
    assert [r["id"] for r in yrules] == list(DATASET.rules)
    for y in yrules:
        r = DATASET.rules[y["id"]]
        assert r.severity.value == y["severity"], r.id
        assert r.stage_label == y["stage"], r.id
        assert r.table == y["table"], r.id
        assert list(r.columns) == list(y["columns"]), r.id
        assert r.each == (y["report"] == "each"), r.id
        assert r.message == y["message"], r.id
        assert " ".join(r.condition.split()) == " ".join(y["condition"].split()), r.id


def test_rule_severity_totals() -> None:
    by_sev: dict[str, int] = {}
    for r in DATASET.rules.values():
        by_sev[r.severity.value] = by_sev.get(r.severity.value, 0) + 1
    assert by_sev == {"FILE_REJECT": 25, "GROUP_REJECT": 28, "RECORD_REJECT": 65, "WARNING": 45}
