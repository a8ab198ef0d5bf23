"""Reads for the reporting pages: a submission's stored accepted rows and what the DQ summary needs.

Submissions are found through ``submissions.selectors`` (scoped to the user); nothing here writes.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl
from django.core.files.storage import default_storage

from portal.models import User
from submissions import selectors as submission_selectors
from submissions.models import Submission, WindowType
from submissions.timetable import add_months
from validation.dataset import DATASET
from validation.model import TableCounts

from . import data_selectors
from .dq import DQReport, dq_report, open_serviceids


def submission_for_user(*, user: User, submission_id: str) -> Submission | None:
    """The submission ``TSTP1-0000012`` if the user may see it, else None."""
    code, _, number = submission_id.rpartition("-")
    if not code or not number.isdigit():
        return None
    return submission_selectors.submission_get_for_user(
        user=user, organisation_code=code, bsp_unique_id=int(number)
    )


def has_accepted_rows(*, submission: Submission) -> bool:
    """Whether the submission has stored accepted rows (in the database, or legacy parquet files)."""
    return bool(submission.accepted_dir) or data_selectors.accepted_tables(submission=submission) is not None


def accepted_frames(
    *, submission: Submission, tables: tuple[str, ...] | None = None
) -> dict[str, pl.DataFrame]:
    """The stored accepted rows of the tables that were stored (``ROW_NUMBER`` then spec 3.5 columns).

    Read from the accepted-data tables (one query per table); a submission processed before accepted
    data went into the database falls back to its ``<accepted_dir>/<Table>.parquet`` files.
    """
    wanted = tables or tuple(DATASET.tables)
    loaded = data_selectors.accepted_tables(submission=submission)
    if loaded is not None:
        return {
            table: data_selectors.accepted_frame(submission=submission, table=table)
            for table in wanted
            if table in loaded
        }
    if not submission.accepted_dir:
        return {}
    frames: dict[str, pl.DataFrame] = {}
    for table in wanted:
        name = f"{submission.accepted_dir}/{table}.parquet"
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as fh:
                frames[table] = pl.read_parquet(fh)
    return frames


def table_counts(*, submission: Submission) -> dict[str, TableCounts]:
    return {
        c.table: TableCounts(
            read=c.rows_read,
            accepted=c.rows_accepted,
            rejected_record=c.rows_rejected_record,
            rejected_group=c.rows_rejected_group,
            with_warnings=c.rows_with_warnings,
        )
        for c in submission.table_counts.order_by("position")
    }


def previous_period(period: str) -> str:
    return add_months(period, -1)


def effective_submission(*, submission: Submission, period: str) -> Submission | None:
    """Spec 1: for (provider, RP) the live Refresh submission if one exists, else the live Primary."""
    for window_type in (WindowType.REFRESH, WindowType.PRIMARY):
        live = submission_selectors.live_submission(
            organisation=submission.organisation, period=period, window_type=window_type
        )
        if live is not None:
            return live
    return None


def previous_open_serviceids(*, submission: Submission) -> set[str] | None:
    """Open referrals (blank ENDDATE) of the provider's effective submission for the previous RP, or None."""
    previous = effective_submission(submission=submission, period=previous_period(submission.period))
    if previous is None:
        return None
    frames = accepted_frames(submission=previous, tables=("Referral",))
    return open_serviceids(frames.get("Referral"))


def submission_dq_report(*, submission: Submission) -> DQReport:
    """The DQ summary of a successful submission, computed from its stored accepted rows.

    Pathway continuity is the figure stored when the submission finished (spec 10.2: evaluated once);
    submissions processed before it was stored fall back to the previous RP's effective submission now.
    """
    report = dq_report(
        accepted_frames(submission=submission),
        table_counts(submission=submission) or None,
        submission_id=submission.submission_id,
        previous_open_serviceids=(
            None if submission.pathway_continuity else previous_open_serviceids(submission=submission)
        ),
    )
    if submission.pathway_continuity:
        stored: int | str = (
            int(submission.pathway_continuity)
            if submission.pathway_continuity.isdigit()
            else submission.pathway_continuity
        )
        report = replace(report, pathway_continuity=stored)
    return report
