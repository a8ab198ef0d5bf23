"""Issue 8, fault 6: the window closes while a file is being validated; a file received before the close counts.

Each test receives a file before the close and runs the close task (``close_due_windows``, the beat task)
from inside the validation of that file, i.e. while the submission is VALIDATING, then lets the validation
finish. Spec 7.3 and docs/decisions.md "Window close and extracts" 3: the file becomes live and the
post-deadline outputs are made from it, either because the run waited for it or because the run is made
again after it became live.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from reporting.models import OutputKind, PostDeadlineOutput, PostDeadlineRun
from submissions import services
from submissions.models import Status, Submission, Window
from submissions.tasks import close_due_windows, process_submission
from tests.fixtures import upload
from validation.synth import generate_idb, write_csvzip

pytestmark = pytest.mark.django_db


@pytest.fixture
def commissioners(commissioner_a, commissioner_b):  # type: ignore[no-untyped-def]
    return ("00C", "01A")


def receive(user, tmp_path, *, seed: int, at):  # type: ignore[no-untyped-def]
    path = tmp_path / f"idb-{seed}.zip"
    write_csvzip(
        generate_idb(org="TSTP1", period="2017-11", persons=20, seed=seed, commissioners=("00C", "01A")), path
    )
    with mock.patch("submissions.services._enqueue"):
        return services.submission_receive(
            user=user,
            upload=upload(path.name, path.read_bytes()),
            period="2017-11",
            window_type="Primary",
            received_at=at,
        )


def closing_during_validation(window: Window, seen: dict[str, object]):  # type: ignore[no-untyped-def]
    """A validate_file that closes the window and runs the close task before validating for real."""
    from submissions import tasks

    real = tasks.validate_file

    def validate(path, *, ctx, **kw):  # type: ignore[no-untyped-def]
        seen["status_at_close"] = Submission.objects.get(received_at=ctx.received_at).status
        Window.objects.filter(pk=window.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
        seen["close"] = close_due_windows()
        seen["gate"] = services.gate_check(period="2017-11", window_type="Primary", at=timezone.now()).rule_id
        return real(path, ctx=ctx, **kw)

    return mock.patch("submissions.tasks.validate_file", side_effect=validate)


def test_file_validating_at_the_close_becomes_live_and_the_run_waits_for_it(
    submitter_a, open_window, commissioners, tmp_path
):
    first = receive(submitter_a, tmp_path, seed=1, at=timezone.now() - timedelta(hours=2))
    assert process_submission(first.pk) == "done"
    late = receive(submitter_a, tmp_path, seed=2, at=timezone.now() - timedelta(minutes=5))
    seen: dict[str, object] = {}
    with closing_during_validation(open_window, seen):
        assert process_submission(late.pk) == "done"
    # The close task ran while the file was VALIDATING: it locked the window and the run waited.
    assert seen["status_at_close"] == Status.VALIDATING
    assert seen["close"] == {f"lock:{open_window.pk}": "locked", f"run:{open_window.pk}": "waiting"}
    assert seen["gate"] == "FILE001"  # meanwhile, new uploads are late
    late.refresh_from_db()
    first.refresh_from_db()
    assert late.is_live and late.status in (Status.ACCEPTED, Status.ACCEPTED_WITH_WARNINGS)
    assert first.superseded_by == late and not first.is_live
    # The next tick makes the outputs, from the file received before the close.
    assert close_due_windows() == {f"run:{open_window.pk}": "finished"}
    extract = PostDeadlineOutput.objects.get(window=open_window, kind=OutputKind.PROVIDER_EXTRACT)
    assert extract.submission_id == late.pk
    assert PostDeadlineRun.objects.get(window=open_window).runs == 1


def test_outputs_made_before_the_file_finished_are_made_again(
    submitter_a, open_window, commissioners, tmp_path
):
    """If the run did not see the file in flight (e.g. its row was committed after the run's check), the
    outputs are first made from the earlier live file and made again once the late file is live."""
    first = receive(submitter_a, tmp_path, seed=1, at=timezone.now() - timedelta(hours=2))
    process_submission(first.pk)
    late = receive(submitter_a, tmp_path, seed=2, at=timezone.now() - timedelta(minutes=5))
    seen: dict[str, object] = {}
    with (
        closing_during_validation(open_window, seen),
        mock.patch("submissions.close.in_flight", return_value=0),
    ):
        assert process_submission(late.pk) == "done"
    assert seen["close"] == {f"lock:{open_window.pk}": "locked", f"run:{open_window.pk}": "finished"}
    late.refresh_from_db()
    assert late.is_live
    run = PostDeadlineRun.objects.get(window=open_window)
    assert run.finished_at is None  # asked again when the late file became live
    assert close_due_windows() == {f"run:{open_window.pk}": "finished"}
    extract = PostDeadlineOutput.objects.get(window=open_window, kind=OutputKind.PROVIDER_EXTRACT)
    assert extract.submission_id == late.pk
    assert PostDeadlineRun.objects.get(window=open_window).runs == 2


def test_file_failing_after_the_close_leaves_the_earlier_live(
    submitter_a, open_window, commissioners, tmp_path
):
    first = receive(submitter_a, tmp_path, seed=1, at=timezone.now() - timedelta(hours=2))
    process_submission(first.pk)
    late = receive(submitter_a, tmp_path, seed=2, at=timezone.now() - timedelta(minutes=5))
    # VALIDATING at the close; the run waits; then the validation fails (ERROR is never live, 7.2).
    services.submission_start(submission_id=late.pk)
    Window.objects.filter(pk=open_window.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert close_due_windows()[f"run:{open_window.pk}"] == "waiting"
    services.submission_fail(submission_id=late.pk, message="Unexpected error: RuntimeError")
    assert close_due_windows() == {f"run:{open_window.pk}": "finished"}
    first.refresh_from_db()
    late.refresh_from_db()
    assert first.is_live and late.status == Status.ERROR and not late.is_live
    extract = PostDeadlineOutput.objects.get(window=open_window, kind=OutputKind.PROVIDER_EXTRACT)
    assert extract.submission_id == first.pk
