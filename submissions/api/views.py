"""/api/v1/ views for windows and submissions. Thin: selectors read, services write, web views stream.

Downloads that the web already serves (validation report CSV/XLSX, pre-deadline extract) are handed to
those views, so scoping, file names and the audit row are the same whichever way a file is fetched.
"""

from __future__ import annotations

import tempfile

import polars as pl
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api import (
    ApiPagination,
    ApiRateThrottle,
    ApiUploadThrottle,
    ApiView,
    ProviderAccess,
    error_body,
    error_responses,
    london_iso,
)
from portal.models import ApiScope
from portal.services import audit_record
from reporting.dq_selectors import table_counts
from reporting.writers import write_report_json

from .. import selectors, services
from .. import views as web
from ..models import Status, Submission
from .serializers import (
    DuplicateFileErrorSerializer,
    ReportJsonSerializer,
    SubmissionCreateSerializer,
    SubmissionDetailSerializer,
    SubmissionFilterSerializer,
    SubmissionSerializer,
    WindowListSerializer,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUBMISSION_ID_PARAM = OpenApiParameter(
    "submission_id",
    str,
    OpenApiParameter.PATH,
    pattern=r"^[A-Z0-9]{3,6}-[0-9]{7}$",
    description="SUBMISSION_ID, e.g. TSTP1-0000012.",
)


class NotReady(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The submission has not reached a final status yet: poll it and try again."
    default_code = "not_ready"


def get_submission(request: Request, submission_id: str) -> Submission:
    code, _, number = submission_id.rpartition("-")
    sub = (
        selectors.submission_get_for_user(
            user=request.user, organisation_code=code, bsp_unique_id=int(number)
        )  # type: ignore[arg-type]
        if code and number.isdigit()
        else None
    )
    if sub is None:
        raise Http404("No such submission.")
    return sub


class WindowListView(ApiView):
    @extend_schema(
        operation_id="windows_list",
        summary="Open submission windows",
        description="Windows open now with their Primary and Refresh periods and deadline (Europe/London "
        "times with their offsets), as on the Submissions page.",
        responses={200: WindowListSerializer, **error_responses()},
        tags=["windows"],
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        user = request.user
        windows = []
        for w in selectors.windows_open_at(at=now):
            facts = web.deadline_facts(w, now)
            periods = []
            for period, wt in ((w.primary_rp, "Primary"), (w.refresh_rp, "Refresh")):
                live = (
                    selectors.live_submission(organisation=user.organisation, period=period, window_type=wt)  # type: ignore[union-attr,arg-type]
                    if user.is_provider_user  # type: ignore[union-attr]
                    else None
                )
                periods.append(
                    {
                        "period": period,
                        "window_type": wt,
                        "live_submission_id": live.submission_id if live else None,
                    }
                )
            windows.append(
                {
                    "code": w.code,
                    "opens_at": london_iso(w.opens_at),
                    "closes_at": london_iso(w.closes_at),
                    "deadline": london_iso(facts["deadline_local"]),
                    "days_left": facts["days_left"],
                    "periods": periods,
                }
            )
        return Response({"now": london_iso(now), "windows": windows})


class SubmissionListView(ApiView):
    permission_classes = [*ApiView.permission_classes, ProviderAccess]
    throttle_classes = [ApiRateThrottle, ApiUploadThrottle]
    parser_classes = [MultiPartParser]
    pagination_class = ApiPagination
    required_scopes = {"POST": ApiScope.SUBMIT}

    @extend_schema(
        operation_id="submissions_list",
        summary="Your organisation's submissions",
        description="Newest first; administrators see every organisation's.",
        parameters=[SubmissionFilterSerializer],
        responses={200: SubmissionSerializer(many=True), **error_responses(400)},
        tags=["submissions"],
    )
    def get(self, request: Request) -> Response:
        filters = SubmissionFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.submission_list_for_user(user=request.user).select_related(  # type: ignore[arg-type]
            "superseded_by__organisation"
        )
        for field in ("period", "window_type", "status"):
            if filters.validated_data.get(field):
                qs = qs.filter(**{field: filters.validated_data[field]})
        if filters.validated_data.get("live") is not None:
            qs = qs.filter(is_live=filters.validated_data["live"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(SubmissionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="submissions_create",
        summary="Submit a file",
        description=(
            "Multipart upload with the same gate, streaming, hashing and BSP_UNIQUE_ID allocation as the "
            "web. 201 whenever a submission was recorded, including a file refused on receipt (FILE001 late, "
            "FILE002 window not open, FILE003 extension, FILE004 size): it has status REJECTED and its "
            "finding in rule_counts, and its validation report can be downloaded. Otherwise the status is "
            "RECEIVED: poll the submission until final is true. Needs the submit scope. "
            "409 duplicate_file when the file has the same SHA-256 as the latest submission of the same "
            "period and window type, received under the same rule set and not ERROR: nothing is recorded, "
            "details.submission is that earlier submission and Location points at it (poll it instead)."
        ),
        request={"multipart/form-data": SubmissionCreateSerializer},
        responses={
            201: SubmissionDetailSerializer,
            409: OpenApiResponse(
                DuplicateFileErrorSerializer,
                description="The same file as the latest submission of the pair: not stored or validated "
                "again; details.submission names it.",
            ),
            **error_responses(400),
        },
        tags=["submissions"],
    )
    def post(self, request: Request) -> Response:
        form = SubmissionCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            sub = services.submission_receive(
                user=request.user,  # type: ignore[arg-type]
                upload=form.validated_data["file"],
                period=form.validated_data["period"],
                window_type=form.validated_data["window_type"],
            )
        except services.DuplicateFile as exc:
            existing = exc.existing
            return Response(
                error_body(exc.message, exc.code, {"submission": SubmissionSerializer(existing).data}),
                status=status.HTTP_409_CONFLICT,
                headers={
                    "Location": reverse(
                        "api-submission-detail", kwargs={"submission_id": existing.submission_id}
                    )
                },
            )
        location = reverse("api-submission-detail", kwargs={"submission_id": sub.submission_id})
        return Response(
            SubmissionDetailSerializer(sub).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class SubmissionDetailView(ApiView):
    permission_classes = [*ApiView.permission_classes, ProviderAccess]

    @extend_schema(
        operation_id="submissions_retrieve",
        summary="One submission: status, progress, counts, outcome and rule counts",
        parameters=[SUBMISSION_ID_PARAM],
        responses={200: SubmissionDetailSerializer, **error_responses(404)},
        tags=["submissions"],
    )
    def get(self, request: Request, submission_id: str) -> Response:
        return Response(SubmissionDetailSerializer(get_submission(request, submission_id)).data)


class SubmissionReportView(ApiView):
    permission_classes = [*ApiView.permission_classes, ProviderAccess]

    @extend_schema(
        operation_id="submissions_report",
        summary="Validation report (spec 10.1) as CSV, XLSX or JSON",
        description="Available once the submission is final (409 before). File name "
        "<provider>_<YYYY-MM>_<Primary|Refresh>_<BSP_UNIQUE_ID>_validation.<csv|xlsx|json>.",
        parameters=[
            SUBMISSION_ID_PARAM,
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["csv", "xlsx", "json"]),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
            (200, "application/json"): ReportJsonSerializer,
            **error_responses(404, 409),
        },
        tags=["submissions"],
    )
    def get(self, request: Request, submission_id: str, fmt: str) -> HttpResponseBase:
        sub = get_submission(request, submission_id)
        if not sub.is_final:
            raise NotReady()
        if fmt != "json":
            return web.submission_report(request._request, submission_id=submission_id, fmt=fmt)
        return _report_json(request, sub)


def _report_json(request: Request, sub: Submission) -> FileResponse:
    """The JSON report, written from the stored findings by reporting.writers.write_report_json."""
    if not sub.findings_file or not default_storage.exists(sub.findings_file):
        raise Http404("No report is stored for this submission.")
    with default_storage.open(sub.findings_file, "rb") as fh:
        findings = pl.read_parquet(fh)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by FileResponse
    write_report_json(
        findings,
        table_counts(submission=sub) or None,
        submission={
            "submission_id": sub.submission_id,
            "provider": sub.organisation.code,
            "reporting_period": sub.period,
            "window_type": sub.window_type,
            "profile": sub.profile or None,
            "received_at": sub.received_at,
            "status": sub.outcome_label if sub.status != Status.ERROR else "Error",
            "file_name": sub.original_name,
        },
        out=out,
    )
    out.seek(0)
    filename = web.report_filename(sub, "json")
    audit_record(
        action="download",
        actor=request.user,  # type: ignore[arg-type]
        organisation=sub.organisation,
        obj=sub,
        details={"kind": "validation_report_json", "file": filename},
    )
    return FileResponse(out, as_attachment=True, filename=filename, content_type="application/json")


class SubmissionExtractView(ApiView):
    permission_classes = [*ApiView.permission_classes, ProviderAccess]

    @extend_schema(
        operation_id="submissions_extract",
        summary="Pre-deadline extract (spec 10.3) of a successful submission, as a ZIP of CSVs",
        parameters=[SUBMISSION_ID_PARAM],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="ZIP of CSV files"),
            **error_responses(404, 409),
        },
        tags=["submissions"],
    )
    def get(self, request: Request, submission_id: str) -> HttpResponseBase:
        sub = get_submission(request, submission_id)
        if not sub.is_final:
            raise NotReady()
        return web.submission_extract(request._request, submission_id=submission_id)
