"""Writes of the submission lifecycle: receive an upload, move state, record the result, resolve liveness."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.errors import PortalError
from portal.models import AuditEvent, Organisation, User
from portal.services import audit_record
from validation.dataset import DATASET

from .models import (
    SUCCESSFUL_STATUSES,
    TRANSITIONS,
    Status,
    Submission,
    SubmissionCommissioner,
    SubmissionRuleCount,
    SubmissionTableCount,
    Window,
    WindowType,
)
from .selectors import register_digest
from .timetable import LONDON

log = logging.getLogger(__name__)

ACCEPTED_EXTENSIONS = (".mdb", ".accdb", ".zip", ".xlsx")


@dataclass(frozen=True)
class GateResult:
    window: Window | None
    rule_id: str | None  # FILE001 or FILE002 when refused


def gate_check(*, period: str, window_type: str, at: datetime) -> GateResult:
    """Spec 8.2: is a window offering (period, window type) open at ``at``?"""
    field = "primary_rp" if window_type == WindowType.PRIMARY else "refresh_rp"
    windows = list(Window.objects.filter(published=True, **{field: period}))
    for w in windows:
        if w.is_open(at):
            return GateResult(window=w, rule_id=None)
    if any(w.closes_at <= at for w in windows):
        return GateResult(window=windows[0], rule_id="FILE001")
    return GateResult(window=windows[0] if windows else None, rule_id="FILE002")


def _allocate_bsp_number(organisation: Organisation) -> int:
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    number = org.next_bsp_number
    Organisation.objects.filter(pk=org.pk).update(next_bsp_number=number + 1)
    return number


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", base)[:120] or "upload"


def early_refusal(*, file_name: str, size: int, oversized: bool) -> str | None:
    """READ-stage refusals decidable without opening the file, so junk is never stored."""
    if not file_name.lower().endswith(ACCEPTED_EXTENSIONS):
        return "FILE003"
    if size == 0 or oversized:
        return "FILE004"
    return None


class DuplicateFile(PortalError):
    """The upload is byte for byte the file of the latest submission of its context: not stored again."""

    def __init__(self, existing: Submission) -> None:
        at = existing.received_at.astimezone(LONDON)
        received = f"{at.day} {at:%B %Y at %H:%M:%S}"
        super().__init__(
            f"This file is identical to {existing.submission_id} (received {received}, status "
            f"{existing.get_status_display()}) for {existing.period} {existing.window_type}, and the rules "
            f"have not changed since: it was not stored or validated again. See {existing.submission_id} "
            "for its result.",
            code="duplicate_file",
        )
        self.existing = existing


def identical_submission(
    *,
    organisation: Organisation,
    period: str,
    window_type: str,
    window: Window | None,
    sha256: str,
    register: str,
) -> Submission | None:
    """The submission an upload with this SHA-256 would only repeat (issue 8; docs/decisions.md,
    "Reliability"): the LATEST submission of the context that was not refused on receipt, if it holds the
    same bytes, was received under the same rule set and is in progress or final with a result (not
    ERROR), and the organisation register (``register``: its digest now) is what it was when that one was
    received - a register change (a commissioner code added, a pilot flag) can change the result. Only the
    latest is compared, so re-uploading an older file to make it live again still works (spec 7.3, latest
    received wins). Call it holding the organisation's lock (``_allocate_bsp_number``)."""
    if not sha256:
        return None  # not hashed by the upload handler (e.g. a management command): nothing to compare
    latest = (
        Submission.objects.filter(
            organisation=organisation, period=period, window_type=window_type, window=window
        )
        .exclude(file="")  # refused on receipt: no content was kept
        .select_related("organisation")
        .order_by("-received_at", "-bsp_unique_id")
        .first()
    )
    if (
        latest is not None
        and latest.sha256 == sha256
        and latest.rule_set_version == DATASET.version
        and latest.register_digest == register
        and latest.status != Status.ERROR
    ):
        return latest
    return None


