"""Monthly statistics pages (spec 10.6): every signed-in user sees them (spec 10 Outputs).

``/statistics/`` lists the RPs with a run; ``/statistics/<YYYY-MM>/`` shows the Provisional and Final values
of M01-M22 nationally and for the user's organisation (a provider's code, a commissioner's code or the
codes a CSU acts for; administrators choose any organisation of the run), charts of five rates by month
against national (server-side SVG with a data table, no JavaScript) and the CSV/XLSX/JSON downloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from portal.models import User

from . import output_selectors
from .statistics import COMMISSIONER, MEASURES, NATIONAL, PROVIDER, chart_figure, chart_series
from .views import output_file_response

# (measure, chart title) of the charts: recovery, reliable improvement, waits, DNA rate.
CHARTS: tuple[tuple[str, str], ...] = (
    ("M09", "Recovery rate"),
    ("M11", "Reliable improvement rate"),
    ("M17", "Finished treatment waiting 6 weeks or less"),
    ("M19", "Finished treatment waiting 18 weeks or less"),
    ("M22", "Did not attend (DNA) rate"),
)
CHART_MONTHS = 12
STATUSES = ("Provisional", "Final")
FORMATS = (("csv", "CSV"), ("xlsx", "Excel"), ("json", "JSON"))


@dataclass(frozen=True)
class Org:
    level: str
    code: str

    @property
    def key(self) -> str:
        return f"{self.level}:{self.code}"

    @property
    def label(self) -> str:
        return f"{self.code} ({self.level.lower()})"


def month_name(period: str) -> str:
    """``2017-11`` -> ``November 2017``."""
    year, month = period.split("-")
    return date(int(year), int(month), 1).strftime("%B %Y")


def _user_orgs(user: User, available: list[Org]) -> list[Org]:
    """The organisations whose figures the user sees beside national ones."""
    if user.is_portal_admin:
        return available
    if user.is_provider_user and user.organisation is not None:
        return [Org(PROVIDER, user.organisation.code)]
    return [Org(COMMISSIONER, c) for c in output_selectors.commissioner_codes_for_user(user=user)]


@login_required
@require_GET
def statistics_index(request: HttpRequest) -> HttpResponse:
    periods: dict[str, list[str]] = {}
    for run in output_selectors.statistics_runs():
        periods.setdefault(run.period, []).append(run.status)
    rows = [
        {"period": p, "label": month_name(p), "statuses": sorted(s, key=STATUSES.index)}
        for p, s in periods.items()
    ]
    return render(request, "reporting/statistics_index.html", {"rows": rows})


@login_required
@require_GET
def statistics_period(request: HttpRequest, period: str) -> HttpResponse:
    found = {s: output_selectors.statistics_run_get(period=period, status=s) for s in STATUSES}
    runs = {s: r for s, r in found.items() if r is not None}
    if not runs:
        raise Http404("No statistics for this reporting period")
    user: User = request.user  # type: ignore[assignment]
    available = sorted(
        {Org(v.level, v.org_code) for r in runs.values() for v in r.values.exclude(level=NATIONAL)},
        key=lambda o: (o.level != PROVIDER, o.code),
    )
    orgs = _user_orgs(user, available)
    chosen = next((o for o in orgs if o.key == request.GET.get("org")), orgs[0] if orgs else None)
    shown = [o for o in orgs if o == chosen] if user.is_portal_admin else orgs
    frame = output_selectors.statistics_values(up_to=period, org_codes=[o.code for o in shown])

    sections: list[dict[str, Any]] = []
    for status, run in runs.items():
        values = {
            (v.level, v.org_code, v.measure_id): v.value
            for v in run.values.filter(level__in=[NATIONAL, *{o.level for o in shown}])
        }
        table = [
            {
                "id": m.id,
                "name": m.name,
                "national": values.get((NATIONAL, "", m.id), ""),
                "orgs": [values.get((o.level, o.code, m.id), "") for o in shown],
            }
            for m in MEASURES
        ]
        sections.append({"status": status, "run": run, "table": table})

    charts = []
    if chosen is not None:
        for measure_id, title in CHARTS:
            points = chart_series(frame, measure_id=measure_id, level=chosen.level, org_code=chosen.code)
            points = points[-CHART_MONTHS:]
            figure = chart_figure(
                points, title=f"{title} (%)", org_label=chosen.code, unit="%", chart_id=f"chart-{measure_id}"
            )
            charts.append(
                {"id": measure_id, "title": title, "figure": mark_safe(figure)}
            )  # chart_figure escapes every text
    return render(
        request,
        "reporting/statistics_period.html",
        {
            "period": period,
            "period_label": month_name(period),
            "sections": sections,
            "shown": shown,
            "orgs": orgs,
            "chosen": chosen,
            "is_admin": user.is_portal_admin,
            "charts": charts,
            "formats": FORMATS,
        },
    )


@login_required
@require_GET
def statistics_download(request: HttpRequest, period: str, status: str, fmt: str) -> FileResponse:
    run = output_selectors.statistics_run_get(period=period, status=status)
    if run is None:
        raise Http404("No such statistics")
    return output_file_response(request, run, fmt, kind=f"statistics_{fmt}")
