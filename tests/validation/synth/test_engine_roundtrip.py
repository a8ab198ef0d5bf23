"""Generated files through the real readers and rule engine (skipped while the engine is not importable)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from validation.synth import (
    DEFAULT_COMMISSIONERS,
    SUPPORTED_RULES,
    generate_idb_with_manifest,
    write_csvzip,
    write_xlsx,
)

engine = pytest.importorskip("validation.engine", reason="rule engine not available yet")
readers = pytest.importorskip("validation.readers", reason="readers not available yet")
dataset = pytest.importorskip("validation.dataset", reason="data set definition not available yet")
from validation.model import OrganisationRegister, RegisterEntry, UploadContext  # noqa: E402

CASCADES = {"DIS110", "REF130", "APP130", "APQ120", "TPQ120", "WTP130", "LTC110", "MUS110", "LTA120", "EA120"}
KW = dict(org="TSTP1", period="2017-10", profile="P15LTC", with_ea=True)


def _ctx() -> UploadContext:
    reg = OrganisationRegister(
        {
            "TSTP1": RegisterEntry(
                "TSTP1", "Synthetic provider", "PROVIDER", ltc_mus_pilot=True, ea_pilot=True
            ),
            **{c: RegisterEntry(c, c, "COMMISSIONER") for c in DEFAULT_COMMISSIONERS},
        }
    )
    return UploadContext(
        org_code="TSTP1",
        period="2017-10",
        window_type="Primary",
        received_at=datetime(2017, 11, 6, 12, 0, tzinfo=UTC),
        window_opens_on=date(2017, 11, 1),
        register=reg,
        file_name="synthetic",
    )


def _run(tables, tmp_path, fmt="csvzip"):
    path = tmp_path / ("idb.zip" if fmt == "csvzip" else "idb.xlsx")
    (write_csvzip if fmt == "csvzip" else write_xlsx)(tables, path)
    read = readers.read_file(path, file_name=path.name, dataset=dataset.DATASET)
    return engine.run_engine(read, _ctx())


@pytest.mark.parametrize("fmt", ["csvzip", "xlsx"])
def test_clean_file_has_no_findings(tmp_path, fmt):
    tables, manifest = generate_idb_with_manifest(**KW, persons=1500, seed=5)
    assert manifest == []
    res = _run(tables, tmp_path, fmt)
    assert res.findings.height == 0, res.findings.head(20)
    assert res.outcome.value == "Accepted"


def _found(res) -> set[tuple]:
    return {(d["rule_id"], d["table"], d["row_number"], d["column"]) for d in res.findings.to_dicts()}


@pytest.mark.parametrize("rule", SUPPORTED_RULES)
def test_planted_rule_is_found_and_nothing_unexpected(tmp_path, rule):
    if rule not in engine.IMPLEMENTED:
        pytest.skip(f"engine does not evaluate {rule} yet")
    tables, manifest = generate_idb_with_manifest(**KW, persons=400, seed=21, inject={rule: 2})
    got = _found(_run(tables, tmp_path))
    missing = [f for f in manifest if tuple(f) not in got and f.rule_id in engine.IMPLEMENTED]
    assert not missing
    allowed = CASCADES | ({"REF170"} if rule == "PER120" else set())
    extra = {g[0] for g in got} - {f.rule_id for f in manifest} - allowed
    assert not extra


def test_sprinkled_errors_are_found(tmp_path):
    tables, manifest = generate_idb_with_manifest(**KW, persons=3000, seed=9, error_rate=0.01)
    got = _found(_run(tables, tmp_path))
    missing = [f for f in manifest if tuple(f) not in got and f.rule_id in engine.IMPLEMENTED]
    assert not missing, missing[:10]
