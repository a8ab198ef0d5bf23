import hashlib
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from portal.errors import PortalError
from portal.models import AuditEvent
from submissions import services
from submissions.models import Status, Submission
from tests.factories import SubmissionFactory, WindowFactory
from tests.fixtures import upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker():  # type: ignore[no-untyped-def]
    with mock.patch("submissions.services._enqueue") as enqueue:
        yield enqueue


def test_receive_stores_file_with_hash_and_enqueues_on_commit(
    submitter_a, open_window, no_broker, django_capture_on_commit_callbacks
):
    content = b"PK\x03\x04 not really a zip"
    with django_capture_on_commit_callbacks(execute=True):
        sub = services.submission_receive(
            user=submitter_a, upload=upload("idb.zip", content), period="2017-11", window_type="Primary"
        )
    assert sub.status == Status.RECEIVED
    assert sub.submission_id == "TSTP1-0000001"
    assert sub.window == open_window
    assert sub.size == len(content)
    assert sub.original_name == "idb.zip"
    assert sub.uploaded_by == submitter_a
    with default_storage.open(sub.file.name, "rb") as fh:
        assert fh.read() == content
    no_broker.assert_called_once_with(sub.pk)
    assert AuditEvent.objects.filter(action="submission.received", object_id=str(sub.pk)).exists()


def test_hash_is_taken_from_the_streaming_handler(submitter_a, open_window):
    f = upload("idb.zip", b"abc")
    f.sha256 = hashlib.sha256(b"abc").hexdigest()
    sub = services.submission_receive(user=submitter_a, upload=f, period="2017-11", window_type="Primary")
    assert sub.sha256 == hashlib.sha256(b"abc").hexdigest()


def test_bsp_numbers_are_per_provider_and_include_refusals(submitter_a, submitter_b, open_window):
    a1 = services.submission_receive(
        user=submitter_a, upload=upload("a.zip", b"x"), period="2017-11", window_type="Primary"
    )
    a2 = services.submission_receive(
        user=submitter_a, upload=upload("a.txt", b"x"), period="2017-11", window_type="Primary"
    )
    b1 = services.submission_receive(
        user=submitter_b, upload=upload("b.zip", b"x"), period="2017-11", window_type="Primary"
    )
    a3 = services.submission_receive(
        user=submitter_a, upload=upload("a.zip", b"x"), period="2016-01", window_type="Primary"
    )
    assert [a1.bsp_unique_id, a2.bsp_unique_id, a3.bsp_unique_id] == [1, 2, 3]
    assert b1.submission_id == "TSTP2-0000001"
    assert a2.status == Status.REJECTED and a3.status == Status.REJECTED


@pytest.mark.parametrize(
    ("period", "window_type", "shift", "rule"),
    [
        ("2017-11", "Primary", timedelta(0), None),
        ("2017-10", "Refresh", timedelta(0), None),
        ("2017-11", "Refresh", timedelta(0), "FILE002"),  # not offered as Refresh by any window
        ("2017-11", "Primary", timedelta(days=20), "FILE001"),  # after the close: late
        ("2017-11", "Primary", timedelta(days=-5), "FILE002"),  # before the window opened
    ],
)
def test_gate(submitter_a, open_window, period, window_type, shift, rule):
    at = timezone.now() + shift
    assert services.gate_check(period=period, window_type=window_type, at=at).rule_id == rule


def test_gate_boundaries_are_half_open(open_window):
    assert (
        services.gate_check(period="2017-11", window_type="Primary", at=open_window.opens_at).rule_id is None
    )
    just_before_close = open_window.closes_at - timedelta(milliseconds=600)
    assert services.gate_check(period="2017-11", window_type="Primary", at=just_before_close).rule_id is None
    assert (
        services.gate_check(period="2017-11", window_type="Primary", at=open_window.closes_at).rule_id
        == "FILE001"
    )


def test_refused_upload_is_recorded_without_content(submitter_a, open_window, no_broker):
    late = open_window.closes_at + timedelta(seconds=1)
    sub = services.submission_receive(
        user=submitter_a,
        upload=upload("idb.zip", b"data"),
        period="2017-11",
        window_type="Primary",
        received_at=late,
    )
    assert sub.status == Status.REJECTED
    assert not sub.file
    assert list(sub.rule_counts.values_list("rule_id", flat=True)) == ["FILE001"]
    with default_storage.open(sub.report_csv, "rb") as fh:
        text = fh.read().decode("utf-8-sig")
    assert "FILE001" in text and "after the submission window" in text
    no_broker.assert_not_called()
    assert AuditEvent.objects.filter(action="submission.refused").count() == 1


@pytest.mark.parametrize(
    ("name", "content", "rule"), [("idb.xls", b"x", "FILE003"), ("idb.zip", b"", "FILE004")]
)
def test_early_read_refusals_store_nothing(submitter_a, open_window, name, content, rule):
    sub = services.submission_receive(
        user=submitter_a, upload=upload(name, content), period="2017-11", window_type="Primary"
    )
    assert sub.status == Status.REJECTED and not sub.file
    assert sub.rule_counts.get().rule_id == rule


def test_oversized_upload_is_refused_with_file004(submitter_a, open_window):
    f = upload("idb.zip", b"")
    f.oversized = True
    f.received_size = 10**10
    sub = services.submission_receive(user=submitter_a, upload=f, period="2017-11", window_type="Primary")
    assert sub.rule_counts.get().rule_id == "FILE004"
    assert sub.size == 10**10


