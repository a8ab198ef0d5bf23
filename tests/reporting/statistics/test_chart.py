"""Server-side SVG chart of a measure by month (organisation vs national), with its data table."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import polars as pl
import pytest

from reporting.statistics import (
    chart_figure,
    chart_series,
    chart_svg,
    chart_table,
    compute_statistics,
    period_label,
)

from .helpers import Builder

SVG = "{http://www.w3.org/2000/svg}"
POINTS = [
    ("2017-09", "52", "50.1"),
    ("2017-10", "*", "49.8"),  # suppressed: gap
    ("2017-11", "48", None),  # national not available: gap
    ("2017-12", "55", "51.0"),
    ("2018-01", "57", "52.4"),
]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_line_chart_accessibility_and_gaps() -> None:
    svg = chart_svg(POINTS, title="Recovery rate (%)", org_label="TSTP1", unit="%", chart_id="m09")
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "m09-title m09-desc"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "m09-title" and title.text == "Recovery rate (%)"
    assert desc is not None and desc.get("id") == "m09-desc"
    assert "Sep 2017 to Jan 2018" in (desc.text or "")
    assert "In Jan 2018: TSTP1 57%, National 52.4%" in (desc.text or "")
    assert "table below" in (desc.text or "")
    lines = root.findall(f".//{SVG}polyline")
    # org: 52 | gap | 48, 55, 57 -> one polyline (the lone 52 is a marker only); national: 50.1, 49.8 | gap | 51, 52.4
    assert len(lines) == 3
    assert sum(1 for ln in lines if ln.get("stroke-dasharray")) == 2  # national is dashed
    circles = root.findall(f".//{SVG}circle[{SVG}title]")
    assert [c.find(f"{SVG}title").text for c in circles] == [  # type: ignore[union-attr]
        "Sep 2017, TSTP1: 52%",
        "Nov 2017, TSTP1: 48%",
        "Dec 2017, TSTP1: 55%",
        "Jan 2018, TSTP1: 57%",
    ]
    squares = root.findall(f".//{SVG}rect[{SVG}title]")
    assert len(squares) == 4
    assert "<script" not in svg and "javascript" not in svg.lower()


def test_values_map_to_the_axis() -> None:
    root = parse(chart_svg([("2017-11", "100", "0.0")], title="T", org_label="O", unit="%", height=320))
    circle = root.find(f".//{SVG}circle[{SVG}title]")
    square = root.find(f".//{SVG}rect[{SVG}title]")
    assert circle is not None and square is not None
    top, bottom = 44, 320 - 48
    assert float(circle.get("cy", "")) == pytest.approx(top)
    assert float(square.get("y", "")) + 4 == pytest.approx(bottom)


def test_bar_chart_skips_gaps() -> None:
    root = parse(chart_svg(POINTS, title="Referrals", org_label="TSTP1", kind="bar"))
    bars = root.findall(f".//{SVG}g[@class='series']/{SVG}rect")
    assert len(bars) == 8  # 5 + 5 minus two gaps
    assert root.find(f"{SVG}defs/{SVG}pattern") is not None  # national is hatched, not only a colour


def test_text_is_escaped() -> None:
    svg = chart_svg(
        [("2017-11", "5", "6")], title='A <b> & "c"', org_label="<script>x</script>", chart_id='x"y'
    )
    root = parse(svg)
    assert root.find(f"{SVG}title").text == 'A <b> & "c"'  # type: ignore[union-attr]
    assert "<script>" not in svg
    assert root.get("aria-labelledby") == "x-y-title x-y-desc"


def test_empty_series() -> None:
    root = parse(chart_svg([], title="T", org_label="O"))
    assert "No data" in ET.tostring(root, encoding="unicode")
    assert "no data" in (root.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]


def test_bad_value_rejected() -> None:
    with pytest.raises(ValueError):
        chart_svg([("2017-11", "abc", "1")], title="T", org_label="O")
    with pytest.raises(ValueError):
        chart_svg(POINTS, title="T", org_label="O", kind="pie")  # type: ignore[arg-type]


def test_table_and_figure() -> None:
    table = chart_table(POINTS, title="Recovery rate", org_label="TSTP1", unit="%")
    root = parse(f"<div>{table}</div>")
    assert root.find("table/caption").text == "Recovery rate: data"  # type: ignore[union-attr]
    heads = [th.text for th in root.findall("table/thead/tr/th")]
    assert heads == ["Month", "TSTP1 (%)", "National (%)"]
    body = [[c.text for c in tr] for tr in root.findall("table/tbody/tr")]
    assert body[1] == ["Oct 2017", "*", "49.8"]
    assert body[2] == ["Nov 2017", "48", "not available"]
    assert all(tr[0].tag == "th" and tr[0].get("scope") == "row" for tr in root.findall("table/tbody/tr"))
    fig = parse(chart_figure(POINTS, title="Recovery rate", org_label="TSTP1", unit="%", chart_id="f"))
    assert fig.tag == "figure"
    assert [child.tag.replace(SVG, "svg:") for child in fig] == ["svg:svg", "figcaption", "table", "p"]


def test_period_label() -> None:
    assert period_label("2018-01") == "Jan 2018"
    assert period_label("Q1") == "Q1"


def test_series_from_stacked_statistics() -> None:
    frames = []
    for period, n, status in (
        ("2017-10", 7, "Final"),
        ("2017-11", 3, "Provisional"),
        ("2017-11", 12, "Final"),
        ("2017-12", 9, "Provisional"),
    ):
        b = Builder("TSTP1")
        b.referrals(n, "C1", REFERRED_IN_RP="Y")
        other = Builder("TSTP2")
        other.referrals(10, "C1", REFERRED_IN_RP="Y")
        frames.append(compute_statistics([b.submission(), other.submission()], period=period, status=status))
    stacked = pl.concat(frames)
    series = chart_series(stacked, measure_id="M01", level="Provider", org_code="TSTP1")
    assert series == [("2017-10", "5", "17"), ("2017-11", "10", "22"), ("2017-12", "10", "19")]
    # Final replaces provisional for 2017-11 (3 -> "*" would otherwise be shown)
    svg = chart_svg(series, title="Referrals received", org_label="TSTP1", kind="bar")
    assert len(parse(svg).findall(f".//{SVG}g[@class='series']/{SVG}rect")) == 6
    missing = chart_series(stacked, measure_id="M01", level="Commissioner", org_code="NOPE")
    assert missing == [("2017-10", None, "17"), ("2017-11", None, "22"), ("2017-12", None, "19")]
