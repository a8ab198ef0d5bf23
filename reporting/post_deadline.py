"""Post-deadline processing of a closed window (spec 7.3, 10.4-10.6): extracts and statistics to storage.

``post_deadline_process(window=...)`` produces, from the live submissions of the window's two (RP, window
type) pairs:

* a post-deadline extract (10.4) per provider and pair, ZIP of CSV and XLSX;
* a commissioner extract (10.5) per commissioner code and pair, all providers, ZIP of CSV (and XLSX);
* the monthly statistics (10.6): Provisional for the window's Primary RP (live Primary submissions) and
  Final for its Refresh RP (effective submissions), CSV/XLSX/JSON files and their values in the database.

Each output is recorded as a :class:`~reporting.models.PostDeadlineOutput`. Running it again for the same
window replaces the files and rows (same names), and removes outputs that are no longer produced. The
caller (``submissions.close``) decides when it runs. Files are written to temporary files first and then
streamed to storage.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from submissions.models import Submission, SubmissionCommissioner, Window, WindowType
from validation.dataset import DATASET

from . import data_selectors, dq_selectors
from .derived import commissioner_rows, commissioner_view, derive
from .extracts import (
    CommissionerExtractBuilder,
    ExcelRowLimitError,
    commissioner_file_name,
    post_deadline_file_name,
    submission_frame,
    write_post_deadline_xlsx,
    write_post_deadline_zip,
)
from .models import OutputKind, PostDeadlineOutput, StatisticsValue, stored_columns
from .statistics import (
    APPOINTMENT_COLUMNS,
    REFERRAL_COLUMNS,
    SubmissionData,
    compute_statistics,
    select_submissions,
    statistics_file_name,
    write_statistics_csv,
    write_statistics_json,
    write_statistics_xlsx,
)

log = logging.getLogger(__name__)

PROVISIONAL = "Provisional"
FINAL = "Final"
STATISTICS_WRITERS = {
    "csv": write_statistics_csv,
    "xlsx": write_statistics_xlsx,
    "json": write_statistics_json,
}


def _key() -> bytes:
    return settings.PSEUDONYM_KEY.encode()


def storage_prefix(window: Window) -> str:
    return f"post_deadline/{window.code}"


def _store(name: str, local: Path) -> str:
    """Save ``local`` under exactly ``name``, replacing a file of that name (a re-run)."""
    if default_storage.exists(name):
        default_storage.delete(name)
    with local.open("rb") as fh:
        return default_storage.save(name, File(fh, name=Path(name).name))


def live_submissions(*, period: str, window_type: str) -> list[Submission]:
    """The live submission of every provider for one (RP, window type), in provider code order."""
    return list(
        Submission.objects.filter(is_live=True, period=period, window_type=window_type)
        .select_related("organisation")
        .order_by("organisation__code")
    )


def derived_frames(
    *,
    submission: Submission,
    tables: Sequence[str] | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, pl.DataFrame]:
    """A submission's accepted rows with their derived columns (``ROW_NUMBER`` first).

    Read from the database when the rows were loaded with their derived items (one query per table,
    ``columns`` per table if given, else every stored column); otherwise (rows loaded before derived
    items were stored, or only in parquet files) the items are derived again from the accepted rows.
    """
    wanted = tuple(tables or DATASET.tables)
    loaded = data_selectors.accepted_tables(submission=submission)
    if loaded is not None and data_selectors.accepted_load_is_derived(submission=submission):
        return {
            t: data_selectors.accepted_frame(
                submission=submission, table=t, columns=(columns or {}).get(t) or stored_columns(t)
            )
            for t in wanted
            if t in loaded
        }
    frames = dq_selectors.accepted_frames(submission=submission)
    if not frames:
        return {}
    out = derive(frames, period=submission.period, provider=submission.organisation.code, key=_key())
    return {t: f for t, f in out.items() if t in wanted}


def _commissioner_frames(submission: Submission, code: str) -> dict[str, pl.DataFrame]:
    """One provider's rows for ``code`` (10.5 selection) with their derived columns."""
    loaded = data_selectors.accepted_tables(submission=submission)
    if loaded is not None and data_selectors.accepted_load_is_derived(submission=submission):
        return data_selectors.accepted_frames_for_commissioner(
            submission=submission, code=code, tables=[t for t in loaded if t != "Header"], derived=True
        )
    return commissioner_rows(derived_frames(submission=submission), code=code)


