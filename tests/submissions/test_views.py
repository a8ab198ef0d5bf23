from __future__ import annotations

import hashlib
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from submissions.models import Status, Submission
from tests.factories import PASSWORD, SubmissionFactory, WindowFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, submitter_a):  # type: ignore[no-untyped-def]
    assert client.login(username=submitter_a.username, password=PASSWORD)
    return client


@pytest.fixture(autouse=True)
def no_broker():  # type: ignore[no-untyped-def]
    with mock.patch("submissions.services._enqueue") as enqueue:
        yield enqueue


def test_home_shows_window_deadline_periods_and_live_file(signed_in, provider_a, open_window):
    live = SubmissionFactory(
        organisation=provider_a, window=open_window, status=Status.ACCEPTED, is_live=True
    )
    response = signed_in.get("/submissions/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Window W201712 is open" in text
    assert "23:59:59" in text and "days left" in text
    assert "2017-11 &ndash; Primary" in text
    assert "2017-10 &ndash; Refresh" in text
    assert f'Live file: <a href="/submissions/{live.submission_id}/">' in text


def test_home_query_count_does_not_grow_with_submissions(signed_in, provider_a, open_window):
    SubmissionFactory.create_batch(3, organisation=provider_a, window=open_window)
    with CaptureQueriesContext(connection) as few:
        signed_in.get("/submissions/")
    SubmissionFactory.create_batch(30, organisation=provider_a, window=open_window)
    with CaptureQueriesContext(connection) as many:
        signed_in.get("/submissions/")
    assert len(many) == len(few)


def test_upload_page_offers_only_open_pairs(signed_in, open_window):
    WindowFactory(
        code="W201801",
        opens_at=timezone.now() + timedelta(days=30),
        closes_at=timezone.now() + timedelta(days=50),
        primary_rp="2017-12",
        refresh_rp="2017-09",
    )
    text = signed_in.get("/submissions/upload/").content.decode()
    assert 'value="2017-11|Primary"' in text and 'value="2017-10|Refresh"' in text
    assert "2017-12|Primary" not in text


def test_upload_streams_to_storage_and_redirects_to_status(
    signed_in, open_window, no_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            "/submissions/upload/", {"pair": "2017-11|Primary", "file": _file("idb.zip", b"PK\x03\x04rest")}
        )
    sub = Submission.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/submissions/{sub.submission_id}/"
    assert sub.sha256 == hashlib.sha256(b"PK\x03\x04rest").hexdigest()
    assert sub.received_at is not None and sub.uploaded_by.username == "submitter_a"
    no_broker.assert_called_once_with(sub.pk)
    page = signed_in.get(response["Location"]).content.decode()
    assert "data-progress-url" in page and "Queued: position 1 in the queue" in page


def test_late_upload_is_refused_and_recorded(signed_in, provider_a):
    WindowFactory(
        code="W201712",
        opens_at=timezone.now() - timedelta(days=40),
        closes_at=timezone.now() - timedelta(days=10),
        primary_rp="2017-11",
        refresh_rp="2017-10",
    )
    response = signed_in.post(
        "/submissions/upload/", {"pair": "2017-11|Primary", "file": _file("idb.zip", b"x")}, follow=True
    )
    sub = Submission.objects.get()
    assert sub.status == Status.REJECTED and not sub.file
    text = response.content.decode()
    assert "FILE001" in text
    assert "Upload received after the submission window for this period closed" in text
    report = signed_in.get(f"/submissions/{sub.submission_id}/validation.csv")
    body = b"".join(report.streaming_content).decode()
    assert report["Content-Disposition"].endswith('TSTP1_2017-11_Primary_0000001_validation.csv"')
    assert f"{sub.submission_id},FILE001,FILE_REJECT" in body


def test_upload_form_errors_are_summarised(signed_in, open_window):
    response = signed_in.post("/submissions/upload/", {"pair": ""})
    text = response.content.decode()
    assert response.status_code == 200
    assert "nhsuk-error-summary" in text and "#id_file" in text
    assert not Submission.objects.exists()


def test_progress_json_reports_queue_position(signed_in, provider_a, provider_b, open_window):
    earlier = SubmissionFactory(organisation=provider_b, received_at=timezone.now() - timedelta(minutes=5))
    mine = SubmissionFactory(organisation=provider_a)
    payload = signed_in.get(f"/submissions/{mine.submission_id}/progress.json").json()
    assert payload == {
        "status": "RECEIVED",
        "status_label": "Received",
        "stage": "queued",
        "stage_label": "Queued: position 2 in the queue",
        "table": "",
        "percent": 0,
        "queue_position": 2,
        "final": False,
    }
    earlier.status = Status.VALIDATING
    earlier.save()
    mine.status = Status.VALIDATING
    mine.progress_stage, mine.progress_table, mine.progress_pct = "validating", "Referral", 40
    mine.save()
    payload = signed_in.get(f"/submissions/{mine.submission_id}/progress.json").json()
    assert (payload["stage"], payload["stage_label"], payload["percent"]) == (
        "validating",
        "Validating Referral",
        40,
    )


def test_viewer_sees_no_upload_button(client, viewer_a, open_window):
    client.login(username=viewer_a.username, password=PASSWORD)
    text = client.get("/submissions/").content.decode()
    assert "Upload a file" not in text


def _file(name: str, content: bytes):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)