def submission_receive(
    *,
    user: User,
    upload: Any,
    period: str,
    window_type: str,
    received_at: datetime | None = None,
) -> Submission:
    """Record an upload (spec 8.2): gate check, BSP number, storage, RECEIVED, task on commit.

    ``upload`` is a Django UploadedFile; the hashing upload handler has set sha256, received_size,
    oversized and received_at on it. A refused upload becomes a Rejected submission with its
    finding and no stored content. An upload identical to the latest submission of its context
    (``identical_submission``) raises ``DuplicateFile`` naming it; nothing is stored, and the refusal
    is audited (``submission.duplicate``, after the receive's transaction has rolled back).
    """
    try:
        return _receive(
            user=user, upload=upload, period=period, window_type=window_type, received_at=received_at
        )
    except DuplicateFile as exc:
        existing = exc.existing
        audit_record(
            action="submission.duplicate",
            actor=user,
            organisation=existing.organisation,
            obj=existing,
            details={
                "file_name": (upload.name or "upload")[:255],
                "sha256": existing.sha256,
                "period": period,
                "window_type": window_type,
                "identical_to": existing.submission_id,
                "status": existing.status,
            },
        )
        raise


@transaction.atomic
def _receive(
    *,
    user: User,
    upload: Any,
    period: str,
    window_type: str,
    received_at: datetime | None,
) -> Submission:
    if not user.can_upload or user.organisation is None:
        raise PortalError("Only submitters of a provider organisation may upload files.", code="forbidden")
    if window_type not in WindowType.values:
        raise PortalError("Choose Primary or Refresh.", code="invalid")
    organisation = user.organisation
    received_at = received_at or getattr(upload, "received_at", None) or timezone.now()
    file_name = upload.name or "upload"
    size = int(getattr(upload, "received_size", None) or upload.size or 0)
    oversized = bool(getattr(upload, "oversized", False))

    sha256 = getattr(upload, "sha256", "") or ""
    register = register_digest()

    gate = gate_check(period=period, window_type=window_type, at=received_at)
    # Allocating the number locks the organisation's row: receives of one provider are serialised, so of
    # two identical uploads at the same moment the second sees the first (committed) below.
    bsp_unique_id = _allocate_bsp_number(organisation)
    refusal = gate.rule_id or early_refusal(file_name=file_name, size=size, oversized=oversized)
    if refusal is None:
        earlier = identical_submission(
            organisation=organisation,
            period=period,
            window_type=window_type,
            window=gate.window,
            sha256=sha256,
            register=register,
        )
        if earlier is not None:
            raise DuplicateFile(earlier)  # rolls the number back
    submission = Submission(
        organisation=organisation,
        bsp_unique_id=bsp_unique_id,
        window=gate.window,
        period=period,
        window_type=window_type,
        received_at=received_at,
        uploaded_by=user,
        original_name=file_name[:255],
        size=size,
        sha256=sha256,
        rule_set_version=DATASET.version,
        register_digest=register,
    )
    if refusal:
        submission.status = Status.REJECTED
        submission.finished_at = timezone.now()
        submission.full_clean()
        submission.save()
        _store_refusal(submission, refusal)
        audit_record(
            action="submission.refused",
            actor=user,
            organisation=organisation,
            obj=submission,
            to_state=Status.REJECTED,
            details={"rule_id": refusal, "file_name": file_name, "size": size, "period": period},
        )
        return submission

    prefix = f"uploads/{organisation.code}/{submission.bsp_unique_id:07d}"
    submission.file.name = default_storage.save(f"{prefix}/{_safe_name(file_name)}", File(upload))
    submission.full_clean()
    submission.save()
    audit_record(
        action="submission.received",
        actor=user,
        organisation=organisation,
        obj=submission,
        to_state=Status.RECEIVED,
        details={"file_name": file_name, "size": size, "sha256": submission.sha256, "period": period},
    )
    submission_id = submission.pk
    transaction.on_commit(lambda: _enqueue(submission_id))
    return submission


def _receipt_on_commit(submission_id: int) -> None:
    from .notifications import notify_live_receipt

    transaction.on_commit(lambda: notify_live_receipt(submission_id))


def _notify_on_commit(submission_id: int) -> None:
    from .notifications import notify_submission_finished

    transaction.on_commit(lambda: notify_submission_finished(submission_id))


def _enqueue(submission_id: int) -> bool:
    """Publish the processing task and mark the submission queued (the outbox's record that it went).

    A broker that is down costs at most CELERY_PUBLISH_MAX_RETRIES quick retries (and the transport's
    socket timeouts), never a hanging request: the submission then stays RECEIVED without ``queued_at``
    and ``dispatch_unqueued_submissions`` publishes it when the broker is back. False when not published.
    """
    from .tasks import process_submission

    try:
        process_submission.apply_async(
            (submission_id,),
            retry=True,
            retry_policy={
                "max_retries": settings.CELERY_PUBLISH_MAX_RETRIES,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.2,
            },
        )
    except Exception as exc:  # the broker is down: the dispatcher publishes it later
        log.warning("Could not enqueue submission %s (%s); the dispatcher will retry", submission_id, exc)
        return False
    Submission.objects.filter(pk=submission_id, queued_at__isnull=True).update(queued_at=timezone.now())
    return True


