"""Submission windows (spec 8) and submissions with their lifecycle (spec 7)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from portal.models import Organisation

period_validator = RegexValidator(r"^[0-9]{4}-(0[1-9]|1[0-2])$", "Use the form YYYY-MM.")


class WindowType(models.TextChoices):
    PRIMARY = "Primary", "Primary"
    REFRESH = "Refresh", "Refresh"


class Window(models.Model):
    """A half-open interval [opens_at, closes_at) offering two reporting periods."""

    code = models.CharField(max_length=16, unique=True, help_text="e.g. W201711")
    opens_at = models.DateTimeField(help_text="00:00 Europe/London on the opening day")
    closes_at = models.DateTimeField(help_text="00:00 Europe/London on the day after the close date")
    primary_rp = models.CharField(max_length=7, unique=True, validators=[period_validator])
    refresh_rp = models.CharField(max_length=7, unique=True, validators=[period_validator])
    locked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Generated windows are drafts until an administrator reviews and publishes them.
    published = models.BooleanField(default=True)
    # When the "window open" e-mail and the deadline reminders went out (each is sent once).
    open_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminder_5_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminder_1_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["opens_at"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="window_order")
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        if self.opens_at and self.closes_at:
            if self.closes_at <= self.opens_at:
                raise ValidationError("A window must close after it opens.")
            overlapping = Window.objects.filter(opens_at__lt=self.closes_at, closes_at__gt=self.opens_at)
            if self.pk:
                overlapping = overlapping.exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError("Windows must not overlap in time.")
        if self.primary_rp and self.primary_rp == self.refresh_rp:
            raise ValidationError("Primary and Refresh periods must differ.")

    def is_open(self, at) -> bool:  # type: ignore[no-untyped-def]
        return self.opens_at <= at < self.closes_at

    def period_for(self, window_type: str) -> str:
        return self.primary_rp if window_type == WindowType.PRIMARY else self.refresh_rp


class Status(models.TextChoices):
    RECEIVED = "RECEIVED", "Received"
    VALIDATING = "VALIDATING", "Validating"
    REJECTED = "REJECTED", "Rejected"
    PARTIALLY_ACCEPTED = "PARTIALLY_ACCEPTED", "Partially accepted"
    ACCEPTED_WITH_WARNINGS = "ACCEPTED_WITH_WARNINGS", "Accepted with warnings"
    ACCEPTED = "ACCEPTED", "Accepted"
    ERROR = "ERROR", "Error"


FINAL_STATUSES = frozenset(
    {Status.REJECTED, Status.PARTIALLY_ACCEPTED, Status.ACCEPTED_WITH_WARNINGS, Status.ACCEPTED, Status.ERROR}
)
SUCCESSFUL_STATUSES = frozenset({Status.PARTIALLY_ACCEPTED, Status.ACCEPTED_WITH_WARNINGS, Status.ACCEPTED})

# The one table of allowed transitions (enforced by services.submission_transition).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.RECEIVED: frozenset({Status.VALIDATING, Status.REJECTED, Status.ERROR}),
    Status.VALIDATING: frozenset(
        {
            Status.RECEIVED,  # re-queued after a transient failure, or by the sweeper
            Status.REJECTED,
            Status.PARTIALLY_ACCEPTED,
            Status.ACCEPTED_WITH_WARNINGS,
            Status.ACCEPTED,
            Status.ERROR,
        }
    ),
    Status.ERROR: frozenset({Status.RECEIVED}),  # an administrator may re-run it
    Status.REJECTED: frozenset(),
    Status.PARTIALLY_ACCEPTED: frozenset(),
    Status.ACCEPTED_WITH_WARNINGS: frozenset(),
    Status.ACCEPTED: frozenset(),
}


class Submission(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="submissions")
    bsp_unique_id = models.PositiveIntegerField()
    window = models.ForeignKey(
        Window, on_delete=models.PROTECT, null=True, blank=True, related_name="submissions"
    )
    period = models.CharField(max_length=7, validators=[period_validator])
    window_type = models.CharField(max_length=7, choices=WindowType.choices)
    received_at = models.DateTimeField(db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to="uploads/%Y/%m/", max_length=500, blank=True)

    status = models.CharField(max_length=24, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    profile = models.CharField(max_length=8, blank=True)
    is_live = models.BooleanField(default=False)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    total_records = models.PositiveIntegerField(null=True, blank=True)
    # Spec 10.2: evaluated once, when the DQ summary is produced at the final status ("n/a" or a count).
    pathway_continuity = models.CharField(max_length=12, blank=True)
    rule_set_version = models.CharField(max_length=64, blank=True)
    # SHA-256 of the organisation register at receipt (selectors.register_digest): an identical file is only
    # "the same context" while the register the rules read (codes, pilots, acts-for) has not changed.
    register_digest = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    # Progress while a worker processes the file (read by the status page without reloading).
    progress_stage = models.CharField(max_length=16, blank=True)
    progress_table = models.CharField(max_length=32, blank=True)
    progress_pct = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Transactional outbox: set once a processing task was published to the broker for the current
    # RECEIVED state (cleared when the sweeper re-queues); RECEIVED with none is the dispatcher's work.
    queued_at = models.DateTimeField(null=True, blank=True)
    # Written by the worker while it processes the submission; stale means the worker is gone.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The Celery task id of the run that holds it: only that task's own retries may take it over.
    task_id = models.CharField(max_length=64, blank=True)
    # Times the sweeper re-queued it since it was received (or re-run): once, then ERROR.
    sweeper_requeues = models.PositiveSmallIntegerField(default=0)

    # Artefacts written by the worker (storage names).
    findings_file = models.CharField(max_length=500, blank=True)
    report_csv = models.CharField(max_length=500, blank=True)
    report_xlsx = models.CharField(max_length=500, blank=True)
    extract_zip = models.CharField(max_length=500, blank=True)
    accepted_dir = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at", "-bsp_unique_id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "bsp_unique_id"], name="unique_bsp_number"),
        ]
        indexes = [models.Index(fields=["organisation", "period", "window_type"])]

    def __str__(self) -> str:
        return self.submission_id

    @property
    def submission_id(self) -> str:
        """SUBMISSION_ID of spec 1: provider code, '-', BSP_UNIQUE_ID zero-padded to 7 digits."""
        return f"{self.organisation.code}-{self.bsp_unique_id:07d}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_successful(self) -> bool:
        return self.status in SUCCESSFUL_STATUSES

    @property
    def outcome_label(self) -> str:
        return Status(self.status).label


class SubmissionTableCount(models.Model):
    """Row counts of spec 7.1 for one table of one submission."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="table_counts")
    position = models.PositiveSmallIntegerField()
    table = models.CharField(max_length=32)
    rows_read = models.PositiveIntegerField()
    rows_accepted = models.PositiveIntegerField()
    rows_rejected_record = models.PositiveIntegerField()
    rows_rejected_group = models.PositiveIntegerField()
    rows_with_warnings = models.PositiveIntegerField()

    class Meta:
        ordering = ["submission", "position"]
        constraints = [models.UniqueConstraint(fields=["submission", "table"], name="unique_table_count")]

    def __str__(self) -> str:
        return f"{self.table}: {self.rows_accepted}/{self.rows_read}"


class SubmissionRuleCount(models.Model):
    """How many findings each rule raised for one submission (for summaries without reading the report)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="rule_counts")
    rule_id = models.CharField(max_length=8)
    severity = models.CharField(max_length=16)
    message = models.CharField(max_length=300)
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["submission", "-count", "rule_id"]
        constraints = [models.UniqueConstraint(fields=["submission", "rule_id"], name="unique_rule_count")]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.count}"


class SubmissionCommissioner(models.Model):
    """Commissioner codes found on a submission's accepted referrals (scopes commissioner extracts)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="commissioners")
    code = models.CharField(max_length=5, db_index=True)
    referrals = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "code"], name="unique_submission_comm")]

    def __str__(self) -> str:
        return f"{self.code}: {self.referrals}"
