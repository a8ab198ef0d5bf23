"""Celery tasks: thin wrappers that take ids and call the services. Safe to run twice."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError
from django.db import connection as db_connection
from django.db.models import Q
from django.utils import timezone

from reporting.artefacts import commissioner_counts, write_submission_artefacts
from reporting.derived import derive_iter, derived_table_order
from reporting.dq import pathway_continuity
from reporting.dq_selectors import previous_open_serviceids
from reporting.loading import FramesAhead, SourceOutcome, accepted_rows_load
from validation.api import validate_file
from validation.model import UploadContext

from . import close, services
from .models import Status, Submission
from .phases import Phases
from .selectors import organisation_register
from .timetable import LONDON

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

# Progress bands of the status page: reading 0-15, validating 15-85, loading 85-100.
BANDS = {"reading": (0, 15), "validating": (15, 85), "loading": (85, 100)}


class ProgressReporter:
    """Turns engine callbacks into throttled database updates the status page polls."""

    def __init__(self, submission_id: int, min_interval: float = 0.3, task_id: str | None = None) -> None:
        self.submission_id = submission_id
        self.min_interval = min_interval
        self.task_id = task_id  # written only while this task holds the claim
        self._last = 0.0
        self._stage: str | None = None

    def __call__(self, stage: str, table: str | None, fraction: float) -> None:
        now = time.monotonic()
        # Throttled within a stage; a new stage is always written (the status page and the sweeper's
        # view of what the worker is doing would otherwise miss e.g. "loading").
        if now - self._last < self.min_interval and fraction < 1.0 and stage == self._stage:
            return
        self._last = now
        self._stage = stage
        lo, hi = BANDS.get(stage, (0, 100))
        pct = int(lo + (hi - lo) * max(0.0, min(1.0, fraction)))
        services.submission_set_progress(
            submission_id=self.submission_id, stage=stage, table=table, pct=pct, task_id=self.task_id
        )


@contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A local path for a stored file: the file itself on local storage, a streamed copy otherwise."""
    try:
        yield Path(default_storage.path(name))
        return
    except NotImplementedError:
        pass
    tmpdir = Path(tempfile.mkdtemp(prefix="iapt-"))
    try:
        target = tmpdir / Path(name).name
        with default_storage.open(name, "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, length=1024 * 1024)
        yield target
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def upload_context(submission: Submission) -> UploadContext:
    return UploadContext(
        org_code=submission.organisation.code,
        period=submission.period,
        window_type=submission.window_type,
        received_at=submission.received_at,
        window_opens_on=submission.window.opens_at.astimezone(LONDON).date() if submission.window else None,
        register=organisation_register(),
        file_name=submission.original_name,
    )


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def process_submission(self, submission_id: int) -> str:  # type: ignore[no-untyped-def]
    # The claim's holder: every later write is fenced by it (none when called directly, without an id).
    task_id = self.request.id or ""
    try:
        submission = services.submission_start(
            submission_id=submission_id, retry=self.request.retries > 0, task_id=task_id
        )
    except Submission.DoesNotExist:
        log.warning("Submission %s no longer exists", submission_id)
        return "missing"
    except TRANSIENT_ERRORS as exc:  # the database is restarting: try again, else the sweeper recovers it
        if self.request.retries < self.max_retries:
            log.warning("Transient error starting submission %s, retrying: %s", submission_id, exc)
            raise self.retry(exc=exc, countdown=5 * (2**self.request.retries)) from exc
        log.error("Could not start submission %s: %s", submission_id, exc)
        return "error"
    if submission is None:
        return "already-done"
    try:
        phases = Phases()
        progress = ProgressReporter(submission_id, task_id=task_id)
        with phases("validate"), local_copy(submission.file.name or "") as path:
            result = validate_file(
                path,
                ctx=upload_context(submission),
                file_name=submission.original_name,
                max_upload_bytes=settings.MAX_UPLOAD_BYTES,
                max_unzipped_bytes=settings.MAX_UNZIPPED_BYTES,
                progress=progress,
            )
        progress("loading", None, 0.0)
        derived: FramesAhead | None = None
        if result.outcome.successful and result.accepted:
            # Spec 9.1: derived items straight after validation, stored with the accepted rows. Before
            # the final status: a crash here leaves no live submission with half its rows (the load is
            # one transaction and replaces any rows of an earlier attempt). The pre-deadline extract
            # (10.3) keeps the submitted columns only. A thread derives the tables one by one while the
            # load below stores each as soon as it is ready.
            derived = FramesAhead(
                derived_table_order(result.accepted),
                phases.iter(
                    "derive",
                    derive_iter(
                        result.accepted,
                        period=submission.period,
                        provider=submission.organisation.code,
                        key=settings.PSEUDONYM_KEY.encode(),
                    ),
                ),
            )
        prefix = services.artefact_prefix(submission)

        load_failed = threading.Event()

        def write_artefacts(deriving: SourceOutcome | None) -> dict[str, str]:
            # The files (report, extract, ...) need no database. They are written once the derived items
            # (CPU-bound) are done, while the COPY load mostly waits for PostgreSQL. The job holds the
            # derive's outcome only, not its frames, so the load frees each table once it is stored.
            if deriving is not None and not deriving.wait():
                return {}  # the load raises the derive's error
            if load_failed.is_set():
                return {}  # nobody will use them: the task retries or fails
            return phases.in_thread(
                "artefacts",
                write_submission_artefacts,
                result,
                submission_id=submission.submission_id,
                prefix=prefix,
            )

        # Taken over while validating (a stale heartbeat, then the sweeper and another task): load no rows
        # under the new claim. The load takes the row lock next; no take-over commits while it holds it.
        services.submission_check_claim(submission_id=submission_id, task_id=task_id)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="artefacts") as pool:
            artefacts_job = pool.submit(write_artefacts, derived.outcome if derived is not None else None)
            if derived is not None:
                try:
                    with phases("load"):
                        accepted_rows_load(submission_id=submission_id, frames=derived)
                except BaseException:
                    load_failed.set()
                    raise
                del derived
            progress("loading", None, 0.5)
            with phases("artefacts_wait"):
                artefacts = artefacts_job.result()
        with phases("record"):
            recorded = services.submission_record_result(
                submission_id=submission_id,
                outcome=result.outcome.value,
                profile=result.profile,
                counts=[
                    services.TableCountRow(table=t, **c.as_dict()) for t, c in (result.counts or {}).items()
                ],
                rule_counts=result.findings_by_rule,
                commissioners=commissioner_counts(result),
                total_records=result.total_records,
                artefacts=artefacts,
                pathway_continuity=(
                    str(
                        pathway_continuity(
                            result.accepted.get("Referral"), previous_open_serviceids(submission=submission)
                        )
                    )
                    if result.outcome.successful
                    else ""
                ),
                task_id=task_id,
            )
            close.live_changed_after_close(submission=recorded)
        phases.log(log, submission_id)
        return "done"
    except services.Superseded as exc:
        return _superseded(exc)
    except TRANSIENT_ERRORS as exc:
        if self.request.retries < self.max_retries:
            log.warning("Transient error on submission %s, retrying: %s", submission_id, exc)
            # If even that fails, the retry takes the VALIDATING submission over (retry=True).
            try:
                with suppress(*TRANSIENT_ERRORS):
                    services.submission_requeue_after_transient_error(
                        submission_id=submission_id, reason=str(exc), task_id=task_id
                    )
            except services.Superseded as superseded:
                return _superseded(superseded)
            raise self.retry(exc=exc, countdown=5 * (2**self.request.retries)) from exc
        return _fail(submission_id, task_id, f"Processing failed repeatedly: {exc}")
    except SoftTimeLimitExceeded:
        return _fail(submission_id, task_id, "Processing took too long and was stopped.")
    except Exception as exc:
        log.exception("Submission %s failed", submission_id)
        return _fail(submission_id, task_id, f"Unexpected error: {type(exc).__name__}")


