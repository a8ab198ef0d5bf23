"""10.6 suppression and rounding; the 11.5 worked example."""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest

from reporting.statistics import display_count, display_rate
from reporting.statistics.measures import count_value_expr, rate_value_expr

LEVELS = ("National", "Provider", "Commissioner")


def test_worked_example_11_5() -> None:
    counts = [0, 3, 7, 8, 12, 13]
    assert [display_count(n, "Provider") for n in counts] == ["0", "*", "5", "10", "10", "15"]
    assert [display_count(n, "Commissioner") for n in counts] == ["0", "*", "5", "10", "10", "15"]
    assert [display_count(n, "National") for n in counts] == ["0", "*", "7", "8", "12", "13"]
    assert display_rate(37, 52, "Provider") == "71"
    assert display_rate(37, 52, "National") == "71.2"
    assert display_rate(3, 20, "Provider") == "*"  # numerator 1-4
    assert display_rate(6, 4, "Provider") == "*"  # denominator below 5
    assert display_rate(6, 4, "National") == "*"


def test_worked_example_through_the_vectorised_rules() -> None:
    f = pl.DataFrame({"n": [0, 3, 7, 8, 12, 13], "level": ["Provider"] * 6}).select(
        count_value_expr(pl.col("n"), pl.col("level"))
    )
    assert f.to_series().to_list() == ["0", "*", "5", "10", "10", "15"]
    r = pl.DataFrame(
        {
            "num": [37, 37, 3, 6],
            "den": [52, 52, 20, 4],
            "level": ["Provider", "National", "Provider", "Provider"],
        }
    ).select(rate_value_expr(pl.col("num"), pl.col("den"), pl.col("level")))
    assert r.to_series().to_list() == ["71", "71.2", "*", "*"]


@pytest.mark.parametrize(
    ("n", "rounded"),
    [(1, "*"), (2, "*"), (4, "*"), (5, "5"), (6, "5"), (7, "5"), (8, "10"), (9, "10"), (10, "10"), (11, "10"),
     (12, "10"), (13, "15"), (14, "15"), (15, "15"), (16, "15"), (17, "15"), (18, "20"), (1001, "1000"), (1003, "1005")],
)  # fmt: skip
def test_count_rounding(n: int, rounded: str) -> None:
    assert display_count(n, "Provider") == rounded
    assert display_count(n, "National") == ("*" if n < 5 else str(n))


def test_half_up_not_bankers_or_float() -> None:
    assert display_rate(5, 8, "Provider") == "63"  # 62.5
    assert display_rate(7, 8, "Provider") == "88"  # 87.5
    assert display_rate(5, 16, "National") == "31.3"  # 31.25; round(31.25, 1) == 31.2
    assert display_rate(29, 200, "Provider") == "15"  # 14.5; 29 / 200 * 100 == 14.499999999999998
    assert display_rate(1, 1, "Provider") == "*"
    assert display_rate(0, 5, "Provider") == "0"
    assert display_rate(0, 5, "National") == "0.0"
    assert display_rate(0, 4, "National") == "*"
    assert display_rate(0, 0, "National") == "*"
    assert display_rate(5, 5, "National") == "100.0"
    assert display_rate(5, 6, "National") == "83.3"
    assert display_rate(1_000_000, 3_000_000, "National") == "33.3"


def test_vectorised_rules_equal_the_scalar_reference_on_a_grid() -> None:
    rows = [(num, den, lvl) for den in range(0, 61) for num in range(0, 61) for lvl in LEVELS]
    rows += [(n, 0, lvl) for n in range(0, 2000, 7) for lvl in LEVELS]
    f = pl.DataFrame(rows, schema={"num": pl.Int64, "den": pl.Int64, "level": pl.String}, orient="row")
    got = f.select(
        count_value_expr(pl.col("num"), pl.col("level")).alias("count"),
        rate_value_expr(pl.col("num"), pl.col("den"), pl.col("level")).alias("rate"),
    )
    assert got["count"].to_list() == [display_count(n, lvl) for n, _, lvl in rows]
    assert got["rate"].to_list() == [display_rate(n, d, lvl) for n, d, lvl in rows]


def test_scalar_rate_agrees_with_decimal_half_up() -> None:
    for num, den in itertools.product(range(5, 120), range(5, 120)):
        exact = Decimal(num * 100) / Decimal(den)
        assert display_rate(num, den, "Provider") == str(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert display_rate(num, den, "National") == str(
            exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        )


def test_negative_count_rejected() -> None:
    with pytest.raises(ValueError):
        display_count(-1, "National")
