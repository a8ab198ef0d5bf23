"""The validate_idb command: the interface support staff and the acceptance suite drive."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from validation.synth import generate_idb, write_csvzip, write_xlsx

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path("/work/shared/fixtures/mdb")
if not FIXTURES.exists():
    FIXTURES = ROOT.parent / "shared" / "fixtures" / "mdb"
REGISTER = "code,name,type,ltc_mus_pilot,ea_pilot,acts_for\nTSTP1,One,PROVIDER,true,false,\n00C,Comm,COMMISSIONER,false,false,\n"


def run(*args: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "manage.py", "validate_idb", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def register(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    p = tmp_path_factory.mktemp("reg") / "register.csv"
    p.write_text(REGISTER)
    return p


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("samples")
    tables = generate_idb(org="TSTP1", period="2017-11", persons=60, seed=5, commissioners=("00C",))
    write_csvzip(tables, d / "idb.zip")
    write_xlsx(tables, d / "idb.xlsx")
    ltc = generate_idb(
        org="TSTP1", period="2017-11", persons=30, seed=6, profile="P15LTC", commissioners=("00C",)
    )
    write_csvzip(ltc, d / "ltc.zip")
    return {"csvzip": d / "idb.zip", "xlsx": d / "idb.xlsx", "ltc": d / "ltc.zip"}


@pytest.mark.parametrize("fmt", ["csvzip", "xlsx"])
def test_clean_sample_is_accepted(samples, register, fmt):  # type: ignore[no-untyped-def]
    code, out, _ = run(
        str(samples[fmt]), "--org", "TSTP1", "--period", "2017-11", "--register", str(register), "--json"
    )
    payload = json.loads(out)
    assert code == 0
    assert payload["outcome"] == "Accepted"
    assert payload["findings_by_rule"] == {}
    assert payload["counts"]["Person"] == {
        "read": 60,
        "accepted": 60,
        "rejected_record": 0,
        "rejected_group": 0,
        "with_warnings": 0,
    }


@pytest.mark.skipif(not FIXTURES.exists(), reason="shared Access fixtures not present")
@pytest.mark.parametrize(
    "name", ["jet3-fpdev-8rows.mdb", "jet4-merchant-taylors-20rows.mdb", "jet4-monitor-1row.mdb"]
)
def test_generic_access_files_lack_the_header_table(name, register):  # type: ignore[no-untyped-def]
    code, out, _ = run(
        str(FIXTURES / name), "--org", "TSTP1", "--period", "2017-11", "--register", str(register), "--json"
    )
    assert code == 1
    assert json.loads(out) == {"outcome": "Rejected", "counts": {}, "findings_by_rule": {"FILE010": 1}}


def test_ltc_profile_needs_pilot_flag_and_date(samples, register, tmp_path):  # type: ignore[no-untyped-def]
    args = [str(samples["ltc"]), "--org", "TSTP1", "--period", "2017-11", "--json"]
    code, out, _ = run(*args, "--register", str(register), "--received-at", "2017-12-05T10:00:00+00:00")
    assert (code, json.loads(out)["outcome"]) == (0, "Accepted")
    no_pilot = tmp_path / "r.csv"
    no_pilot.write_text(REGISTER.replace("TSTP1,One,PROVIDER,true", "TSTP1,One,PROVIDER,false"))
    code, out, _ = run(*args, "--register", str(no_pilot), "--received-at", "2017-12-05T10:00:00+00:00")
    assert code == 1 and json.loads(out)["findings_by_rule"] == {"HDR040": 1}
    code, out, _ = run(*args, "--register", str(register), "--received-at", "2017-03-02T23:59:59+00:00")
    assert "HDR030" in json.loads(out)["findings_by_rule"]


def test_wrong_period_and_provider_are_header_rejects(samples, register):  # type: ignore[no-untyped-def]
    code, out, _ = run(
        str(samples["csvzip"]), "--org", "TSTP2", "--period", "2017-10", "--register", str(register), "--json"
    )
    payload = json.loads(out)
    assert code == 1
    assert payload["findings_by_rule"] == {"HDR060": 1, "HDR080": 2}
    assert payload["counts"] == {}


@pytest.mark.parametrize(
    "args",
    [
        ["/no/such/file.zip", "--org", "TSTP1", "--period", "2017-11"],
        ["{sample}", "--org", "TSTP1", "--period", "2017-13"],
        ["{sample}", "--period", "2017-11"],
        ["{sample}", "--org", "TSTP1", "--period", "2017-11", "--window-type", "final"],
        ["{sample}", "--org", "TSTP1", "--period", "2017-11", "--received-at", "yesterday"],
    ],
)
def test_usage_errors_exit_2(samples, args):  # type: ignore[no-untyped-def]
    code, out, _ = run(*[a.replace("{sample}", str(samples["csvzip"])) for a in args])
    assert code == 2
    assert out == ""


def test_human_output(samples, register):  # type: ignore[no-untyped-def]
    code, out, _ = run(
        str(samples["csvzip"]), "--org", "TSTP1", "--period", "2017-11", "--register", str(register)
    )
    assert code == 0
    assert "Outcome: Accepted" in out and "Person" in out