def _superseded(exc: services.Superseded) -> str:
    """A run whose claim was taken over stops quietly: no status change, no e-mail."""
    log.warning("Stopping a superseded run: %s", exc)
    return "superseded"


def _fail(submission_id: int, task_id: str, message: str) -> str:
    try:
        services.submission_fail(submission_id=submission_id, message=message, task_id=task_id)
    except services.Superseded as exc:  # e.g. its load collided with the new run's: not the file's fault
        return _superseded(exc)
    return "error"


class Heartbeat:
    """While a worker runs ``process_submission``, a thread writes the submission's ``heartbeat_at`` every
    SUBMISSION_HEARTBEAT_SECONDS, whatever the task is doing (a long load reports no progress). When the
    worker dies the heartbeat stops and the sweeper takes the submission as lost after SUBMISSION_LOST_AFTER.
    Started and stopped by Celery's task signals (below), so the task body does not change."""

    def __init__(self, submission_id: int, interval: float, task_id: str | None = None) -> None:
        self.submission_id = submission_id
        self.interval = interval
        self.task_id = task_id  # beats only while this task holds the claim
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{submission_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    services.submission_heartbeat(submission_id=self.submission_id, task_id=self.task_id)
                except Exception as exc:  # the database restarting: keep beating, with a new connection
                    log.warning("Heartbeat of submission %s failed: %s", self.submission_id, exc)
                    db_connection.close()
        finally:
            db_connection.close()  # this thread's own connection


_heartbeats: dict[str, Heartbeat] = {}


@task_prerun.connect
def _heartbeat_start(task_id=None, task=None, args=None, **_):  # type: ignore[no-untyped-def]
    if task is None or task.name != process_submission.name or task.request.is_eager or not args:
        return
    beat = Heartbeat(int(args[0]), settings.SUBMISSION_HEARTBEAT_SECONDS, task_id=task_id)
    _heartbeats[task_id] = beat
    beat.start()


@task_postrun.connect
def _heartbeat_stop(task_id=None, **_):  # type: ignore[no-untyped-def]
    beat = _heartbeats.pop(task_id, None)
    if beat is not None:
        beat.stop()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def dispatch_unqueued_submissions() -> dict[str, int]:
    """The transactional outbox's relay (beat, every SUBMISSION_DISPATCH_EVERY seconds): publish the task of
    every RECEIVED submission whose publication failed (broker down at upload or at a re-queue). Not a
    re-queue: it does not count towards the sweeper's one re-queue before ERROR."""
    outcome = {"published": 0, "failed": 0}
    for pk in services.submissions_to_dispatch():
        if services._enqueue(pk):
            outcome["published"] += 1
        else:
            outcome["failed"] += 1
            break  # the broker is still down: the next run tries again
    return outcome


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def sweep_stuck_submissions() -> dict[str, int]:
    """Submissions nobody is finishing are re-queued once and then marked ERROR, so none stays stuck
    without anyone being told: VALIDATING with a stale heartbeat (worker lost, SUBMISSION_LOST_AFTER) or
    started more than SUBMISSION_STUCK_AFTER ago; RECEIVED and published more than SUBMISSION_STUCK_AFTER
    ago (the message was lost). RECEIVED and never published is the dispatcher's, not a stuck one."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.SUBMISSION_STUCK_AFTER)
    lost = now - timedelta(seconds=settings.SUBMISSION_LOST_AFTER)
    stuck = Submission.objects.filter(
        Q(status=Status.RECEIVED, queued_at__lt=cutoff)
        | Q(status=Status.VALIDATING, started_at__lt=cutoff)
        | Q(status=Status.VALIDATING, heartbeat_at__lt=lost)
        | Q(status=Status.VALIDATING, heartbeat_at__isnull=True, started_at__lt=lost)
    ).values_list("pk", flat=True)
    outcome: dict[str, int] = {}
    for pk in stuck:
        result = services.submission_sweep_one(submission_id=pk)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome


@shared_task(acks_late=True, soft_time_limit=50 * 60, time_limit=55 * 60)
def close_due_windows() -> dict[str, str]:
    """Every minute (beat): lock published windows whose ``closes_at`` has passed, then run every due
    post-deadline processing (spec 7.3, 10.4-10.6). Safe to run twice or concurrently: locking is once
    per window and a run is claimed before it starts."""
    now = timezone.now()
    outcome: dict[str, str] = {}
    for pk in close.windows_to_lock(now=now):
        if close.window_lock(window_id=pk, now=now):
            outcome[f"lock:{pk}"] = "locked"
    for pk in close.runs_due():
        try:
            outcome[f"run:{pk}"] = close.post_deadline_run(window_id=pk)
        except Exception:  # logged by post_deadline_run; the other windows still run
            outcome[f"run:{pk}"] = "error"
    return outcome


@shared_task(acks_late=True, soft_time_limit=50 * 60, time_limit=55 * 60)
def run_post_deadline(window_id: int) -> str:
    """An administrator's re-run of one window's post-deadline processing (already marked due)."""
    return close.post_deadline_run(window_id=window_id)


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def send_timetable_emails() -> dict[str, int]:
    """Window-open e-mails and deadline reminders that are due (each window records what it has sent)."""
    from .reminders import send_timetable_emails as send

    return send()
