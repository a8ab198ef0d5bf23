"""/api/v1/ views of reporting: DQ summaries, commissioner extracts and the rule catalogue.

Included from portal/urls.py under ``api/v1/``. Files the web already serves (DQ summary downloads,
commissioner extracts) are handed to those views, so scoping, names and audit rows are the same.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.http.response import HttpResponseBase
from django.urls import re_path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api import ApiPagination, ApiView, CommissionerAccess, ProviderAccess, error_responses
from submissions.api.views import SUBMISSION_ID_PARAM, XLSX, NotReady, get_submission
from validation.dataset import DATASET
from validation.dataset.schema import Severity

from . import catalogue, output_selectors
from . import views as web

SID = r"(?P<submission_id>[A-Z0-9]{3,6}-[0-9]{7})"

# --------------------------------------------------------------------------- DQ summary (spec 10.2)


class DQColumnSerializer(serializers.Serializer):
    table = serializers.CharField()
    column = serializers.CharField()
    valid = serializers.IntegerField()
    other = serializers.IntegerField()
    default = serializers.IntegerField()
    invalid = serializers.IntegerField()
    missing = serializers.IntegerField()
    total = serializers.IntegerField()
    valid_pct = serializers.FloatField(allow_null=True)


class DQJsonSerializer(serializers.Serializer):
    submission_id = serializers.CharField()
    counts = serializers.ListField(child=serializers.DictField())
    pathway_continuity = serializers.JSONField(help_text='A count, or "n/a".')
    columns = DQColumnSerializer(many=True)


class SubmissionDQView(ApiView):
    permission_classes = [*ApiView.permission_classes, ProviderAccess]

    @extend_schema(
        operation_id="submissions_dq",
        summary="Data quality summary (spec 10.2) of a successful submission as CSV, XLSX or JSON",
        parameters=[
            SUBMISSION_ID_PARAM,
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["csv", "xlsx", "json"]),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
            (200, "application/json"): DQJsonSerializer,
            **error_responses(404, 409),
        },
        tags=["submissions"],
    )
    def get(self, request: Request, submission_id: str, fmt: str) -> HttpResponseBase:
        sub = get_submission(request, submission_id)
        if not sub.is_final:
            raise NotReady()
        return web.submission_dq_download(request._request, submission_id=submission_id, fmt=fmt)


# --------------------------------------------------------------------------- commissioner extracts


class CommissionerExtractSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Commissioner code (ORGCODECOMM).")
    period = serializers.CharField(help_text="Reporting period, YYYY-MM.")
    window_type = serializers.CharField(help_text="Primary or Refresh.")
    window = serializers.CharField(help_text="The window whose close made the extract.")
    providers = serializers.ListField(child=serializers.CharField(), help_text="Providers with rows in it.")
    referrals = serializers.IntegerField(help_text="Referrals in the extract.")
    created_at = serializers.DateTimeField()
    file_name = serializers.CharField(help_text="COMM_<code>_<YYYY-MM>_<Primary|Refresh>.zip")
    download = serializers.CharField()


class CommissionerExtractListView(ApiView):
    permission_classes = [*ApiView.permission_classes, CommissionerAccess]
    pagination_class = ApiPagination

    @extend_schema(
        operation_id="commissioner_extracts_list",
        summary="Commissioner extracts (spec 10.5) of your commissioner codes, made when a window closes",
        description="For commissioner and CSU organisations (a CSU sees the codes it acts for).",
        responses={200: CommissionerExtractSerializer(many=True), **error_responses()},
        tags=["commissioner extracts"],
    )
    def get(self, request: Request) -> Response:
        rows = [
            {
                "code": o.org_code,
                "period": o.period,
                "window_type": o.window_type,
                "window": o.window.code,
                "providers": o.providers,
                "referrals": int(o.rows.get("Referral", 0)),
                "created_at": o.created_at,
                "file_name": o.zip_name,
                "download": reverse(
                    "api-commissioner-extract-download",
                    kwargs={"code": o.org_code, "period": o.period, "window_type": o.window_type},
                ),
            }
            for o in output_selectors.commissioner_extracts_for_user(user=request.user)  # type: ignore[arg-type]
        ]
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)  # type: ignore[arg-type]
        return paginator.get_paginated_response(CommissionerExtractSerializer(page, many=True).data)


class CommissionerExtractDownloadView(ApiView):
    permission_classes = [*ApiView.permission_classes, CommissionerAccess]

    @extend_schema(
        operation_id="commissioner_extracts_download",
        summary="Download one commissioner extract (ZIP of CSVs, pseudonymised)",
        parameters=[
            OpenApiParameter("code", str, OpenApiParameter.PATH, pattern=r"^[A-Z0-9]{3,5}$"),
            OpenApiParameter("period", str, OpenApiParameter.PATH, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$"),
            OpenApiParameter("window_type", str, OpenApiParameter.PATH, enum=["Primary", "Refresh"]),
        ],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="ZIP of CSV files"),
            **error_responses(404),
        },
        tags=["commissioner extracts"],
    )
    def get(self, request: Request, code: str, period: str, window_type: str) -> HttpResponseBase:
        return web.commissioner_extract_download(
            request._request, code=code, period=period, window_type=window_type, ext="zip"
        )


# --------------------------------------------------------------------------- rule catalogue


class RuleSerializer(serializers.Serializer):
    id = serializers.CharField()
    severity = serializers.CharField()
    stage = serializers.CharField(source="stage_label")
    table = serializers.CharField(allow_null=True)
    columns = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()
    url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField())
    def get_url(self, rule: Any) -> str:
        return reverse("api-rule-detail", kwargs={"rule_id": rule.id})


class RuleColumnSerializer(serializers.Serializer):
    table = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    obligation = serializers.CharField()
    obligation_label = serializers.CharField()
    rules = serializers.CharField(help_text="Code list / format / range.")
    key = serializers.CharField()
    description = serializers.CharField()


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    meaning = serializers.CharField()
    kind = serializers.CharField(help_text="valid, default or other (DQ category).")


class CodeListSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    codes = serializers.SerializerMethodField()

    @extend_schema_field(CodeSerializer(many=True))
    def get_codes(self, info: Any) -> list[dict[str, str]]:
        return [{"code": c, "meaning": m, "kind": k} for c, m, k in info.codes]


class RangeSerializer(serializers.Serializer):
    column = serializers.CharField()
    low = serializers.CharField()
    high = serializers.CharField()


class RuleDetailSerializer(RuleSerializer):
    condition = serializers.CharField()
    kind = serializers.CharField()
    severity_meaning = serializers.CharField()
    rule_columns = RuleColumnSerializer(many=True, help_text="The columns the rule is about.")
    example = serializers.CharField()
    fix = serializers.CharField()
    code_lists = CodeListSerializer(many=True)
    ranges = RangeSerializer(many=True)


class RuleFilterSerializer(serializers.Serializer):
    table = serializers.ChoiceField(
        choices=[catalogue.FILE_LEVEL, *DATASET.tables],
        required=False,
        help_text=f"A table name, or '{catalogue.FILE_LEVEL}' for file-level rules.",
    )
    severity = serializers.ChoiceField(choices=[s.value for s in Severity], required=False)


class RuleListView(ApiView):
    pagination_class = ApiPagination

    @extend_schema(
        operation_id="rules_list",
        summary="The rule catalogue (spec 6.4), in catalogue order",
        parameters=[RuleFilterSerializer],
        responses={200: RuleSerializer(many=True), **error_responses(400)},
        tags=["rules"],
    )
    def get(self, request: Request) -> Response:
        filters = RuleFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rules = catalogue.rule_rows(
            table=filters.validated_data.get("table", ""), severity=filters.validated_data.get("severity", "")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rules, request, view=self)  # type: ignore[arg-type]
        return paginator.get_paginated_response(RuleSerializer(page, many=True).data)


class RuleDetailView(ApiView):
    @extend_schema(
        operation_id="rules_retrieve",
        summary="One rule with its columns, an example and how to fix it",
        parameters=[OpenApiParameter("rule_id", str, OpenApiParameter.PATH, pattern=r"^[A-Z]{2,4}[0-9]{3}$")],
        responses={200: RuleDetailSerializer, **error_responses(404)},
        tags=["rules"],
    )
    def get(self, request: Request, rule_id: str) -> Response:
        if rule_id not in DATASET.rules:
            raise Http404("No such rule.")
        entry = catalogue.rule_entry(rule_id)
        rule = entry.rule
        data = {
            **RuleSerializer(rule).data,
            "condition": rule.condition,
            "kind": str(entry.kind),
            "severity_meaning": entry.severity_meaning,
            "rule_columns": RuleColumnSerializer(entry.columns, many=True).data,
            "example": entry.help.example,
            "fix": entry.help.fix,
            "code_lists": CodeListSerializer(entry.help.code_lists, many=True).data,
            "ranges": [{"column": c, "low": str(lo), "high": str(hi)} for c, lo, hi in entry.help.ranges],
        }
        return Response(data)


urlpatterns = [
    re_path(
        rf"^submissions/{SID}/dq\.(?P<fmt>csv|xlsx|json)$",
        SubmissionDQView.as_view(),
        name="api-submission-dq",
    ),
    re_path(
        r"^commissioner-extracts/$", CommissionerExtractListView.as_view(), name="api-commissioner-extracts"
    ),
    re_path(
        r"^commissioner-extracts/(?P<code>[A-Z0-9]{3,5})/(?P<period>[0-9]{4}-(?:0[1-9]|1[0-2]))/"
        r"(?P<window_type>Primary|Refresh)\.zip$",
        CommissionerExtractDownloadView.as_view(),
        name="api-commissioner-extract-download",
    ),
    re_path(r"^rules/$", RuleListView.as_view(), name="api-rules"),
    re_path(r"^rules/(?P<rule_id>[A-Z]{2,4}[0-9]{3})/$", RuleDetailView.as_view(), name="api-rule-detail"),
]
