"""Server-side SVG chart of one measure by month: the user's organisation against national (no JavaScript).

Input: a sequence of ``(period, org_value, national_value)`` with values as displayed (the ``VALUE`` strings of
:func:`~reporting.statistics.compute.compute_statistics`, or numbers). ``None``, ``""`` and ``"*"`` are gaps:
a line breaks there and no bar is drawn. Plot **displayed** values only, never the unsuppressed ``RAW`` of the
detail frame, so a chart discloses nothing the published statistics do not.

Accessibility: the ``<svg>`` has ``role="img"`` and ``aria-labelledby`` pointing at its own ``<title>`` and
``<desc>`` (a text summary with the latest values); every marker/bar has a ``<title>`` with its month and value;
the two series differ by marker shape and dash pattern (line) or fill pattern (bar), not only by colour; and
:func:`chart_table` gives the same data as an HTML table, which :func:`chart_figure` places under the chart.
All text is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Literal

import polars as pl

from .measures import NATIONAL, SUPPRESSED

Value = str | int | float | Decimal | None
Point = tuple[str, Value, Value]

ORG_COLOUR = "#005eb8"  # NHS blue
NATIONAL_COLOUR = "#425563"  # NHS dark grey
_MONTH_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def period_label(period: str) -> str:
    """``2017-11`` → ``Nov 2017``; anything else unchanged."""
    m = _MONTH_RE.match(period)
    if not m:
        return period
    return dt.date(int(m.group(1)), int(m.group(2)), 1).strftime("%b %Y")


def _number(v: Value) -> float | None:
    if v is None:
        return None
    if isinstance(v, str):
        s = v.strip()
        if s in ("", SUPPRESSED):
            return None
        try:
            return float(Decimal(s))
        except InvalidOperation:
            raise ValueError(f"not a chart value: {v!r}") from None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return float(v)


def _shown(v: Value) -> str:
    """Value as text for titles and the table."""
    if v is None or (isinstance(v, str) and v.strip() == ""):
        return "not available"
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _nice_max(top: float, unit: str) -> tuple[float, float]:
    """(axis maximum, tick step) with 4-5 ticks of 1, 2 or 5 x 10^k."""
    if unit == "%" and top <= 100:
        return 100.0, 20.0
    if top <= 0:
        return 5.0, 1.0
    raw = top / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 5, 10) if s * mag >= raw)
    return math.ceil(top / step) * step, float(step)


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _tick(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else _fmt(x)


def _safe_id(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", s) or "chart"


def _summary(
    points: Sequence[Point], title: str, org_label: str, national_label: str, unit: str, kind: str
) -> str:
    if not points:
        return f"{title}: no data."
    first, last = period_label(points[0][0]), period_label(points[-1][0])
    span = first if first == last else f"{first} to {last}"
    u = unit if unit == "%" else ""
    p, o, n = points[-1]
    latest = (
        f"In {period_label(p)}: {org_label} {_shown(o)}{u if _number(o) is not None else ''}, "
        f"{national_label} {_shown(n)}{u if _number(n) is not None else ''}."
    )
    return (
        f"{'Bar' if kind == 'bar' else 'Line'} chart of {title} by month, {span}, for {org_label} and "
        f"{national_label}. {latest} Suppressed (*) or unavailable values are left as gaps. "
        "The same data are given in the table below the chart."
    )


def chart_svg(
    points: Sequence[Point],
    *,
    title: str,
    org_label: str,
    national_label: str = NATIONAL,
    kind: Literal["line", "bar"] = "line",
    unit: str = "",
    chart_id: str = "chart",
    width: int = 640,
    height: int = 320,
) -> str:
    """The chart as a standalone ``<svg>`` element (string). ``unit="%"`` fixes the axis at 0-100 (unless a
    value is larger) and labels the axis with ``%``."""
    if kind not in ("line", "bar"):
        raise ValueError(f"kind must be 'line' or 'bar', not {kind!r}")
    cid = _safe_id(chart_id)
    e = html.escape
    left, right, top, bottom = 52, 16, 44, 48
    pw, ph = width - left - right, height - top - bottom
    org = [_number(o) for _, o, _ in points]
    nat = [_number(n) for _, _, n in points]
    present = [v for v in org + nat if v is not None]
    ymax, step = _nice_max(max(present, default=0.0), unit)
    n = len(points)
    band = pw / max(n, 1)

    def x(i: int) -> float:
        return left + band * (i + 0.5)

    def y(v: float) -> float:
        return top + ph - (v / ymax) * ph

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{cid}-title {cid}-desc" class="stat-chart">',
        f'<title id="{cid}-title">{e(title)}</title>',
        f'<desc id="{cid}-desc">{e(_summary(points, title, org_label, national_label, unit, kind))}</desc>',
        "<defs>"
        f'<pattern id="{cid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" '
        f'stroke="{NATIONAL_COLOUR}" stroke-width="3"/></pattern></defs>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    # Axes and grid.
    out.append(
        '<g class="axis" font-family="Arial, sans-serif" font-size="11" fill="#212b32" aria-hidden="true">'
    )
    t = 0.0
    while t <= ymax + 1e-9:
        yy = _fmt(y(t))
        out.append(
            f'<line x1="{left}" y1="{yy}" x2="{left + pw}" y2="{yy}" stroke="#d8dde0" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{yy}" text-anchor="end" dominant-baseline="middle">'
            f"{e(_tick(t))}{e(unit) if unit == '%' else ''}</text>"
        )
        t += step
    out.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#212b32"/>')
    every = max(1, math.ceil(n / 12))
    for i, (p, _, _) in enumerate(points):
        if i % every == 0 or i == n - 1:
            out.append(
                f'<text x="{_fmt(x(i))}" y="{top + ph + 18}" text-anchor="middle">{e(period_label(p))}</text>'
            )
    out.append("</g>")
    # Legend.
    out.append(
        '<g class="legend" font-family="Arial, sans-serif" font-size="12" fill="#212b32" aria-hidden="true">'
    )
    if kind == "line":
        out.append(
            f'<line x1="{left}" y1="16" x2="{left + 24}" y2="16" stroke="{ORG_COLOUR}" stroke-width="2.5"/>'
            f'<circle cx="{left + 12}" cy="16" r="4" fill="{ORG_COLOUR}"/>'
            f'<line x1="{left + 200}" y1="16" x2="{left + 224}" y2="16" stroke="{NATIONAL_COLOUR}" '
            'stroke-width="2.5" stroke-dasharray="6 4"/>'
            f'<rect x="{left + 208}" y="12" width="8" height="8" fill="{NATIONAL_COLOUR}"/>'
        )
    else:
        out.append(
            f'<rect x="{left}" y="10" width="14" height="12" fill="{ORG_COLOUR}"/>'
            f'<rect x="{left + 200}" y="10" width="14" height="12" fill="url(#{cid}-hatch)" '
            f'stroke="{NATIONAL_COLOUR}"/>'
        )
    out.append(
        f'<text x="{left + 30}" y="16" dominant-baseline="middle">{e(org_label)}</text>'
        f'<text x="{left + 230}" y="16" dominant-baseline="middle">{e(national_label)}</text></g>'
    )
    if not points:
        out.append(
            f'<text x="{left + pw / 2}" y="{top + ph / 2}" text-anchor="middle" font-family="Arial, sans-serif" '
            'font-size="14" fill="#212b32">No data</text>'
        )
    u = "%" if unit == "%" else ""

    def label(i: int, who: str, raw: Value) -> str:
        return e(f"{period_label(points[i][0])}, {who}: {_shown(raw)}{u if _number(raw) is not None else ''}")

    if kind == "line":
        for values, colour, dash, shape, who, idx in (
            (org, ORG_COLOUR, "", "circle", org_label, 1),
            (nat, NATIONAL_COLOUR, ' stroke-dasharray="6 4"', "square", national_label, 2),
        ):
            out.append('<g class="series">')
            run: list[str] = []
            segments: list[list[str]] = []
            for i, v in enumerate(values):
                if v is None:
                    if run:
                        segments.append(run)
                    run = []
                else:
                    run.append(f"{_fmt(x(i))},{_fmt(y(v))}")
            if run:
                segments.append(run)
            for seg in segments:
                if len(seg) > 1:
                    out.append(
                        f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                        f'stroke-width="2.5"{dash}/>'
                    )
            for i, v in enumerate(values):
                if v is None:
                    continue
                cx, cy = _fmt(x(i)), _fmt(y(v))
                tip = f"<title>{label(i, who, points[i][idx])}</title>"
                if shape == "circle":
                    out.append(f'<circle cx="{cx}" cy="{cy}" r="4" fill="{colour}">{tip}</circle>')
                else:
                    out.append(
                        f'<rect x="{_fmt(x(i) - 4)}" y="{_fmt(y(v) - 4)}" width="8" height="8" '
                        f'fill="{colour}">{tip}</rect>'
                    )
            out.append("</g>")
    else:
        bw = band * 0.36
        for values, fill, offset, who, idx in (
            (org, ORG_COLOUR, -bw, org_label, 1),
            (nat, f"url(#{cid}-hatch)", 0.0, national_label, 2),
        ):
            out.append('<g class="series">')
            for i, v in enumerate(values):
                if v is None:
                    continue
                top_y = y(v)
                out.append(
                    f'<rect x="{_fmt(x(i) + offset)}" y="{_fmt(top_y)}" width="{_fmt(bw)}" '
                    f'height="{_fmt(top + ph - top_y)}" fill="{fill}" stroke="{NATIONAL_COLOUR if idx == 2 else fill}">'
                    f"<title>{label(i, who, points[i][idx])}</title></rect>"
                )
            out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def chart_table(
    points: Sequence[Point], *, title: str, org_label: str, national_label: str = NATIONAL, unit: str = ""
) -> str:
    """The chart's data as an HTML table (month, organisation, national; values as displayed)."""
    e = html.escape
    head = f" ({e(unit)})" if unit else ""
    rows = "".join(
        f'<tr><th scope="row">{e(period_label(p))}</th><td>{e(_shown(o))}</td><td>{e(_shown(n))}</td></tr>'
        for p, o, n in points
    )
    return (
        f'<table class="stat-chart-data"><caption>{e(title)}: data</caption>'
        f'<thead><tr><th scope="col">Month</th><th scope="col">{e(org_label)}{head}</th>'
        f'<th scope="col">{e(national_label)}{head}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        '<p class="stat-chart-note">* suppressed (a count of 1-4, or a rate whose count is 1-4 or whose base '
        "is below 5).</p>"
    )


def chart_figure(
    points: Sequence[Point],
    *,
    title: str,
    org_label: str,
    national_label: str = NATIONAL,
    kind: Literal["line", "bar"] = "line",
    unit: str = "",
    chart_id: str = "chart",
) -> str:
    """``<figure>`` with the SVG chart, a caption and the data table (ready to insert into a page)."""
    svg = chart_svg(
        points,
        title=title,
        org_label=org_label,
        national_label=national_label,
        kind=kind,
        unit=unit,
        chart_id=chart_id,
    )
    table = chart_table(points, title=title, org_label=org_label, national_label=national_label, unit=unit)
    return (
        f'<figure class="stat-chart-figure">{svg}'
        f"<figcaption>{html.escape(title)}: {html.escape(org_label)} and {html.escape(national_label)} "
        f"by month</figcaption>{table}</figure>"
    )


def chart_series(statistics: pl.DataFrame, *, measure_id: str, level: str, org_code: str) -> list[Point]:
    """``(period, org VALUE, national VALUE)`` per RP, oldest first, from statistics frames stacked over
    several RPs (``pl.concat`` of :func:`compute_statistics` outputs). Where a period has both a
    Provisional and a Final run, the Final values are used. Missing values are ``None`` (gaps)."""
    f = statistics.filter(pl.col("MEASURE_ID") == measure_id)
    f = (
        f.with_columns((pl.col("STATUS") == "Final").alias("__final"))
        .sort("REPORTING_PERIOD", "__final")
        .group_by("REPORTING_PERIOD", "LEVEL", "ORG_CODE", maintain_order=True)
        .last()
    )
    org = f.filter((pl.col("LEVEL") == level) & (pl.col("ORG_CODE") == org_code))
    nat = f.filter(pl.col("LEVEL") == NATIONAL)
    org_v = dict(zip(org["REPORTING_PERIOD"], org["VALUE"], strict=True))
    nat_v = dict(zip(nat["REPORTING_PERIOD"], nat["VALUE"], strict=True))
    return [(p, org_v.get(p), nat_v.get(p)) for p in sorted(set(org_v) | set(nat_v))]
