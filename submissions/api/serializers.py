"""JSON shapes of the submissions API (read-only representations and the upload request)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api import LondonDateTimeField

from ..models import Status, Submission, WindowType, period_validator


class PeriodSerializer(serializers.Serializer):
    period = serializers.CharField(help_text="Reporting period, YYYY-MM.")
    window_type = serializers.ChoiceField(choices=WindowType.choices)
    live_submission_id = serializers.CharField(
        allow_null=True, help_text="Your organisation's live submission for the pair (providers only)."
    )


class WindowSerializer(serializers.Serializer):
    code = serializers.CharField()
    opens_at = serializers.CharField(help_text="ISO 8601, Europe/London with its offset.")
    closes_at = serializers.CharField(help_text="First instant after the window (00:00 on the next day).")
    deadline = serializers.CharField(help_text="23:59:59 on the close date, as users are told.")
    days_left = serializers.IntegerField(help_text="Whole days from today (UK) to the close date.")
    periods = PeriodSerializer(many=True)


class WindowListSerializer(serializers.Serializer):
    now = serializers.CharField()
    windows = WindowSerializer(many=True)


class LinksSerializer(serializers.Serializer):
    self = serializers.CharField()
    report_csv = serializers.CharField()
    report_xlsx = serializers.CharField()
    report_json = serializers.CharField()
    dq_json = serializers.CharField()
    extract_zip = serializers.CharField()


class SubmissionSerializer(serializers.ModelSerializer):
    submission_id = serializers.CharField(read_only=True)
    organisation = serializers.CharField(source="organisation.code", read_only=True)
    window = serializers.CharField(source="window.code", read_only=True, allow_null=True, default=None)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    final = serializers.BooleanField(source="is_final", read_only=True)
    successful = serializers.BooleanField(source="is_successful", read_only=True)
    superseded_by = serializers.SerializerMethodField()
    received_at = LondonDateTimeField(read_only=True)
    finished_at = LondonDateTimeField(read_only=True, allow_null=True)
    file_name = serializers.CharField(source="original_name", read_only=True)
    uploaded_by = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = [
            "submission_id",
            "organisation",
            "bsp_unique_id",
            "period",
            "window_type",
            "window",
            "status",
            "status_label",
            "final",
            "successful",
            "is_live",
            "superseded_by",
            "received_at",
            "finished_at",
            "file_name",
            "size",
            "sha256",
            "uploaded_by",
            "profile",
            "total_records",
            "rule_set_version",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_superseded_by(self, sub: Submission) -> str | None:
        return sub.superseded_by.submission_id if sub.superseded_by_id else None  # type: ignore[union-attr]

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text="Username; api-iapt_… names the API token.")
    )
    def get_uploaded_by(self, sub: Submission) -> str | None:
        return sub.uploaded_by.username if sub.uploaded_by_id else None  # type: ignore[union-attr]

    @extend_schema_field(LinksSerializer)
    def get_links(self, sub: Submission) -> dict[str, str]:
        sid = sub.submission_id
        return {
            "self": reverse("api-submission-detail", kwargs={"submission_id": sid}),
            "report_csv": reverse("api-submission-report", kwargs={"submission_id": sid, "fmt": "csv"}),
            "report_xlsx": reverse("api-submission-report", kwargs={"submission_id": sid, "fmt": "xlsx"}),
            "report_json": reverse("api-submission-report", kwargs={"submission_id": sid, "fmt": "json"}),
            "dq_json": reverse("api-submission-dq", kwargs={"submission_id": sid, "fmt": "json"}),
            "extract_zip": reverse("api-submission-extract", kwargs={"submission_id": sid}),
        }


class ProgressSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField()
    stage = serializers.CharField(help_text="queued, reading, validating, loading, retrying, done or error")
    stage_label = serializers.CharField()
    table = serializers.CharField()
    percent = serializers.IntegerField()
    queue_position = serializers.IntegerField()
    final = serializers.BooleanField()


class TableCountSerializer(serializers.Serializer):
    table = serializers.CharField()
    rows_read = serializers.IntegerField()
    rows_accepted = serializers.IntegerField()
    rows_rejected_record = serializers.IntegerField()
    rows_rejected_group = serializers.IntegerField()
    rows_with_warnings = serializers.IntegerField()


class RuleCountSerializer(serializers.Serializer):
    rule_id = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()
    count = serializers.IntegerField()


class SubmissionDetailSerializer(SubmissionSerializer):
    progress = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()
    counts = TableCountSerializer(source="table_counts", many=True, read_only=True)
    rule_counts = RuleCountSerializer(many=True, read_only=True)

    class Meta(SubmissionSerializer.Meta):
        fields = [*SubmissionSerializer.Meta.fields, "outcome", "progress", "counts", "rule_counts"]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, sub: Submission) -> dict[str, Any]:
        from ..views import progress_payload

        return progress_payload(sub)

    @extend_schema_field(
        serializers.CharField(
            allow_null=True,
            help_text="Spec 7.2 outcome (Rejected, Partially accepted, Accepted with warnings, Accepted); "
            "null until final and for ERROR.",
        )
    )
    def get_outcome(self, sub: Submission) -> str | None:
        if not sub.is_final or sub.status == Status.ERROR:
            return None
        return sub.get_status_display()


class SubmissionCreateSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # an empty file is a recorded FILE004 refusal, as in the web (spec 4.1)
        help_text="The IDB: .mdb, .accdb, .zip of CSVs or .xlsx.",
    )
    period = serializers.CharField(validators=[period_validator], help_text="Reporting period, YYYY-MM.")
    window_type = serializers.ChoiceField(choices=WindowType.choices)


class DuplicateDetailsSerializer(serializers.Serializer):
    submission = SubmissionSerializer(help_text="The earlier submission this file is identical to.")


class DuplicateFileErrorSerializer(serializers.Serializer):
    """409 on upload: the file is identical to the latest submission of the pair (nothing was recorded)."""

    message = serializers.CharField()
    code = serializers.CharField(help_text="duplicate_file")
    details = DuplicateDetailsSerializer()


class SubmissionFilterSerializer(serializers.Serializer):
    period = serializers.CharField(required=False, validators=[period_validator])
    window_type = serializers.ChoiceField(choices=WindowType.choices, required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    live = serializers.BooleanField(required=False, allow_null=True, default=None)


class ReportFindingSerializer(serializers.Serializer):
    rule_id = serializers.CharField()
    severity = serializers.CharField()
    table = serializers.CharField(allow_null=True)
    row_number = serializers.IntegerField(allow_null=True)
    record_key = serializers.DictField(child=serializers.CharField(), allow_null=True)
    column = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ReportSubmissionSerializer(serializers.Serializer):
    submission_id = serializers.CharField()
    provider = serializers.CharField()
    reporting_period = serializers.CharField()
    window_type = serializers.CharField()
    profile = serializers.CharField(allow_null=True)
    received_at = serializers.CharField()
    status = serializers.CharField()
    file_name = serializers.CharField()


class ReportJsonSerializer(serializers.Serializer):
    """The validation report as JSON (spec 10.1)."""

    submission = ReportSubmissionSerializer()
    counts = TableCountSerializer(many=True)
    findings = ReportFindingSerializer(many=True)
