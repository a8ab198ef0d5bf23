"""A real Celery worker process (not eager mode) validates a real upload end to end."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from portal.celery import app as celery_app
from submissions.models import Status, Submission
from tests.factories import PASSWORD
from tests.workers import start_worker
from validation.synth import generate_idb, write_csvzip

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path: Path, settings):  # type: ignore[no-untyped-def]
    queue = f"test-{uuid.uuid4().hex[:8]}"
    old_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    proc = start_worker(
        queue=queue,
        log_path=tmp_path / "worker.log",
        media_root=settings.STORAGES["default"]["OPTIONS"]["location"],
    )
    yield proc.proc
    proc.stop()
    celery_app.conf.task_default_queue = old_queue


def test_worker_validates_an_uploaded_file(
    client, submitter_a, open_window, commissioner_a, worker, tmp_path
):  # type: ignore[no-untyped-def]
    path = tmp_path / "idb.zip"
    write_csvzip(
        generate_idb(org="TSTP1", period="2017-11", persons=40, seed=3, commissioners=("00C",)), path
    )
    assert client.login(username=submitter_a.username, password=PASSWORD)
    with path.open("rb") as fh:
        response = client.post("/submissions/upload/", {"pair": "2017-11|Primary", "file": fh})
    assert response.status_code == 302
    sub = Submission.objects.get()
    assert sub.status in (Status.RECEIVED, Status.VALIDATING)
    deadline = time.monotonic() + 120
    seen_stages = set()
    while time.monotonic() < deadline:
        payload = client.get(f"/submissions/{sub.submission_id}/progress.json").json()
        seen_stages.add(payload["stage"])
        if payload["final"]:
            break
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        time.sleep(0.2)
    sub.refresh_from_db()
    assert sub.status == Status.ACCEPTED, (
        sub.status,
        sub.error_message,
        (tmp_path / "worker.log").read_text()[-3000:],
    )
    assert sub.is_live and sub.total_records == 40
    assert sub.table_counts.get(table="Person").rows_accepted == 40
    report = client.get(f"/submissions/{sub.submission_id}/validation.csv")
    assert report.status_code == 200
    extract = client.get(f"/submissions/{sub.submission_id}/extract.zip")
    assert extract.status_code == 200
    page = client.get(f"/submissions/{sub.submission_id}/")
    assert b"Accepted" in page.content and b"live file" in page.content
