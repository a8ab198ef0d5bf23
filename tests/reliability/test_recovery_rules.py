"""The recovery rules behind faults 1, 2 and 4 (issue #8), without worker processes: the outbox's publish
mark and dispatcher, the heartbeat, the sweeper's "re-queue once, then ERROR and tell the administrators",
and ``submission_start`` dropping late or superseded deliveries. ``test_faults`` breaks real processes."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from submissions import services
from submissions.models import Status, Submission
from submissions.tasks import Heartbeat, dispatch_unqueued_submissions, sweep_stuck_submissions
from tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_mail(admin_user):  # type: ignore[no-untyped-def]
    admin_user.email = "ops@example.nhs.uk"
    admin_user.save()
    return admin_user


def ago(seconds: float):  # type: ignore[no-untyped-def]
    return timezone.now() - timedelta(seconds=seconds)


def test_publish_marks_the_submission_queued_and_a_broker_down_leaves_it_to_the_dispatcher(provider_a):
    sub = SubmissionFactory(organisation=provider_a)
    with mock.patch(
        "submissions.tasks.process_submission.apply_async", side_effect=BrokerDown("down")
    ) as pub:
        assert services._enqueue(sub.pk) is False
    sub.refresh_from_db()
    assert sub.queued_at is None and sub.status == Status.RECEIVED
    policy = pub.call_args.kwargs["retry_policy"]
    assert policy["max_retries"] <= 3 and policy["interval_max"] <= 0.5  # bounded: no hanging upload
    with mock.patch("submissions.tasks.process_submission.apply_async") as pub:
        assert services._enqueue(sub.pk) is True
    pub.assert_called_once()
    sub.refresh_from_db()
    assert sub.queued_at is not None


def test_dispatcher_publishes_only_never_queued_received_submissions_and_counts_no_requeue(provider_a):
    unqueued = SubmissionFactory(organisation=provider_a, received_at=ago(60))
    just_received = SubmissionFactory(organisation=provider_a)  # its own on-commit publish is due
    queued = SubmissionFactory(organisation=provider_a, received_at=ago(60), queued_at=ago(50))
    validating = SubmissionFactory(organisation=provider_a, received_at=ago(60), status=Status.VALIDATING)
    with mock.patch("submissions.tasks.process_submission.apply_async") as pub:
        assert dispatch_unqueued_submissions() == {"published": 1, "failed": 0}
    assert [c.args[0] for c in pub.call_args_list] == [(unqueued.pk,)]
    unqueued.refresh_from_db()
    assert unqueued.queued_at is not None and unqueued.sweeper_requeues == 0 and unqueued.attempts == 0
    for other in (just_received, queued, validating):
        before = other.queued_at
        other.refresh_from_db()
        assert other.queued_at == before


def test_dispatcher_stops_at_the_first_failure_and_tries_again_next_time(provider_a):
    for _ in range(3):
        SubmissionFactory(organisation=provider_a, received_at=ago(60))
    with mock.patch(
        "submissions.tasks.process_submission.apply_async", side_effect=BrokerDown("down")
    ) as pub:
        assert dispatch_unqueued_submissions() == {"published": 0, "failed": 1}
    assert pub.call_count == 1
    with mock.patch("submissions.tasks.process_submission.apply_async"):
        assert dispatch_unqueued_submissions() == {"published": 3, "failed": 0}
    assert not Submission.objects.filter(queued_at__isnull=True).exists()


def test_sweeper_takes_a_validating_submission_without_heartbeat_as_lost(  # type: ignore[no-untyped-def]
    provider_a, settings, django_capture_on_commit_callbacks, admin_mail, mailoutbox
):
    settings.SUBMISSION_LOST_AFTER = 120
    lost = SubmissionFactory(
        organisation=provider_a,
        status=Status.VALIDATING,
        started_at=ago(300),
        heartbeat_at=ago(130),
        attempts=1,
    )
    alive = SubmissionFactory(
        organisation=provider_a,
        status=Status.VALIDATING,
        started_at=ago(900),
        heartbeat_at=ago(5),
        attempts=1,
    )
    with (
        mock.patch("submissions.tasks.process_submission.apply_async") as pub,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert sweep_stuck_submissions() == {"requeued": 1}
    assert [c.args[0] for c in pub.call_args_list] == [(lost.pk,)]
    lost.refresh_from_db()
    alive.refresh_from_db()
    assert lost.status == Status.RECEIVED and lost.sweeper_requeues == 1 and lost.queued_at is not None
    assert alive.status == Status.VALIDATING
    assert [m.subject for m in mailoutbox] == [
        f"Submission {lost.submission_id} was stuck and has been re-queued"
    ]
    assert "no heartbeat for 120 seconds" in mailoutbox[0].body


def test_fault4_stuck_submission_is_requeued_once_then_error_and_admins_told(  # type: ignore[no-untyped-def]
    provider_a, settings, django_capture_on_commit_callbacks, admin_mail, mailoutbox
):
    """Fault 4 with the beat-less task call: stuck past SUBMISSION_STUCK_AFTER, re-queued once; the re-queued
    run never happens (its message lost too), so the next sweep marks it ERROR and tells the administrators."""
    settings.SUBMISSION_STUCK_AFTER = 3600
    sub = SubmissionFactory(
        organisation=provider_a,
        received_at=ago(7300),
        queued_at=ago(7300),  # published, but no worker ever started it
    )
    with (
        mock.patch("submissions.tasks.process_submission.apply_async") as pub,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert sweep_stuck_submissions() == {"requeued": 1}
        assert sweep_stuck_submissions() == {}  # just re-queued: not stuck again yet
        Submission.objects.filter(pk=sub.pk).update(queued_at=ago(3700))  # an hour later, still waiting
        assert sweep_stuck_submissions() == {"failed": 1}
    assert pub.call_count == 1
    sub.refresh_from_db()
    assert sub.status == Status.ERROR and sub.error_message == "Processing did not finish after two attempts."
    subjects = [m.subject for m in mailoutbox]
    assert subjects == [
        f"Submission {sub.submission_id} was stuck and has been re-queued",
        f"Submission {sub.submission_id} ended in ERROR",
    ]


def test_late_or_superseded_deliveries_are_dropped(provider_a, settings):  # type: ignore[no-untyped-def]
    settings.SUBMISSION_LOST_AFTER = 120
    sub = SubmissionFactory(organisation=provider_a)
    assert services.submission_start(submission_id=sub.pk, task_id="first") is not None
    # The sweeper re-queued it (worker lost) and a new task claimed it: a second worker is alive with it.
    Submission.objects.filter(pk=sub.pk).update(status=Status.RECEIVED)
    assert services.submission_start(submission_id=sub.pk, task_id="second") is not None
    # The first task's message redelivered late, or a retry of the first task: dropped.
    assert services.submission_start(submission_id=sub.pk, task_id="first") is None
    assert services.submission_start(submission_id=sub.pk, retry=True, task_id="first") is None
    assert services.submission_start(submission_id=sub.pk, task_id="other") is None
    # Once the heartbeat is stale anyone takes it over; once final nobody.
    Submission.objects.filter(pk=sub.pk).update(heartbeat_at=ago(200))
    taken = services.submission_start(submission_id=sub.pk, task_id="third")
    assert taken is not None and taken.task_id == "third" and taken.attempts == 3
    Submission.objects.filter(pk=sub.pk).update(status=Status.ACCEPTED)
    assert services.submission_start(submission_id=sub.pk, task_id="fourth") is None


def test_the_holders_own_message_takes_over_at_once_but_not_forever(provider_a, settings):  # type: ignore[no-untyped-def]
    """Its retry, or its redelivery after its pool process was killed (reject_on_worker_lost), takes the
    submission over though the heartbeat is fresh; a file that kills its worker every time ends in ERROR."""
    settings.SUBMISSION_LOST_AFTER = 120
    sub = SubmissionFactory(organisation=provider_a)
    assert services.submission_start(submission_id=sub.pk, task_id="t1").attempts == 1
    assert services.submission_start(submission_id=sub.pk, task_id="t1").attempts == 2  # redelivered
    assert services.submission_start(submission_id=sub.pk, retry=True, task_id="t1").attempts == 3
    assert services.submission_start(submission_id=sub.pk, task_id="t1") is None
    sub.refresh_from_db()
    assert sub.status == Status.ERROR and "worker lost" in sub.error_message


@pytest.mark.django_db(transaction=True)
def test_heartbeat_thread_writes_while_the_task_runs(provider_a):  # type: ignore[no-untyped-def]
    sub = SubmissionFactory(organisation=provider_a, status=Status.VALIDATING, heartbeat_at=ago(600))
    beat = Heartbeat(sub.pk, interval=0.05)
    beat.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            sub.refresh_from_db()
            if sub.heartbeat_at > ago(5):
                break
            time.sleep(0.05)
    finally:
        beat.stop()
    assert sub.heartbeat_at > ago(5)


@pytest.mark.django_db(transaction=True)  # the publish runs on commit, inside the request, as in production
def test_upload_with_a_hung_broker_answers_within_the_socket_timeout(  # type: ignore[no-untyped-def]
    client, submitter_a, open_window
):
    """A broker that accepts the connection and never answers (the worst case; a stopped one refuses at
    once, see test_faults): the upload still answers, after the Redis socket timeout, and the file waits
    for the outbox relay."""
    import socket

    from tests.factories import PASSWORD
    from tests.fixtures import csv_zip

    from .instances import celery_publishing_to

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        assert client.login(username=submitter_a.username, password=PASSWORD)
        with celery_publishing_to(url, "hung"):
            started = time.monotonic()
            response = client.post(
                "/submissions/upload/",
                {
                    "pair": "2017-11|Primary",
                    "file": SimpleUploadedFile("idb.zip", csv_zip({"Header": "x\n1\n"})),
                },
            )
            seconds = time.monotonic() - started
    assert response.status_code == 302
    sub = Submission.objects.get()
    assert sub.status == Status.RECEIVED and sub.queued_at is None
    print(f"\nupload with a hung broker: {seconds:.1f} s")
    assert seconds < 12, seconds


def test_database_errors_past_the_retries_end_in_error_with_nothing_live(  # type: ignore[no-untyped-def]
    provider_a, submitter_a, open_window, commissioner_a, django_capture_on_commit_callbacks, tmp_path
):
    """Fault 3's other ending: the load fails on every attempt (the database keeps dropping the COPY); after
    the last retry the submission is ERROR with a message saying why, not live, with no accepted rows."""
    from django.db import OperationalError

    from reporting.models import ACCEPTED_MODELS
    from submissions.tasks import process_submission
    from validation.synth import generate_idb, write_csvzip

    path = tmp_path / "idb.zip"
    write_csvzip(
        generate_idb(org="TSTP1", period="2017-11", persons=40, seed=3, commissioners=("00C",)), path
    )
    with mock.patch("submissions.services._enqueue"):
        sub = services.submission_receive(
            user=submitter_a,
            upload=SimpleUploadedFile("idb.zip", path.read_bytes()),
            period="2017-11",
            window_type="Primary",
        )
    failing = OperationalError("server closed the connection unexpectedly")
    with (
        mock.patch("submissions.tasks.accepted_rows_load", side_effect=failing),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = process_submission.apply(args=[sub.pk], retries=process_submission.max_retries)
    assert result.get() == "error"
    sub.refresh_from_db()
    assert sub.status == Status.ERROR and not sub.is_live
    assert sub.error_message.startswith("Processing failed repeatedly: server closed the connection")
    assert not any(m._default_manager.filter(submission_id=sub.pk).exists() for m in ACCEPTED_MODELS.values())


def test_admin_rerun_of_an_error_goes_through_the_outbox_and_resets_the_counts(  # type: ignore[no-untyped-def]
    admin_client, provider_a, django_capture_on_commit_callbacks
):
    sub = SubmissionFactory(
        organisation=provider_a, status=Status.ERROR, queued_at=ago(7200), sweeper_requeues=1, attempts=2
    )
    with (
        mock.patch("submissions.tasks.process_submission.apply_async", side_effect=BrokerDown("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(
            "/admin/submissions/submission/", {"action": "rerun", "_selected_action": [sub.pk]}
        )
    assert response.status_code == 302
    sub.refresh_from_db()
    # The broker was down: RECEIVED and not queued, so the relay publishes it (not a stuck one for the sweeper).
    assert sub.status == Status.RECEIVED and sub.queued_at is None and sub.sweeper_requeues == 0
    assert sub.attempts == 0 and sub.task_id == ""
    assert services.submissions_to_dispatch(grace_seconds=0) == [sub.pk]


def _taken_over(sub: Submission, *, by: str) -> None:
    """What the sweeper and a second worker do to a run whose heartbeat went stale: a new claim."""
    Submission.objects.filter(pk=sub.pk).update(heartbeat_at=ago(200))
    assert services.submission_start(submission_id=sub.pk, task_id=by) is not None


def test_a_run_whose_claim_was_taken_over_cannot_beat_record_fail_or_requeue(  # type: ignore[no-untyped-def]
    provider_a, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.SUBMISSION_LOST_AFTER = 120
    sub = SubmissionFactory(organisation=provider_a)
    assert services.submission_start(submission_id=sub.pk, task_id="first") is not None
    _taken_over(sub, by="second")
    Submission.objects.filter(pk=sub.pk).update(heartbeat_at=ago(60))
    sub.refresh_from_db()
    before = sub.heartbeat_at

    services.submission_heartbeat(submission_id=sub.pk, task_id="first")
    services.submission_set_progress(
        submission_id=sub.pk, stage="loading", table=None, pct=90, task_id="first"
    )
    sub.refresh_from_db()
    assert sub.heartbeat_at == before and sub.progress_stage != "loading"  # the new claim is not kept alive
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(services.Superseded):
            services.submission_check_claim(submission_id=sub.pk, task_id="first")
        with pytest.raises(services.Superseded):
            services.submission_record_result(
                submission_id=sub.pk,
                outcome="Accepted",
                profile=None,
                counts=[services.TableCountRow("Person", 1, 1, 0, 0, 0)],
                rule_counts={},
                commissioners={},
                total_records=1,
                artefacts={},
                task_id="first",
            )
        with pytest.raises(services.Superseded):
            services.submission_fail(submission_id=sub.pk, message="IntegrityError", task_id="first")
        with pytest.raises(services.Superseded):
            services.submission_requeue_after_transient_error(
                submission_id=sub.pk, reason="x", task_id="first"
            )
    sub.refresh_from_db()
    assert sub.status == Status.VALIDATING and sub.task_id == "second" and sub.error_message == ""
    assert not sub.table_counts.exists()
    assert mailoutbox == []

    # The holder beats, checks and finishes; a stale run finding it final still cannot write.
    services.submission_heartbeat(submission_id=sub.pk, task_id="second")
    sub.refresh_from_db()
    assert sub.heartbeat_at > before
    services.submission_check_claim(submission_id=sub.pk, task_id="second")
    services.submission_fail(submission_id=sub.pk, message="boom", task_id="second")
    with pytest.raises(services.Superseded):
        services.submission_fail(submission_id=sub.pk, message="late", task_id="first")
    sub.refresh_from_db()
    assert sub.status == Status.ERROR and sub.error_message == "boom"


def test_a_run_requeued_by_the_sweeper_is_superseded_before_anyone_claims_it(provider_a, settings):  # type: ignore[no-untyped-def]
    settings.SUBMISSION_LOST_AFTER = 120
    sub = SubmissionFactory(organisation=provider_a)
    services.submission_start(submission_id=sub.pk, task_id="first")
    Submission.objects.filter(pk=sub.pk).update(heartbeat_at=ago(200))
    with mock.patch("submissions.services._enqueue"):
        assert services.submission_sweep_one(submission_id=sub.pk) == "requeued"
    with pytest.raises(services.Superseded):
        services.submission_fail(submission_id=sub.pk, message="late", task_id="first")
    sub.refresh_from_db()
    assert sub.status == Status.RECEIVED
    # A call without a task id (a test, a management command) is not fenced.
    services.submission_fail(submission_id=sub.pk, message="by hand")
    sub.refresh_from_db()
    assert sub.status == Status.ERROR


@pytest.fixture
def idb_submission(submitter_a, open_window, commissioner_a, tmp_path):  # type: ignore[no-untyped-def]
    from validation.synth import generate_idb, write_csvzip

    path = tmp_path / "idb.zip"
    write_csvzip(
        generate_idb(org="TSTP1", period="2017-11", persons=40, seed=3, commissioners=("00C",)), path
    )
    with mock.patch("submissions.services._enqueue"):
        return services.submission_receive(
            user=submitter_a,
            upload=SimpleUploadedFile("idb.zip", path.read_bytes()),
            period="2017-11",
            window_type="Primary",
        )


def test_a_run_taken_over_while_validating_loads_no_rows_and_stops_quietly(  # type: ignore[no-untyped-def]
    idb_submission, settings, django_capture_on_commit_callbacks, mailoutbox
):
    """The reviewer's case: the database was away while the run validated, its heartbeat went stale, the
    sweeper re-queued it and another task claimed it. The stale run loads nothing and records nothing."""
    from reporting.models import ACCEPTED_MODELS, AcceptedDataLoad
    from submissions import tasks

    settings.SUBMISSION_LOST_AFTER = 120
    sub = idb_submission
    validate = tasks.validate_file

    def validated_then_taken_over(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = validate(*args, **kwargs)
        _taken_over(sub, by="second")
        Submission.objects.filter(pk=sub.pk).update(heartbeat_at=ago(30), progress_stage="validating")
        return result

    with (
        mock.patch("submissions.tasks.validate_file", side_effect=validated_then_taken_over),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = tasks.process_submission.apply(args=[sub.pk], task_id="first")
    assert result.get() == "superseded"
    sub.refresh_from_db()
    assert sub.status == Status.VALIDATING and sub.task_id == "second" and sub.attempts == 2
    assert sub.heartbeat_at < ago(20) and sub.progress_stage == "validating"  # no beat, no progress
    assert not any(m._default_manager.filter(submission_id=sub.pk).exists() for m in ACCEPTED_MODELS.values())
    assert not AcceptedDataLoad.objects.filter(submission_id=sub.pk).exists()
    assert mailoutbox == []


def test_a_stale_runs_failed_load_does_not_put_the_new_claim_in_error(  # type: ignore[no-untyped-def]
    idb_submission, settings, django_capture_on_commit_callbacks, mailoutbox
):
    """Taken over during the load; the stale run's COPY then collides with the new run's rows."""
    from django.db import IntegrityError

    from submissions import tasks

    settings.SUBMISSION_LOST_AFTER = 120
    sub = idb_submission

    def collides(**kwargs):  # type: ignore[no-untyped-def]
        _taken_over(sub, by="second")
        raise IntegrityError("duplicate key value violates unique constraint")

    with (
        mock.patch("submissions.tasks.accepted_rows_load", side_effect=collides),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = tasks.process_submission.apply(args=[sub.pk], task_id="first")
    assert result.get() == "superseded"
    sub.refresh_from_db()
    assert sub.status == Status.VALIDATING and sub.task_id == "second" and sub.error_message == ""
    assert mailoutbox == []


def test_a_transient_error_requeues_with_a_fresh_queued_at(provider_a, settings):  # type: ignore[no-untyped-def]
    """The retry is being published: the time the file waited in the queue before this run is not time
    stuck for the sweeper during the retry's countdown."""
    settings.SUBMISSION_STUCK_AFTER = 3600
    sub = SubmissionFactory(organisation=provider_a, received_at=ago(7300), queued_at=ago(7200))
    services.submission_start(submission_id=sub.pk, task_id="t1")
    services.submission_requeue_after_transient_error(
        submission_id=sub.pk, reason="server closed", task_id="t1"
    )
    sub.refresh_from_db()
    assert sub.status == Status.RECEIVED and sub.queued_at > ago(5)
    with mock.patch("submissions.tasks.process_submission.apply_async") as pub:
        assert sweep_stuck_submissions() == {}
    pub.assert_not_called()
    assert services.submission_start(submission_id=sub.pk, retry=True, task_id="t1") is not None


