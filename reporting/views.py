from __future__ import annotations

import io
import tempfile
import zipfile

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.models import Organisation
from portal.services import audit_record
from submissions.models import Submission
from submissions.selectors import commissioner_submissions_for_user
from validation.dataset import DATASET

from . import catalogue, data_selectors, dq, dq_selectors, templates_blank
from .commissioner import commissioner_subset, deidentify
from .writers import COUNT_LABELS


def _commissioner_org(request: HttpRequest) -> Organisation:
    user = request.user
    if not user.is_commissioner_user or user.organisation is None:  # type: ignore[union-attr]
        raise PermissionDenied
    return user.organisation  # type: ignore[union-attr]


@login_required
@require_GET
def commissioner_extracts(request: HttpRequest) -> HttpResponse:
    org = _commissioner_org(request)
    codes = org.commissioner_codes()
    rows = []
    for sub in commissioner_submissions_for_user(user=request.user).prefetch_related("commissioners"):  # type: ignore[arg-type]
        for c in sub.commissioners.all():
            if c.code in codes:
                rows.append({"sub": sub, "code": c.code, "referrals": c.referrals})
    return render(request, "reporting/commissioner_extracts.html", {"rows": rows, "codes": codes})


@login_required
@require_GET
def commissioner_extract_download(request: HttpRequest, code: str, submission_id: str) -> FileResponse:
    org = _commissioner_org(request)
    if code not in org.commissioner_codes():
        raise Http404("No such extract")
    sub = next(
        (s for s in commissioner_submissions_for_user(user=request.user) if s.submission_id == submission_id),  # type: ignore[arg-type]
        None,
    )
    if sub is None or not sub.commissioners.filter(code=code).exists():
        raise Http404("No such extract")
    wanted = tuple(t for t in DATASET.tables if t != "Header")
    loaded = data_selectors.accepted_tables(submission=sub)
    if loaded is not None:
        # Filtered in the database: the code's referrals, their persons and everything under them.
        accepted = data_selectors.accepted_frames_for_commissioner(
            submission=sub, code=code, tables=[t for t in wanted if t in loaded]
        )
    elif sub.accepted_dir:
        accepted = dq_selectors.accepted_frames(submission=sub, tables=wanted)  # before the database load
    else:
        raise Http404("No such extract")
    tables = deidentify(
        commissioner_subset(accepted, code=code, provider=sub.organisation.code),
        key=settings.PSEUDONYM_KEY.encode(),
        provider=sub.organisation.code,
    )
    tmp = tempfile.NamedTemporaryFile(suffix=".zip")  # noqa: SIM115 - closed by FileResponse
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for table, frame in tables.items():
            with zf.open(f"{table}.csv", "w", force_zip64=True) as fh:
                frame.write_csv(fh)
    tmp.seek(0)
    filename = f"COMM_{code}_{sub.period}_{sub.window_type}_{sub.organisation.code}.zip"
    audit_record(
        action="download",
        actor=request.user,  # type: ignore[arg-type]
        organisation=org,
        obj=sub,
        details={"kind": "commissioner_extract", "code": code, "file": filename},
    )
    return FileResponse(tmp, as_attachment=True, filename=filename)


# --------------------------------------------------------------------------- rule catalogue


@login_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    tables = dict(catalogue.table_choices())
    severities = dict(catalogue.severity_choices())
    table = request.GET.get("table", "")
    severity = request.GET.get("severity", "")
    table = table if table in tables else ""
    severity = severity if severity in severities else ""
    rules = catalogue.rule_rows(table=table, severity=severity)
    context = {
        "rules": [
            {"rule": r, "tag": catalogue.SEVERITY_TAGS[r.severity], "table_label": r.table or "File level"}
            for r in rules
        ],
        "total": len(DATASET.rules),
        "table": table,
        "severity": severity,
        "table_choices": catalogue.table_choices(),
        "severity_choices": catalogue.severity_choices(),
        "filtered": bool(table or severity),
    }
    return render(request, "reporting/rules.html", context)


@login_required
@require_GET
def rule_detail(request: HttpRequest, rule_id: str) -> HttpResponse:
    if rule_id not in DATASET.rules:
        raise Http404("No such rule")
    entry = catalogue.rule_entry(rule_id)
    severities = [
        {"name": s, "meaning": catalogue.SEVERITY_MEANINGS[s], "tag": catalogue.SEVERITY_TAGS[s]}
        for s in catalogue.SEVERITY_MEANINGS
    ]
    return render(request, "reporting/rule_detail.html", {"entry": entry, "severities": severities})


