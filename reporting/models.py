"""Stored accepted data: one table per data-set table, every row keyed to its submission.

The models are generated from the data-set definition (``validation.dataset.DATASET``, spec 3.5):
``submission`` and ``row_number`` (together the primary key), then one nullable ``TextField`` per
spec column in 3.5 order (field name = spec name lower-cased, ``db_column`` = the exact spec name),
then the derived columns of spec 10.4 for Person, Referral and Appointment. Every value is the
engine's normalised text (spec 4.5): text, never ``varchar(n)``, because values loaded with a
warning (``POSTCODE`` under PER150, ``PROVDIAG`` under REF200) may be longer than declared.

Rows are written only by ``reporting.loading.accepted_rows_load`` (bulk COPY / executemany) and read
by ``reporting.data_selectors``. Superseded submissions keep their rows (spec 7.3: history kept);
deleting a submission deletes its rows.
"""

from __future__ import annotations

from django.db import models

from submissions.models import Submission, Window
from validation.dataset import DATASET

from .derived.constants import DERIVED_COLUMNS

# Spec 10.4 derived columns, in the order of section 9: the one list reporting.derived computes.

# Indexes beyond the primary key (submission, row_number), for the joins and filters that matter:
# commissioner scoping (ORGCODECOMM), and parent/child joins on LPTID, SERVICEID, APPTID.
# Appointment has no (submission, APPTID) index: no query filters Appointment on APPTID (the rows under a
# commissioner's appointments are found through Appointment's SERVICEID index and the children's APPTID
# index), and maintaining it was ~14 % of the server CPU of a 1 M-row load (0.4 of 3.0 s).
_INDEXED: dict[str, tuple[str, ...]] = {
    "Person": ("LPTID",),
    "Disability": ("LPTID",),
    "Referral": ("LPTID", "SERVICEID", "ORGCODECOMM"),
    "Appointment": ("SERVICEID",),
    "AssessmentPEQ": ("SERVICEID",),
    "TreatmentPEQ": ("SERVICEID",),
    "WaitingTimePause": ("SERVICEID",),
    "LTCCondition": ("SERVICEID",),
    "MUSSymptom": ("SERVICEID",),
    "LTCAppointment": ("APPTID",),
    "EmploymentAdviser": ("APPTID",),
}

_ABBREV = {
    "Person": "per",
    "Disability": "dis",
    "Referral": "ref",
    "Appointment": "app",
    "AssessmentPEQ": "apq",
    "TreatmentPEQ": "tpq",
    "WaitingTimePause": "wtp",
    "LTCCondition": "ltc",
    "MUSSymptom": "mus",
    "LTCAppointment": "lta",
    "EmploymentAdviser": "ea",
}


class AcceptedRow(models.Model):
    """Columns every accepted-row table has; (submission, row_number) is the primary key."""

    pk = models.CompositePrimaryKey("submission", "row_number")
    # The primary key's index leads with submission_id, so the FK needs no index of its own. No database
    # constraint: its per-row check cost a third of the load time (about 6 s per million rows); the
    # loader locks the submission row instead, and Django's CASCADE deletes the rows with the submission.
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    row_number = models.IntegerField()

    table_name: str = ""  # the data-set table (set on each concrete model)

    class Meta:
        abstract = True


class AcceptedDataLoad(models.Model):
    """Marks a submission whose accepted rows are in the tables below (written in the load's transaction).

    ``tables`` holds the rows loaded per data-set table, in the order given to the loader; tables absent
    from it were not part of the submission's accepted data. A submission without this row was processed
    before accepted data went into the database (its rows are only in the ``accepted_dir`` parquet files).
    """

    submission = models.OneToOneField(
        Submission, on_delete=models.CASCADE, primary_key=True, related_name="accepted_load"
    )
    loaded_at = models.DateTimeField(auto_now=True)
    tables = models.JSONField(default=dict)
    seconds = models.FloatField(default=0.0)
    # Whether the derived columns of spec 10.4 were loaded with the rows (issue 5); loads written before
    # derived items were stored have them blank and are derived again when they are read for outputs.
    derived = models.BooleanField(default=False)

    class Meta:
        verbose_name = "accepted data load"

    def __str__(self) -> str:
        return f"{self.submission_id}: {sum(self.tables.values())} rows"


def _model_for(table: str) -> type[AcceptedRow]:
    spec = DATASET.tables[table]
    attrs: dict[str, object] = {"__module__": __name__, "table_name": table}
    for name in (*spec.column_names, *DERIVED_COLUMNS.get(table, ())):
        attrs[name.lower()] = models.TextField(null=True, blank=True, db_column=name)
    abbrev = _ABBREV.get(table, table.lower())
    attrs["Meta"] = type(
        "Meta",
        (),
        {
            "db_table": f"reporting_accepted_{table.lower()}",
            "verbose_name": f"accepted {table} row",
            "indexes": [
                models.Index(fields=["submission", col.lower()], name=f"acc_{abbrev}_{col.lower()}"[:30])
                for col in _INDEXED.get(table, ())
            ],
        },
    )
    return type(f"Accepted{table}", (AcceptedRow,), attrs)


