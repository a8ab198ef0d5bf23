"""Window close (spec 7.3, 8.1): lock a window's pairs at its ``closes_at`` and run post-deadline processing.

* ``window_lock`` stamps ``locked_at`` (once, with an audit row) on a published window whose ``closes_at``
  has passed and asks for its post-deadline run. Uploads are refused from ``closes_at`` by the gate
  whether or not this has happened yet (``services.gate_check`` compares ``received_at``).
* ``post_deadline_run`` claims a due run and produces the outputs (``reporting.post_deadline``). It waits
  while a file received before the close is still being validated (it may still become live, spec 7.3),
  and never runs twice at once for a window (a claim holds for ``SUBMISSION_STUCK_AFTER`` seconds).
* ``post_deadline_request`` marks a window's run as due again: an administrator's re-run, or a live change
  after the run (a file received before the close that finished validating after the outputs were made).

The beat task ``submissions.tasks.close_due_windows`` calls these every minute; all are idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.models import User
from portal.services import audit_record
from reporting.models import PostDeadlineRun
from reporting.post_deadline import post_deadline_process

from .models import Status, Submission, Window, WindowType
from .services import reruns_after_lock

log = logging.getLogger(__name__)


def windows_to_lock(*, now: datetime) -> list[int]:
    return list(
        Window.objects.filter(published=True, closes_at__lte=now, locked_at__isnull=True).values_list(
            "pk", flat=True
        )
    )


def runs_due() -> list[int]:
    return list(PostDeadlineRun.objects.filter(finished_at__isnull=True).values_list("window_id", flat=True))


@transaction.atomic
def window_lock(*, window_id: int, now: datetime | None = None) -> bool:
    """Lock a due window (``locked_at`` = now) and ask for its post-deadline run; False if not due or done."""
    now = now or timezone.now()
    window = Window.objects.select_for_update().get(pk=window_id)
    if window.locked_at is not None or not window.published or window.closes_at > now:
        return False
    window.locked_at = now
    window.save(update_fields=["locked_at"])
    audit_record(
        action="window.locked",
        obj=window,
        details={
            "code": window.code,
            "closes_at": window.closes_at.isoformat(),
            "locked_at": now.isoformat(),
        },
    )
    post_deadline_request(window=window, at=now, reason="window closed")
    return True


def post_deadline_request(
    *, window: Window, at: datetime | None = None, actor: User | None = None, reason: str = ""
) -> None:
    """Mark the window's post-deadline run as due (the next close task run picks it up)."""
    at = at or timezone.now()
    with transaction.atomic():
        run = PostDeadlineRun.objects.select_for_update().filter(window=window).first()
        if run is None:
            PostDeadlineRun.objects.create(window=window, requested_at=at)
        else:
            if run.finished_at is not None:  # not running: the next close task run may start at once
                run.started_at = None
            run.requested_at = at
            run.finished_at = None
            run.save(update_fields=["requested_at", "started_at", "finished_at"])
    if actor is not None or reason != "window closed":
        audit_record(
            action="window.post_deadline_requested", actor=actor, obj=window, details={"reason": reason[:200]}
        )


def in_flight(window: Window) -> int:
    """Files of the window's pairs received before the close and not final yet (they may still become live)."""
    pending = Submission.objects.filter(
        Q(period=window.primary_rp, window_type=WindowType.PRIMARY)
        | Q(period=window.refresh_rp, window_type=WindowType.REFRESH),
        received_at__lt=window.closes_at,
        status__in=(Status.RECEIVED, Status.VALIDATING),
    )
    pks = set(pending.values_list("pk", flat=True))
    return len(pks - reruns_after_lock(window=window, submissions=pending)) if pks else 0


def _claim(window_id: int, now: datetime) -> tuple[PostDeadlineRun | None, str]:
    with transaction.atomic():
        run = (
            PostDeadlineRun.objects.select_for_update()
            .select_related("window")
            .filter(window_id=window_id)
            .first()
        )
        if run is None or run.finished_at is not None:
            return None, "done"
        lease = timedelta(seconds=settings.SUBMISSION_STUCK_AFTER)
        if run.started_at is not None and run.started_at > now - lease:
            return None, "running"
        if run.window.locked_at is None:
            return None, "not-locked"
        if in_flight(run.window):
            return None, "waiting"
        run.started_at = now
        run.runs += 1
        run.save(update_fields=["started_at", "runs"])
        return run, "claimed"


def post_deadline_run(*, window_id: int, now: datetime | None = None) -> str:
    """Produce the window's post-deadline outputs if its run is due and nobody else is running it."""
    now = now or timezone.now()
    run, state = _claim(window_id, now)
    if run is None:
        return state
    started = run.started_at
    assert started is not None  # set by _claim
    try:
        outputs = post_deadline_process(window=run.window)
    except Exception as exc:
        # Loud, and retried by the next close task run (every minute) until it works or is fixed.
        log.exception("Post-deadline processing of window %s failed", run.window.code)
        PostDeadlineRun.objects.filter(pk=run.pk).update(
            started_at=None, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    with transaction.atomic():
        run = PostDeadlineRun.objects.select_for_update().get(pk=run.pk)
        if run.requested_at <= started:  # no new request while this run was busy
            run.finished_at = timezone.now()
        else:  # asked again meanwhile: release the claim so the next close task run starts afresh
            run.started_at = None
        run.error = ""
        run.save(update_fields=["finished_at", "started_at", "error"])
        audit_record(
            action="window.post_deadline",
            obj=run.window,
            details={"code": run.window.code, "outputs": len(outputs)},
        )
    return "finished"


def live_changed_after_close(*, submission: Submission) -> None:
    """A submission that became live after its window's outputs were made: make them again."""
    if not submission.is_live:
        return
    field = "primary_rp" if submission.window_type == WindowType.PRIMARY else "refresh_rp"
    window = Window.objects.filter(**{field: submission.period}).first()
    if window is None or window.locked_at is None:
        return
    if PostDeadlineRun.objects.filter(window=window, finished_at__isnull=False).exists():
        post_deadline_request(window=window, reason=f"{submission.submission_id} became live after the close")