@transaction.atomic
def _record(
    *,
    window: Window,
    kind: str,
    org_code: str,
    period: str,
    window_type: str,
    files: dict[str, str],
    rows: dict[str, int],
    providers: list[str],
    submission: Submission | None = None,
    status: str = "",
    values: pl.DataFrame | None = None,
) -> PostDeadlineOutput:
    output, _ = PostDeadlineOutput.objects.update_or_create(
        window=window,
        kind=kind,
        org_code=org_code,
        period=period,
        window_type=window_type,
        defaults={
            "status": status,
            "submission": submission,
            "providers": providers,
            "files": files,
            "rows": rows,
            "created_at": timezone.now(),
        },
    )
    if values is not None:
        StatisticsValue.objects.filter(output=output).delete()
        StatisticsValue.objects.bulk_create(
            StatisticsValue(output=output, level=level, org_code=org, measure_id=measure, value=value)
            for level, org, measure, value in values.select(
                "LEVEL", "ORG_CODE", "MEASURE_ID", "VALUE"
            ).iter_rows()
        )
    return output


def provider_extract(*, window: Window, submission: Submission, workdir: Path) -> PostDeadlineOutput:
    """Spec 10.4 for one live submission: ZIP of CSV and (when every table fits a sheet) XLSX."""
    frames = derived_frames(submission=submission)
    counts = {t: f.height for t, f in frames.items()}
    sheet = submission_frame(
        submission_id=submission.submission_id,
        bsp_unique_id=submission.bsp_unique_id,
        file_type=submission.window_type,
        profile=submission.profile,
        received_at=submission.received_at,
        total_records=submission.total_records,
        accepted=counts,
    )
    provider = submission.organisation.code
    prefix = f"{storage_prefix(window)}/providers/{provider}"
    files: dict[str, str] = {}
    for ext, writer in (("zip", write_post_deadline_zip), ("xlsx", write_post_deadline_xlsx)):
        name = post_deadline_file_name(
            provider, submission.period, submission.window_type, submission.bsp_unique_id, ext
        )
        local = workdir / name
        try:
            writer(frames, submission=sheet, out=local)
        except ExcelRowLimitError:
            log.warning(
                "%s: a table exceeds one Excel sheet; only the ZIP is offered", submission.submission_id
            )
            continue
        files[ext] = _store(f"{prefix}/{name}", local)
        local.unlink()
    return _record(
        window=window,
        kind=OutputKind.PROVIDER_EXTRACT,
        org_code=provider,
        period=submission.period,
        window_type=submission.window_type,
        files=files,
        rows=counts,
        providers=[provider],
        submission=submission,
    )


def commissioner_extract(
    *, window: Window, code: str, period: str, window_type: str, submissions: list[Submission], workdir: Path
) -> PostDeadlineOutput:
    """Spec 10.5 for one code and pair: every provider's rows for the code, pseudonymised, one file."""
    work = workdir / f"comm-{code}-{window_type}"
    work.mkdir()
    builder = CommissionerExtractBuilder(work)
    providers: list[str] = []
    for sub in submissions:
        frames = _commissioner_frames(sub, code)
        if "Referral" not in frames or frames["Referral"].height == 0:
            continue
        builder.add(commissioner_view(frames, provider=sub.organisation.code, key=_key()))
        providers.append(sub.organisation.code)
    prefix = f"{storage_prefix(window)}/commissioners/{code}"
    files: dict[str, str] = {}
    for ext, write in (("zip", builder.write_zip), ("xlsx", builder.write_xlsx)):
        name = commissioner_file_name(code, period, window_type, ext)
        write(work / name)
        files[ext] = _store(f"{prefix}/{name}", work / name)
    return _record(
        window=window,
        kind=OutputKind.COMMISSIONER_EXTRACT,
        org_code=code,
        period=period,
        window_type=window_type,
        files=files,
        rows=dict(builder.rows),
        providers=providers,
    )


