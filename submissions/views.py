"""Pages of the provider's submission journey. Thin: forms, selectors and services do the work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from portal.errors import PortalError
from portal.services import audit_record
from reporting.selectors import submission_cascade_roots
from reporting.writers import extract_file_name, report_file_name

from . import selectors, services
from .forms import UploadForm
from .models import Submission, WindowType
from .timetable import LONDON

STAGE_LABELS = {
    "queued": "Queued",
    "reading": "Reading the file",
    "validating": "Validating",
    "loading": "Loading accepted rows and writing reports",
    "retrying": "Waiting to retry",
    "done": "Done",
    "error": "Processing failed",
}


def provider_access(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed-in provider users and administrators only."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not (user.is_provider_user or user.is_portal_admin):  # type: ignore[union-attr]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _get_submission(request: HttpRequest, submission_id: str) -> Submission:
    code, number = submission_id.rsplit("-", 1)
    sub = selectors.submission_get_for_user(
        user=request.user,  # type: ignore[arg-type]
        organisation_code=code,
        bsp_unique_id=int(number),
    )
    if sub is None:
        raise Http404("No such submission")
    return sub


def deadline_facts(window: Any, now: Any) -> dict[str, Any]:
    closes_local = window.closes_at.astimezone(LONDON)
    last_day = (closes_local - timedelta(seconds=1)).date()
    return {
        "window": window,
        "opens_local": window.opens_at.astimezone(LONDON),
        "deadline_local": closes_local - timedelta(seconds=1),
        "days_left": (last_day - now.astimezone(LONDON).date()).days,
    }


@provider_access
@require_GET
def submission_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    submissions = list(selectors.submission_list_for_user(user=user)[:200])  # type: ignore[arg-type]
    windows = []
    for w in selectors.windows_open_at(at=now):
        facts = deadline_facts(w, now)
        facts["periods"] = [
            {
                "period": period,
                "window_type": wt,
                "submissions": [
                    s
                    for s in submissions
                    if s.period == period
                    and s.window_type == wt
                    and s.organisation_id == user.organisation_id  # type: ignore[union-attr]
                ],
            }
            for period, wt in ((w.primary_rp, WindowType.PRIMARY), (w.refresh_rp, WindowType.REFRESH))
        ]
        for p in facts["periods"]:
            p["live"] = next((s for s in p["submissions"] if s.is_live), None)
        windows.append(facts)
    return render(
        request,
        "submissions/home.html",
        {"windows": windows, "submissions": submissions, "can_upload": user.can_upload},  # type: ignore[union-attr]
    )


@provider_access
@require_http_methods(["GET", "POST"])
def submission_upload(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.can_upload:  # type: ignore[union-attr]
        raise PermissionDenied
    now = timezone.now()
    choices = [
        (f"{period}|{wt}", f"{period} ({wt}, window {w.code})")
        for w, period, wt in selectors.open_pairs(at=now)
    ]
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, choices=choices)
        if form.is_valid():
            period, wt = form.cleaned_data["pair"]
            try:
                sub = services.submission_receive(
                    user=user,  # type: ignore[arg-type]
                    upload=form.cleaned_data["file"],
                    period=period,
                    window_type=wt,
                )
            except services.DuplicateFile as exc:
                # Issue 8: the same bytes as the latest submission of the pair; name it, store nothing.
                form.add_error("file", exc.message)
                return render(
                    request,
                    "submissions/upload.html",
                    {
                        "form": form,
                        "has_open": bool(choices),
                        "duplicate": exc.existing,
                        "duplicate_received_local": exc.existing.received_at.astimezone(LONDON),
                    },
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                if sub.is_final:
                    messages.error(request, f"{sub.submission_id} was not accepted. See the findings below.")
                else:
                    messages.success(request, f"{sub.submission_id} received. It is being validated.")
                return redirect("submission-detail", submission_id=sub.submission_id)
    else:
        form = UploadForm(choices=choices, initial={"pair": choices[0][0] if len(choices) == 1 else None})
    return render(request, "submissions/upload.html", {"form": form, "has_open": bool(choices)})


def progress_payload(sub: Submission) -> dict[str, Any]:
    if sub.is_final:
        stage = "error" if sub.status == "ERROR" else "done"
    elif sub.status == "RECEIVED":
        stage = "queued"
    else:
        stage = sub.progress_stage or "reading"
    position = selectors.queue_position(submission=sub) if stage == "queued" else 0
    label = STAGE_LABELS.get(stage, stage.capitalize())
    if stage == "validating" and sub.progress_table:
        label = f"Validating {sub.progress_table}"
    if stage == "queued":
        label = f"Queued: position {position} in the queue"
    return {
        "status": sub.status,
        "status_label": sub.get_status_display(),
        "stage": stage,
        "stage_label": label,
        "table": sub.progress_table,
        "percent": 100 if sub.is_final else sub.progress_pct,
        "queue_position": position,
        "final": sub.is_final,
    }


@provider_access
@require_GET
def submission_detail(request: HttpRequest, submission_id: str) -> HttpResponse:
    sub = _get_submission(request, submission_id)
    progress = progress_payload(sub)
    rule_counts = list(sub.rule_counts.all())
    context = {
        "sub": sub,
        "progress": progress,
        "progress_url": reverse("submission-progress", kwargs={"submission_id": sub.submission_id}),
        "received_local": sub.received_at.astimezone(LONDON),
        "counts": list(sub.table_counts.all()),
        "top_rules": rule_counts[:10],
        "rule_total": sum(r.count for r in rule_counts),
        "cascade_roots": submission_cascade_roots(
            findings_file=sub.findings_file, rule_ids={r.rule_id for r in rule_counts}
        ),
    }
    return render(request, "submissions/detail.html", context)


@provider_access
@require_GET
def submission_progress(request: HttpRequest, submission_id: str) -> JsonResponse:
    sub = _get_submission(request, submission_id)
    return JsonResponse(progress_payload(sub))


def _stream(request: HttpRequest, sub: Submission, name: str, filename: str, kind: str) -> FileResponse:
    if not name:
        raise Http404("Not available for this submission")
    audit_record(
        action="download",
        actor=request.user,  # type: ignore[arg-type]
        organisation=sub.organisation,
        obj=sub,
        details={"kind": kind, "file": filename},
    )
    return FileResponse(default_storage.open(name, "rb"), as_attachment=True, filename=filename)


def report_filename(sub: Submission, ext: str) -> str:
    return report_file_name(sub.organisation.code, sub.period, sub.window_type, sub.bsp_unique_id, ext)


@provider_access
@require_GET
def submission_report(request: HttpRequest, submission_id: str, fmt: str) -> FileResponse:
    sub = _get_submission(request, submission_id)
    names = {"csv": sub.report_csv, "xlsx": sub.report_xlsx}
    if fmt not in names or not sub.is_final:
        raise Http404("No such report")
    return _stream(request, sub, names[fmt], report_filename(sub, fmt), f"validation_report_{fmt}")


@provider_access
@require_GET
def submission_extract(request: HttpRequest, submission_id: str) -> FileResponse:
    sub = _get_submission(request, submission_id)
    if not sub.is_successful:
        raise Http404("Only successful submissions have an extract")
    filename = extract_file_name(sub.organisation.code, sub.period, sub.window_type, sub.bsp_unique_id, "zip")
    return _stream(request, sub, sub.extract_zip, filename, "pre_deadline_extract")
