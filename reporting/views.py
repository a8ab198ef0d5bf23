from __future__ import annotations

import tempfile
import zipfile

import polars as pl
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.models import Organisation
from portal.services import audit_record
from submissions.selectors import commissioner_submissions_for_user

from .commissioner import commissioner_subset, deidentify


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
    if sub is None or not sub.accepted_dir or not sub.commissioners.filter(code=code).exists():
        raise Http404("No such extract")
    accepted = {}
    for table in (
        "Person",
        "Disability",
        "Referral",
        "Appointment",
        "AssessmentPEQ",
        "TreatmentPEQ",
        "WaitingTimePause",
        "LTCCondition",
        "MUSSymptom",
        "LTCAppointment",
        "EmploymentAdviser",
    ):
        name = f"{sub.accepted_dir}/{table}.parquet"
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as fh:
                accepted[table] = pl.read_parquet(fh)
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