# Data-set table name -> model, in spec section 3 order (Header first).
ACCEPTED_MODELS: dict[str, type[AcceptedRow]] = {table: _model_for(table) for table in DATASET.tables}

AcceptedHeader = ACCEPTED_MODELS["Header"]
AcceptedPerson = ACCEPTED_MODELS["Person"]
AcceptedDisability = ACCEPTED_MODELS["Disability"]
AcceptedReferral = ACCEPTED_MODELS["Referral"]
AcceptedAppointment = ACCEPTED_MODELS["Appointment"]
AcceptedAssessmentPEQ = ACCEPTED_MODELS["AssessmentPEQ"]
AcceptedTreatmentPEQ = ACCEPTED_MODELS["TreatmentPEQ"]
AcceptedWaitingTimePause = ACCEPTED_MODELS["WaitingTimePause"]
AcceptedLTCCondition = ACCEPTED_MODELS["LTCCondition"]
AcceptedMUSSymptom = ACCEPTED_MODELS["MUSSymptom"]
AcceptedLTCAppointment = ACCEPTED_MODELS["LTCAppointment"]
AcceptedEmploymentAdviser = ACCEPTED_MODELS["EmploymentAdviser"]


def stored_columns(table: str) -> tuple[str, ...]:
    """The spec columns (3.5 order) then the derived columns (10.4) stored for a table."""
    return (*DATASET.tables[table].column_names, *DERIVED_COLUMNS.get(table, ()))


# ------------------------------------------------------------------------------ post-deadline outputs


class OutputKind(models.TextChoices):
    PROVIDER_EXTRACT = "provider_extract", "Post-deadline extract (10.4)"
    COMMISSIONER_EXTRACT = "commissioner_extract", "Commissioner extract (10.5)"
    STATISTICS = "statistics", "Monthly statistics (10.6)"


class PostDeadlineRun(models.Model):
    """Post-deadline processing of one window (spec 7.3, 10.4-10.6): when it last started and finished.

    ``finished_at`` is null while a run is due: after the window is locked, after a live change that
    came after the run (a file received before the close that finished validating later), or when an
    administrator asks for a re-run. The close task claims a due run and finishes it.
    """

    window = models.OneToOneField(
        Window, on_delete=models.CASCADE, primary_key=True, related_name="post_deadline"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = "post-deadline run"

    def __str__(self) -> str:
        return f"{self.window_id}: {'finished' if self.finished_at else 'due'}"


class PostDeadlineOutput(models.Model):
    """One produced post-deadline file set: a provider's 10.4 extract of one (RP, window type), a
    commissioner code's 10.5 extract, or one RP's 10.6 statistics (Provisional or Final).

    ``files`` maps a format (``zip``, ``xlsx``, ``csv``, ``json``) to its storage name. ``org_code`` is the
    provider (10.4) or commissioner code (10.5), blank for statistics; ``status`` is ``Provisional`` or
    ``Final`` for statistics, blank otherwise.
    """

    window = models.ForeignKey(Window, on_delete=models.CASCADE, related_name="outputs")
    kind = models.CharField(max_length=24, choices=OutputKind.choices)
    org_code = models.CharField(max_length=8, blank=True, db_index=True)
    period = models.CharField(max_length=7)
    window_type = models.CharField(max_length=7)
    status = models.CharField(max_length=12, blank=True)
    submission = models.ForeignKey(
        Submission, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    providers = models.JSONField(default=list, help_text="Provider codes whose data is in the files")
    files = models.JSONField(default=dict)
    rows = models.JSONField(default=dict, help_text="Rows per table (extracts) or statistics rows")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-period", "kind", "org_code", "window_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["window", "kind", "org_code", "period", "window_type"],
                name="unique_post_deadline_output",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.org_code or 'national'} {self.period} {self.window_type}"

    def file_name(self, fmt: str) -> str:
        """The name users download (the stored name's last part)."""
        return self.files[fmt].rsplit("/", 1)[-1]

    @property
    def zip_name(self) -> str:
        return self.file_name("zip") if "zip" in self.files else ""

    @property
    def xlsx_name(self) -> str:
        return self.file_name("xlsx") if "xlsx" in self.files else ""


class StatisticsValue(models.Model):
    """One published value (spec 10.6 ``VALUE``, after suppression and rounding) of a statistics output."""

    output = models.ForeignKey(PostDeadlineOutput, on_delete=models.CASCADE, related_name="values")
    level = models.CharField(max_length=16)
    org_code = models.CharField(max_length=8, blank=True)
    measure_id = models.CharField(max_length=4)
    value = models.CharField(max_length=16)

    class Meta:
        indexes = [models.Index(fields=["level", "org_code", "measure_id"], name="stat_level_org_measure")]

    def __str__(self) -> str:
        return f"{self.level} {self.org_code} {self.measure_id}={self.value}"