def submissions_to_dispatch(*, grace_seconds: float = 10.0) -> list[int]:
    """RECEIVED submissions whose task was never published (the broker was down when they arrived or were
    re-queued), oldest first. ``grace_seconds`` leaves a just-committed upload to its own on-commit
    publish (publishing twice would be harmless: ``submission_start`` drops the second delivery)."""
    before = timezone.now() - timedelta(seconds=grace_seconds)
    return list(
        Submission.objects.filter(status=Status.RECEIVED, queued_at__isnull=True, received_at__lt=before)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )


def _store_refusal(submission: Submission, rule_id: str) -> None:
    from reporting.artefacts import write_findings_only

    names = write_findings_only(
        rule_ids=[rule_id], submission_id=submission.submission_id, prefix=artefact_prefix(submission)
    )
    Submission.objects.filter(pk=submission.pk).update(**names)
    for k, v in names.items():
        setattr(submission, k, v)
    spec = DATASET.rules[rule_id]
    SubmissionRuleCount.objects.create(
        submission=submission, rule_id=rule_id, severity=spec.severity, message=spec.message, count=1
    )


def artefact_prefix(submission: Submission) -> str:
    return f"results/{submission.organisation.code}/{submission.bsp_unique_id:07d}"


def submission_transition(
    *, submission: Submission, to: str, actor: User | None = None, details: dict[str, Any] | None = None
) -> Submission:
    """The only place a submission's status changes; writes one audit row per change."""
    current = submission.status
    if to not in TRANSITIONS[current]:
        raise PortalError(f"A submission cannot go from {current} to {to}.", code="invalid_transition")
    submission.status = to
    fields = ["status"]
    now = timezone.now()
    if to == Status.VALIDATING:
        submission.started_at = now
        submission.heartbeat_at = now
        submission.attempts += 1
        fields += ["started_at", "heartbeat_at", "attempts"]
    if to in SUCCESSFUL_STATUSES or to in (Status.REJECTED, Status.ERROR):
        submission.finished_at = now
        fields.append("finished_at")
    submission.save(update_fields=fields)
    audit_record(
        action="submission.status",
        actor=actor,
        organisation=submission.organisation,
        obj=submission,
        from_state=current,
        to_state=to,
        details=details,
    )
    return submission


@transaction.atomic
def submission_start(*, submission_id: int, retry: bool = False, task_id: str = "") -> Submission | None:
    """Claim a RECEIVED submission for processing; None if another run has it or it is final.

    ``task_id`` (the Celery task's id, kept by its retries) records which task holds the claim."""
    submission = Submission.objects.select_for_update().select_related("organisation").get(pk=submission_id)
    if submission.status == Status.RECEIVED:
        submission.task_id = task_id
        submission.save(update_fields=["task_id"])
        return submission_transition(submission=submission, to=Status.VALIDATING)
    # The holder's own message again: its retry (the transient-error path could not put it back to
    # RECEIVED), or its redelivery after the pool process running it was killed (reject_on_worker_lost).
    same_task = bool(task_id) and submission.task_id == task_id
    own_retry = retry and (not task_id or submission.task_id in ("", task_id))
    if submission.status == Status.VALIDATING and (same_task or own_retry or worker_lost(submission)):
        # Take it over; so does anyone once the heartbeat has stopped (the worker is gone). A duplicate or
        # late delivery while a worker is alive with it (fresh heartbeat; the killed worker's message after
        # the sweeper re-queued it; a retry of a superseded task) is dropped, as is any once it is final.
        if submission.attempts >= MAX_ATTEMPTS:
            # e.g. a file that gets its worker killed each time (out of memory): no endless loop.
            submission_fail(
                submission_id=submission.pk,
                message=f"Processing stopped {submission.attempts} times without finishing (worker lost).",
            )
            return None
        reason = "retry" if own_retry else "redelivered" if same_task else "worker lost"
        submission.attempts += 1
        submission.started_at = submission.heartbeat_at = timezone.now()
        submission.task_id = task_id
        submission.save(update_fields=["attempts", "started_at", "heartbeat_at", "task_id"])
        audit_record(
            action="submission.taken_over",
            organisation=submission.organisation,
            obj=submission,
            details={"attempt": submission.attempts, "reason": reason},
        )
        return submission
    return None


