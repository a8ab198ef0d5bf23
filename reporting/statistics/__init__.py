"""Spec 10.6 monthly summary statistics (M01-M22) as pure polars, plus writers and an SVG chart (no Django).

Public API::

    SubmissionData(provider, referral, appointment, window_type=None, submission_id=None)
    SubmissionData.from_derived(provider, derived_tables, *, window_type=None, submission_id=None)
    select_submissions(live, status) -> list[SubmissionData]       # Provisional: live Primary; Final: effective
    compute_statistics(submissions, *, period, status, detail=False) -> pl.DataFrame
    display_count(n, level) -> str; display_rate(numerator, denominator, level) -> str
    write_statistics_csv / _xlsx / _json(frame, out); statistics_bytes(frame, fmt); statistics_file_name(...)
    chart_svg / chart_table / chart_figure(points, *, title, org_label, ...) -> str
    chart_series(statistics, *, measure_id, level, org_code) -> list[(period, org_value, national_value)]
    MEASURES, OUTPUT_COLUMNS, DETAIL_COLUMNS

Decisions: docs/decisions.md, "Monthly statistics".
"""

from .chart import chart_figure, chart_series, chart_svg, chart_table, period_label
from .compute import (
    APPOINTMENT_COLUMNS,
    DETAIL_COLUMNS,
    OUTPUT_COLUMNS,
    REFERRAL_COLUMNS,
    SubmissionData,
    compute_statistics,
    select_submissions,
)
from .measures import (
    COMMISSIONER,
    LEVELS,
    MEASURE_BY_ID,
    MEASURES,
    NATIONAL,
    PROVIDER,
    STATUSES,
    Measure,
    display_count,
    display_rate,
)
from .writers import (
    statistics_bytes,
    statistics_file_name,
    write_statistics_csv,
    write_statistics_json,
    write_statistics_xlsx,
)

__all__ = [
    "APPOINTMENT_COLUMNS",
    "COMMISSIONER",
    "DETAIL_COLUMNS",
    "LEVELS",
    "MEASURES",
    "MEASURE_BY_ID",
    "NATIONAL",
    "OUTPUT_COLUMNS",
    "PROVIDER",
    "REFERRAL_COLUMNS",
    "STATUSES",
    "Measure",
    "SubmissionData",
    "chart_figure",
    "chart_series",
    "chart_svg",
    "chart_table",
    "compute_statistics",
    "display_count",
    "display_rate",
    "period_label",
    "select_submissions",
    "statistics_bytes",
    "statistics_file_name",
    "write_statistics_csv",
    "write_statistics_json",
    "write_statistics_xlsx",
]