def test_viewer_cannot_upload(viewer_a, open_window):
    with pytest.raises(PortalError):
        services.submission_receive(
            user=viewer_a, upload=upload("a.zip", b"x"), period="2017-11", window_type="Primary"
        )


def test_transitions_are_enforced_and_audited(provider_a):
    sub = SubmissionFactory(organisation=provider_a)
    services.submission_transition(submission=sub, to=Status.VALIDATING)
    with pytest.raises(PortalError):
        services.submission_transition(submission=sub, to=Status.ACCEPTED_WITH_WARNINGS + "X")
    services.submission_transition(submission=sub, to=Status.ACCEPTED)
    with pytest.raises(PortalError):
        services.submission_transition(submission=sub, to=Status.RECEIVED)
    events = AuditEvent.objects.filter(action="submission.status", object_id=str(sub.pk))
    assert sorted((e.from_state, e.to_state) for e in events) == [
        ("RECEIVED", "VALIDATING"),
        ("VALIDATING", "ACCEPTED"),
    ]


def test_live_is_latest_successful_by_received_at_then_bsp(provider_a, open_window):
    now = timezone.now()
    older = SubmissionFactory(
        organisation=provider_a,
        window=open_window,
        received_at=now - timedelta(hours=2),
        status=Status.ACCEPTED,
    )
    newer = SubmissionFactory(
        organisation=provider_a,
        window=open_window,
        received_at=now - timedelta(hours=1),
        status=Status.PARTIALLY_ACCEPTED,
    )
    SubmissionFactory(organisation=provider_a, window=open_window, received_at=now, status=Status.REJECTED)
    SubmissionFactory(organisation=provider_a, window=open_window, received_at=now, status=Status.ERROR)
    live = services.submission_resolve_live(organisation=provider_a, period="2017-11", window_type="Primary")
    assert live == newer
    older.refresh_from_db()
    assert not older.is_live
    # A file that finishes later but was received earlier does not displace the live one.
    late_finisher = SubmissionFactory(
        organisation=provider_a,
        window=open_window,
        received_at=now - timedelta(hours=3),
        status=Status.ACCEPTED,
    )
    assert (
        services.submission_resolve_live(organisation=provider_a, period="2017-11", window_type="Primary")
        == newer
    )
    late_finisher.refresh_from_db()
    assert not late_finisher.is_live
    # Equal received_at: the higher BSP number wins.
    tie = SubmissionFactory(
        organisation=provider_a,
        window=open_window,
        received_at=newer.received_at,
        status=Status.ACCEPTED,
        bsp_unique_id=newer.bsp_unique_id + 100,
    )
    assert (
        services.submission_resolve_live(organisation=provider_a, period="2017-11", window_type="Primary")
        == tie
    )
    newer.refresh_from_db()
    assert newer.superseded_by == tie
    assert Submission.objects.filter(organisation=provider_a, is_live=True).count() == 1


def test_refresh_and_primary_are_separate_live_groups(provider_a):
    WindowFactory(primary_rp="2017-11", refresh_rp="2017-10")
    p = SubmissionFactory(
        organisation=provider_a, period="2017-10", window_type="Primary", status=Status.ACCEPTED
    )
    r = SubmissionFactory(
        organisation=provider_a, period="2017-10", window_type="Refresh", status=Status.ACCEPTED
    )
    assert (
        services.submission_resolve_live(organisation=provider_a, period="2017-10", window_type="Primary")
        == p
    )
    assert (
        services.submission_resolve_live(organisation=provider_a, period="2017-10", window_type="Refresh")
        == r
    )


def test_sweeper_requeues_once_then_fails_loudly(
    provider_a, no_broker, django_capture_on_commit_callbacks, admin_user, mailoutbox
):
    admin_user.email = "ops@example.nhs.uk"
    admin_user.save()
    from submissions.tasks import sweep_stuck_submissions

    old = timezone.now() - timedelta(hours=3)
    waiting = SubmissionFactory(organisation=provider_a, received_at=old, queued_at=old)  # message lost
    unqueued = SubmissionFactory(organisation=provider_a, received_at=old)  # the dispatcher's, not stuck
    dead = SubmissionFactory(
        organisation=provider_a, received_at=old, status=Status.VALIDATING, started_at=old, attempts=1
    )
    hopeless = SubmissionFactory(
        organisation=provider_a, received_at=old, status=Status.VALIDATING, started_at=old, attempts=2
    )
    fresh = SubmissionFactory(organisation=provider_a)
    with django_capture_on_commit_callbacks(execute=True):
        result = sweep_stuck_submissions()
    assert result == {"requeued": 2, "failed": 1}
    assert sorted(c.args[0] for c in no_broker.call_args_list) == sorted([waiting.pk, dead.pk])
    dead.refresh_from_db()
    hopeless.refresh_from_db()
    fresh.refresh_from_db()
    assert dead.status == Status.RECEIVED
    assert hopeless.status == Status.ERROR and "two attempts" in hopeless.error_message
    assert fresh.status == Status.RECEIVED
    unqueued.refresh_from_db()
    assert unqueued.status == Status.RECEIVED and unqueued.queued_at is None
    subjects = sorted(m.subject for m in mailoutbox)
    assert sum("was stuck and has been re-queued" in s for s in subjects) == 2
    assert sum("ended in ERROR" in s for s in subjects) == 1


def test_duplicate_delivery_while_busy_is_dropped(provider_a):
    busy = SubmissionFactory(organisation=provider_a, status=Status.VALIDATING, started_at=timezone.now())
    assert services.submission_start(submission_id=busy.pk) is None
    assert services.submission_start(submission_id=busy.pk, retry=True) is not None
