"""A real Celery worker process (not eager mode) validates a real upload end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from portal.celery import app as celery_app
from submissions.models import Status, Submission
from tests.factories import PASSWORD
from validation.synth import generate_idb, write_csvzip

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(tmp_path: Path, settings):  # type: ignore[no-untyped-def]
    queue = f"test-{uuid.uuid4().hex[:8]}"
    old_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "PORTAL_MEDIA_ROOT": settings.STORAGES["default"]["OPTIONS"]["location"],
        "CELERY_QUEUE": queue,
    }
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    celery_app.conf.task_default_queue = old_queue
    log.close()


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