def test_submission_rerun_resets_the_counts_and_claim_and_publishes_through_the_outbox(  # type: ignore[no-untyped-def]
    provider_a, admin_user, django_capture_on_commit_callbacks
):
    from portal.errors import PortalError
    from portal.models import AuditEvent

    sub = SubmissionFactory(
        organisation=provider_a,
        status=Status.ERROR,
        queued_at=ago(7200),
        sweeper_requeues=1,
        attempts=3,
        task_id="old",
    )
    with (
        mock.patch("submissions.tasks.process_submission.apply_async") as pub,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.submission_rerun(submission_id=sub.pk, actor=admin_user)
    assert [c.args[0] for c in pub.call_args_list] == [(sub.pk,)]
    sub.refresh_from_db()
    assert sub.status == Status.RECEIVED and sub.attempts == 0 and sub.sweeper_requeues == 0
    assert sub.task_id == "" and sub.queued_at is not None and sub.queued_at > ago(5)
    event = AuditEvent.objects.get(action="submission.status", object_id=str(sub.pk))
    assert (event.actor, event.from_state, event.to_state) == (admin_user, Status.ERROR, Status.RECEIVED)
    assert event.details == {"reason": "administrator re-run"}
    # The old task's late message is dropped by the new claim's fencing; a second re-run is refused.
    assert services.submission_start(submission_id=sub.pk, task_id="new") is not None
    with pytest.raises(services.Superseded):
        services.submission_fail(submission_id=sub.pk, message="late", task_id="old")
    with pytest.raises(PortalError):
        services.submission_rerun(submission_id=sub.pk, actor=admin_user)