MAX_ATTEMPTS = 3  # runs of one submission (claims and take-overs) before it is ERROR


class Superseded(PortalError):
    """The run of task ``task_id`` no longer holds the submission's claim: the sweeper re-queued it, or
    another task took it over (its heartbeat had gone stale). The run must stop without writing anything."""

    def __init__(self, submission: Submission, task_id: str) -> None:
        super().__init__(
            f"Submission {submission.pk} is no longer held by task {task_id} "
            f"(status {submission.status}, task {submission.task_id or 'none'}).",
            code="superseded",
        )


def _check_claim(submission: Submission, task_id: str | None) -> None:
    """Raise ``Superseded`` unless task ``task_id`` still holds the (locked) submission: it is the recorded
    task and the submission was not re-queued since. No ``task_id`` (a direct call): nothing is checked."""
    if task_id and (submission.task_id != task_id or submission.status == Status.RECEIVED):
        raise Superseded(submission, task_id)


@transaction.atomic
def submission_check_claim(*, submission_id: int, task_id: str | None) -> None:
    """The task's check just before it loads the accepted rows (see ``_check_claim``)."""
    _check_claim(Submission.objects.select_for_update().get(pk=submission_id), task_id)


def worker_lost(submission: Submission) -> bool:
    """A VALIDATING submission whose worker stopped writing its heartbeat SUBMISSION_LOST_AFTER ago."""
    last_sign = submission.heartbeat_at or submission.started_at
    lost_before = timezone.now() - timedelta(seconds=settings.SUBMISSION_LOST_AFTER)
    return last_sign is None or last_sign < lost_before


def submission_heartbeat(*, submission_id: int, task_id: str | None = None) -> None:
    """The worker processing the submission is alive (outside any transaction, like the progress). Given
    the task's id, only while that task holds the claim: a superseded run must not keep the new one alive."""
    held = Submission.objects.filter(pk=submission_id, status=Status.VALIDATING)
    if task_id:
        held = held.filter(task_id=task_id)
    held.update(heartbeat_at=timezone.now())


@transaction.atomic
def submission_sweep_one(*, submission_id: int) -> str:
    """Deal with a submission nobody finished: re-queue it once, then fail it loudly (never silently stuck)."""
    submission = Submission.objects.select_for_update().select_related("organisation").get(pk=submission_id)
    if submission.is_final:
        return "final"
    if submission.attempts >= 2 or submission.sweeper_requeues >= 1:
        submission.error_message = "Processing did not finish after two attempts."
        submission.save(update_fields=["error_message"])
        submission_transition(submission=submission, to=Status.ERROR, details={"reason": "stuck"})
        _notify_on_commit(submission.pk)
        return "failed"
    if submission.status == Status.VALIDATING and not worker_lost(submission):
        reason = f"not final {settings.SUBMISSION_STUCK_AFTER} seconds after it started"
    elif submission.status == Status.VALIDATING:
        reason = f"left without a worker (no heartbeat for {settings.SUBMISSION_LOST_AFTER} seconds)"
    else:
        reason = f"queued but not started {settings.SUBMISSION_STUCK_AFTER} seconds after it was queued"
    if submission.status == Status.VALIDATING:
        submission_transition(
            submission=submission, to=Status.RECEIVED, details={"reason": f"stuck ({reason}); re-queued"}
        )
    # Published afresh on commit; if the broker is down then, the dispatcher publishes it later.
    submission.queued_at = None
    submission.sweeper_requeues += 1
    submission.save(update_fields=["queued_at", "sweeper_requeues"])
    submission_id = submission.pk
    transaction.on_commit(lambda: _enqueue(submission_id))
    transaction.on_commit(lambda: _notify_stuck(submission_id, reason))
    return "requeued"