# --------------------------------------------------------------------------- blank templates

_TEMPLATE_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


@login_required
@require_GET
def template_index(request: HttpRequest) -> HttpResponse:
    profiles = []
    for profile in DATASET.profiles.values():
        profiles.append(
            {
                "profile": profile,
                "tables": [t.name for t in templates_blank.template_tables(profile.id)],
            }
        )
    return render(request, "reporting/templates_index.html", {"profiles": profiles})


@login_required
@require_GET
def template_download(request: HttpRequest, profile: str, ext: str) -> HttpResponse:
    if profile not in DATASET.profiles or ext not in _TEMPLATE_TYPES:
        raise Http404("No such template")
    with_ea = request.GET.get("with_ea") == "1"
    body = templates_blank.template_bytes(profile, ext, with_ea=with_ea)
    response = HttpResponse(body, content_type=_TEMPLATE_TYPES[ext])
    filename = templates_blank.template_file_name(profile, with_ea=with_ea, ext=ext)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --------------------------------------------------------------------------- DQ summary (spec 10.2)

_DQ_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
_DQ_WRITERS = {"csv": dq.write_dq_csv, "xlsx": dq.write_dq_xlsx, "json": dq.write_dq_json}


def _dq_submission(request: HttpRequest, submission_id: str) -> Submission:
    """A successful submission of the user's organisation (provider users, administrators)."""
    user = request.user
    if not (user.is_provider_user or user.is_portal_admin):  # type: ignore[union-attr]
        raise PermissionDenied
    sub = dq_selectors.submission_for_user(user=user, submission_id=submission_id)  # type: ignore[arg-type]
    if sub is None:
        raise Http404("No such submission")
    if not sub.is_successful or not dq_selectors.has_accepted_rows(submission=sub):
        raise Http404("Only successful submissions have a data quality summary")
    return sub


@login_required
@require_GET
def submission_dq(request: HttpRequest, submission_id: str) -> HttpResponse:
    sub = _dq_submission(request, submission_id)
    report = dq_selectors.submission_dq_report(submission=sub)
    context = {
        "sub": sub,
        "report": report,
        "tables": report.tables(),
        "count_labels": COUNT_LABELS,
        "formats": [("csv", "CSV"), ("xlsx", "Excel"), ("json", "JSON")],
    }
    return render(request, "reporting/dq.html", context)


@login_required
@require_GET
def submission_dq_download(request: HttpRequest, submission_id: str, fmt: str) -> HttpResponse:
    if fmt not in _DQ_WRITERS:
        raise Http404("No such format")
    sub = _dq_submission(request, submission_id)
    report = dq_selectors.submission_dq_report(submission=sub)
    buf = io.BytesIO()
    _DQ_WRITERS[fmt](report, buf)
    filename = dq.dq_file_name(sub.organisation.code, sub.period, sub.window_type, sub.bsp_unique_id, fmt)
    audit_record(
        action="download",
        actor=request.user,  # type: ignore[arg-type]
        organisation=sub.organisation,
        obj=sub,
        details={"kind": f"dq_summary_{fmt}", "file": filename},
    )
    response = HttpResponse(buf.getvalue(), content_type=_DQ_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --------------------------------------------------------------------------- blank IDB as Access .mdb (#9)


@login_required
@require_GET
def template_download_mdb(request: HttpRequest, profile: str) -> HttpResponse:
    """The blank IDB of ``profile`` as a Jet 4 .mdb (validation.jet4), with EmploymentAdviser on ?with_ea=1."""
    from validation.jet4.idb import write_idb_template

    if profile not in DATASET.profiles:
        raise Http404("No such template")
    with_ea = request.GET.get("with_ea") == "1"
    with tempfile.TemporaryDirectory() as tmp:
        path = write_idb_template(f"{tmp}/template.mdb", profile, with_ea=with_ea)
        body = path.read_bytes()
    response = HttpResponse(body, content_type="application/x-msaccess")
    filename = templates_blank.template_file_name(profile, with_ea=with_ea, ext="mdb")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