def statistics_output(
    *, window: Window, period: str, status: str, submissions: list[Submission], workdir: Path
) -> PostDeadlineOutput | None:
    """Spec 10.6 for one RP: Provisional from live Primary, Final from effective submissions."""
    data = []
    for sub in submissions:
        frames = derived_frames(
            submission=sub,
            tables=("Referral", "Appointment"),
            columns={"Referral": REFERRAL_COLUMNS, "Appointment": APPOINTMENT_COLUMNS},
        )
        if "Referral" not in frames or "Appointment" not in frames:
            continue
        data.append(
            SubmissionData(
                provider=sub.organisation.code,
                referral=frames["Referral"],
                appointment=frames["Appointment"],
                window_type=sub.window_type,
                submission_id=sub.submission_id,
            )
        )
    chosen = select_submissions(data, status)
    if not chosen:
        return None
    frame = compute_statistics(chosen, period=period, status=status)
    prefix = f"{storage_prefix(window)}/statistics"
    files: dict[str, str] = {}
    for fmt, writer in STATISTICS_WRITERS.items():
        name = statistics_file_name(period, status, fmt)
        local = workdir / name
        with local.open("wb") as out:
            writer(frame, out)
        files[fmt] = _store(f"{prefix}/{name}", local)
    return _record(
        window=window,
        kind=OutputKind.STATISTICS,
        org_code="",
        period=period,
        window_type=WindowType.PRIMARY if status == PROVISIONAL else WindowType.REFRESH,
        status=status,
        files=files,
        rows={"rows": frame.height},
        providers=[d.provider for d in chosen],
        values=frame,
    )


def post_deadline_process(*, window: Window) -> list[PostDeadlineOutput]:
    """Every post-deadline output of ``window`` from its live submissions now; replaces earlier ones."""
    produced: list[PostDeadlineOutput] = []
    pairs = ((window.primary_rp, WindowType.PRIMARY), (window.refresh_rp, WindowType.REFRESH))
    with tempfile.TemporaryDirectory(prefix="iapt-post-deadline-") as tmp:
        workdir = Path(tmp)
        lives: dict[tuple[str, str], list[Submission]] = {}
        for period, window_type in pairs:
            subs = live_submissions(period=period, window_type=window_type)
            lives[(period, window_type)] = subs
            for sub in subs:
                produced.append(provider_extract(window=window, submission=sub, workdir=workdir))
            codes = sorted(
                set(SubmissionCommissioner.objects.filter(submission__in=subs).values_list("code", flat=True))
            )
            for code in codes:
                with_code = [s for s in subs if s.commissioners.filter(code=code).exists()]
                produced.append(
                    commissioner_extract(
                        window=window,
                        code=code,
                        period=period,
                        window_type=window_type,
                        submissions=with_code,
                        workdir=workdir,
                    )
                )
        provisional = statistics_output(
            window=window,
            period=window.primary_rp,
            status=PROVISIONAL,
            submissions=lives[(window.primary_rp, WindowType.PRIMARY)],
            workdir=workdir,
        )
        final = statistics_output(
            window=window,
            period=window.refresh_rp,
            status=FINAL,
            submissions=[
                *lives[(window.refresh_rp, WindowType.REFRESH)],
                *live_submissions(period=window.refresh_rp, window_type=WindowType.PRIMARY),
            ],
            workdir=workdir,
        )
        produced += [o for o in (provisional, final) if o is not None]
    _remove_stale(window, keep=produced)
    return produced


def _remove_stale(window: Window, *, keep: list[PostDeadlineOutput]) -> None:
    """Outputs of an earlier run that this run did not produce (e.g. a code no longer present)."""
    kept_names = {name for o in keep for name in o.files.values()}
    for old in PostDeadlineOutput.objects.filter(window=window).exclude(pk__in=[o.pk for o in keep]):
        for name in old.files.values():
            if name not in kept_names and default_storage.exists(name):
                default_storage.delete(name)
        old.delete()