@transaction.atomic
def submission_rerun(*, submission_id: int, actor: User) -> Submission:
    """An administrator's re-run of an ERROR submission: back to RECEIVED (audited), with a fresh count of
    runs and sweeper re-queues and no claim, and published on commit through the outbox (if the broker is
    down then, ``dispatch_unqueued_submissions`` publishes it later)."""
    submission = Submission.objects.select_for_update().select_related("organisation").get(pk=submission_id)
    if submission.status != Status.ERROR:  # VALIDATING -> RECEIVED is the sweeper's, not a re-run
        raise PortalError("Only a submission in ERROR can be re-run.", code="invalid_transition")
    submission_transition(
        submission=submission, to=Status.RECEIVED, actor=actor, details={"reason": "administrator re-run"}
    )
    submission.attempts = 0
    submission.sweeper_requeues = 0
    submission.queued_at = None
    submission.task_id = ""
    submission.save(update_fields=["attempts", "sweeper_requeues", "queued_at", "task_id"])
    transaction.on_commit(lambda: _enqueue(submission_id))
    return submission


def _notify_stuck(submission_id: int, reason: str) -> None:
    from .notifications import notify_admins_stuck

    notify_admins_stuck(submission_id, reason=reason)


@transaction.atomic
def submission_requeue_after_transient_error(
    *, submission_id: int, reason: str, task_id: str | None = None
) -> None:
    """Back to RECEIVED so the retried task claims it again; ``Superseded`` if the task no longer holds it.
    ``queued_at`` is now (the retry is being published), so the sweeper does not count the time the file
    waited before this run as time stuck in the queue."""
    submission = Submission.objects.select_for_update().select_related("organisation").get(pk=submission_id)
    _check_claim(submission, task_id)
    if submission.status == Status.VALIDATING:
        submission_transition(submission=submission, to=Status.RECEIVED, details={"reason": reason[:300]})
        submission.queued_at = timezone.now()
        submission.save(update_fields=["queued_at"])


def submission_set_progress(
    *, submission_id: int, stage: str, table: str | None, pct: int, task_id: str | None = None
) -> None:
    # Outside any transaction so the status page sees it at once. It is a heartbeat too: given the task's
    # id, only while that task holds the claim.
    rows = Submission.objects.filter(pk=submission_id)
    if task_id:
        rows = rows.filter(task_id=task_id, status=Status.VALIDATING)
    rows.update(
        progress_stage=stage,
        progress_table=table or "",
        progress_pct=max(0, min(100, pct)),
        heartbeat_at=timezone.now(),
    )


STATUS_FOR_OUTCOME = {
    "Rejected": Status.REJECTED,
    "Partially accepted": Status.PARTIALLY_ACCEPTED,
    "Accepted with warnings": Status.ACCEPTED_WITH_WARNINGS,
    "Accepted": Status.ACCEPTED,
}


@dataclass(frozen=True)
class TableCountRow:
    table: str
    read: int
    accepted: int
    rejected_record: int
    rejected_group: int
    with_warnings: int


@transaction.atomic
def submission_record_result(
    *,
    submission_id: int,
    outcome: str,
    profile: str | None,
    counts: Iterable[TableCountRow],
    rule_counts: dict[str, int],
    commissioners: dict[str, int],
    total_records: int,
    artefacts: dict[str, str],
    pathway_continuity: str = "",
    task_id: str | None = None,
) -> Submission:
    """The final status with its counts; ``Superseded`` (nothing written) if task ``task_id`` no longer
    holds the submission."""
    submission = Submission.objects.select_for_update().select_related("organisation").get(pk=submission_id)
    _check_claim(submission, task_id)
    if submission.is_final:
        return submission  # idempotent: a second run of the task changes nothing
    SubmissionTableCount.objects.filter(submission=submission).delete()
    SubmissionRuleCount.objects.filter(submission=submission).delete()
    SubmissionCommissioner.objects.filter(submission=submission).delete()
    SubmissionTableCount.objects.bulk_create(
        SubmissionTableCount(
            submission=submission,
            position=i,
            table=c.table,
            rows_read=c.read,
            rows_accepted=c.accepted,
            rows_rejected_record=c.rejected_record,
            rows_rejected_group=c.rejected_group,
            rows_with_warnings=c.with_warnings,
        )
        for i, c in enumerate(counts)
    )
    SubmissionRuleCount.objects.bulk_create(
        SubmissionRuleCount(
            submission=submission,
            rule_id=rule_id,
            severity=DATASET.rules[rule_id].severity,
            message=DATASET.rules[rule_id].message,
            count=n,
        )
        for rule_id, n in rule_counts.items()
    )
    SubmissionCommissioner.objects.bulk_create(
        SubmissionCommissioner(submission=submission, code=code, referrals=n)
        for code, n in commissioners.items()
    )
    submission.profile = profile or ""
    submission.total_records = total_records
    submission.pathway_continuity = pathway_continuity
    submission.progress_stage = "done"
    submission.progress_table = ""
    submission.progress_pct = 100
    for k, v in artefacts.items():
        setattr(submission, k, v)
    submission.save()
    submission_transition(submission=submission, to=STATUS_FOR_OUTCOME[outcome])
    _notify_on_commit(submission.pk)
    if submission.is_successful:
        submission_resolve_live(
            organisation=submission.organisation, period=submission.period, window_type=submission.window_type
        )
        submission.refresh_from_db()
    return submission


