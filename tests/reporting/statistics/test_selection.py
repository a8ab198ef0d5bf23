"""Provisional (live Primary) vs final (effective) input sets, spec 7.3 and 10.6."""

from __future__ import annotations

import polars as pl
import pytest

from reporting.statistics import compute_statistics, select_submissions

from .helpers import PERIOD, Builder


def sub(provider: str, window: str, referrals: int):
    b = Builder(provider)
    b.referrals(referrals, "C1", REFERRED_IN_RP="Y")
    return b.submission(window_type=window)


LIVE = [
    sub("TSTP1", "Primary", 10),
    sub("TSTP1", "Refresh", 20),  # refresh supersedes primary for final statistics only
    sub("TSTP2", "Primary", 30),  # no refresh: primary is effective
    sub("TSTP3", "Refresh", 40),  # refresh only (no primary): not in provisional
]


def m01(out: pl.DataFrame) -> dict[tuple[str, str], str]:
    f = out.filter(pl.col("MEASURE_ID") == "M01")
    return {(r["LEVEL"], r["ORG_CODE"]): r["VALUE"] for r in f.iter_rows(named=True)}


def test_provisional_uses_live_primary() -> None:
    chosen = select_submissions(LIVE, "Provisional")
    assert [(s.provider, s.window_type) for s in chosen] == [("TSTP1", "Primary"), ("TSTP2", "Primary")]
    out = compute_statistics(chosen, period=PERIOD, status="Provisional")
    assert set(out["STATUS"]) == {"Provisional"}
    assert m01(out) == {
        ("National", ""): "40",
        ("Provider", "TSTP1"): "10",
        ("Provider", "TSTP2"): "30",
        ("Commissioner", "C1"): "40",
    }


def test_final_uses_effective_submissions() -> None:
    chosen = select_submissions(LIVE, "Final")
    assert [(s.provider, s.window_type) for s in chosen] == [
        ("TSTP1", "Refresh"),
        ("TSTP2", "Primary"),
        ("TSTP3", "Refresh"),
    ]
    out = compute_statistics(chosen, period=PERIOD, status="Final")
    assert set(out["STATUS"]) == {"Final"}
    assert m01(out) == {
        ("National", ""): "90",
        ("Provider", "TSTP1"): "20",
        ("Provider", "TSTP2"): "30",
        ("Provider", "TSTP3"): "40",
        ("Commissioner", "C1"): "90",
    }


def test_selection_errors() -> None:
    with pytest.raises(ValueError, match="two live"):
        select_submissions([LIVE[0], LIVE[0]], "Final")
    with pytest.raises(ValueError, match="window_type"):
        select_submissions([sub("TSTP1", None, 1)], "Final")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status"):
        select_submissions(LIVE, "Draft")
