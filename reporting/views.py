from __future__ import annotations

import io
import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.models import Organisation
from portal.services import audit_record
from submissions.models import Submission
from validation.dataset import DATASET

from . import catalogue, dq, dq_selectors, output_selectors, templates_blank
from .models import PostDeadlineOutput
from .writers import COUNT_LABELS

_FILE_TYPES = {
    "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


def output_file_response(
    request: HttpRequest, output: PostDeadlineOutput, fmt: str, *, kind: str
) -> FileResponse:
    """Stream one stored post-deadline file (audited as a download)."""
    name = output.files.get(fmt)
    if not name or not default_storage.exists(name):
        raise Http404("No such file")
    filename = output.file_name(fmt)
    audit_record(
        action="download",
        actor=request.user,  # type: ignore[arg-type]
        organisation=getattr(request.user, "organisation", None),
        obj=output,
        details={"kind": kind, "file": filename, "code": output.org_code, "period": output.period},
    )
    return FileResponse(
        default_storage.open(name, "rb"), as_attachment=True, filename=filename, content_type=_FILE_TYPES[fmt]
    )


def _commissioner_org(request: HttpRequest) -> Organisation:
    user = request.user
    if not user.is_commissioner_user or user.organisation is None:  # type: ignore[union-attr]
        raise PermissionDenied
    return user.organisation  # type: ignore[union-attr]


@login_required
@require_GET
def commissioner_extracts(request: HttpRequest) -> HttpResponse:
    """Spec 10.5 files of the user's commissioner codes (a CSU: every code it acts for)."""
    _commissioner_org(request)
    codes = output_selectors.commissioner_codes_for_user(user=request.user)  # type: ignore[arg-type]
    outputs = output_selectors.commissioner_extracts_for_user(user=request.user)  # type: ignore[arg-type]
    return render(request, "reporting/commissioner_extracts.html", {"outputs": outputs, "codes": codes})


@login_required
@require_GET
def commissioner_extract_download(
    request: HttpRequest, code: str, period: str, window_type: str, ext: str = "zip"
) -> FileResponse:
    _commissioner_org(request)
    output = output_selectors.commissioner_extract_get(
        user=request.user,  # type: ignore[arg-type]
        code=code,
        period=period,
        window_type=window_type,
    )
    if output is None:
        raise Http404("No such extract")
    return output_file_response(request, output, ext, kind="commissioner_extract")


def _provider_or_admin(request: HttpRequest) -> None:
    user = request.user
    if not (user.is_provider_user or user.is_portal_admin):  # type: ignore[union-attr]
        raise PermissionDenied


@login_required
@require_GET
def provider_extracts(request: HttpRequest) -> HttpResponse:
    """Spec 10.4 post-deadline extracts of the user's organisation (every provider's for administrators)."""
    _provider_or_admin(request)
    outputs = output_selectors.provider_extracts_for_user(user=request.user)  # type: ignore[arg-type]
    return render(request, "reporting/provider_extracts.html", {"outputs": outputs})


@login_required
@require_GET
def provider_extract_download(
    request: HttpRequest, org_code: str, period: str, window_type: str, ext: str
) -> FileResponse:
    _provider_or_admin(request)
    output = output_selectors.provider_extract_get(
        user=request.user,  # type: ignore[arg-type]
        org_code=org_code,
        period=period,
        window_type=window_type,
    )
    if output is None:
        raise Http404("No such extract")
    return output_file_response(request, output, ext, kind=f"post_deadline_extract_{ext}")


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