@transaction.atomic
def submission_fail(*, submission_id: int, message: str, task_id: str | None = None) -> Submission:
    """ERROR with ``message``; ``Superseded`` (nothing written, no e-mail) if task ``task_id`` no longer
    holds the submission: a stale run's failure must not end the run that took it over."""
    submission = Submission.objects.select_for_update().select_related("organisation").get(pk=submission_id)
    _check_claim(submission, task_id)
    if submission.is_final:
        return submission
    submission.error_message = message[:2000]
    submission.progress_stage = "error"
    submission.save(update_fields=["error_message", "progress_stage"])
    submission_transition(submission=submission, to=Status.ERROR, details={"message": message[:500]})
    _notify_on_commit(submission.pk)
    return submission


@transaction.atomic
def submission_resolve_live(
    *, organisation: Organisation, period: str, window_type: str
) -> Submission | None:
    """Spec 7.3: the successful submission with the latest received_at (then higher BSP number) is live."""
    Organisation.objects.select_for_update().get(pk=organisation.pk)  # serialise per provider
    group = Submission.objects.filter(organisation=organisation, period=period, window_type=window_type)
    window = Window.objects.filter(
        **{"primary_rp" if window_type == WindowType.PRIMARY else "refresh_rp": period}
    ).first()
    candidates = group.filter(status__in=SUCCESSFUL_STATUSES)
    if window is not None:
        # A file received before the close counts even if it finishes after it (spec 7.3, 8.2).
        candidates = candidates.filter(received_at__lt=window.closes_at)
        # Spec 7.3: the pair is locked at the window's close; an ERROR submission re-run after that never
        # becomes live (files still validating at the close, received before it, still count).
        candidates = candidates.exclude(pk__in=reruns_after_lock(window=window, submissions=group))
    new_live = candidates.order_by("-received_at", "-bsp_unique_id").first()
    old_live = group.filter(is_live=True).exclude(pk=new_live.pk if new_live else 0).first()
    if old_live is not None:
        old_live.is_live = False
        old_live.superseded_by = new_live
        old_live.save(update_fields=["is_live", "superseded_by"])
        audit_record(
            action="submission.superseded",
            organisation=organisation,
            obj=old_live,
            details={"superseded_by": new_live.submission_id if new_live else None},
        )
    if new_live is not None and not new_live.is_live:
        new_live.is_live = True
        _receipt_on_commit(new_live.pk)
        new_live.save(update_fields=["is_live"])
        audit_record(action="submission.live", organisation=organisation, obj=new_live)
    return new_live


def reruns_after_lock(*, window: Window, submissions: Iterable[Submission] | None = None) -> set[int]:
    """Primary keys of submissions (of ``window``'s pairs unless given) that an administrator sent from
    ERROR back to RECEIVED (a re-run) at or after the window's close, when its pairs are locked (spec 7.3,
    8.1): such a submission is validated but never becomes live. Read from the audit trail, which records
    every status change with its time."""
    if submissions is None:
        submissions = Submission.objects.filter(
            Q(period=window.primary_rp, window_type=WindowType.PRIMARY)
            | Q(period=window.refresh_rp, window_type=WindowType.REFRESH)
        ).only("pk")
    pks = {str(s.pk) for s in submissions}
    if not pks:
        return set()
    events = AuditEvent.objects.filter(
        action="submission.status",
        object_type="Submission",
        object_id__in=pks,
        from_state=Status.ERROR,
        to_state=Status.RECEIVED,
        created_at__gte=window.closes_at,
    ).values_list("object_id", flat=True)
    return {int(pk) for pk in events}
