"""The processing task, run in-process: outcome, counts, artefacts, liveness, errors, idempotency."""

from __future__ import annotations

import io
import zipfile
from unittest import mock

import polars as pl
import pytest
from django.core.files.storage import default_storage

from submissions import services
from submissions.models import Status, Submission
from submissions.tasks import process_submission
from tests.factories import PASSWORD
from tests.fixtures import upload
from validation.synth import generate_idb_with_manifest, write_csvzip

pytestmark = pytest.mark.django_db


@pytest.fixture
def commissioners(commissioner_a, commissioner_b):  # type: ignore[no-untyped-def]
    return ("00C", "01A")


def receive(user, tmp_path, *, inject=None, seed=1, persons=30):  # type: ignore[no-untyped-def]
    tables, manifest = generate_idb_with_manifest(
        org="TSTP1", period="2017-11", persons=persons, seed=seed, inject=inject, commissioners=("00C", "01A")
    )
    path = tmp_path / f"idb{seed}.zip"
    write_csvzip(tables, path)
    with mock.patch("submissions.services._enqueue"):
        sub = services.submission_receive(
            user=user, upload=upload(path.name, path.read_bytes()), period="2017-11", window_type="Primary"
        )
    return sub, manifest


def test_partially_accepted_file_with_cascades(client, submitter_a, open_window, commissioners, tmp_path):
    sub, _ = receive(submitter_a, tmp_path, inject={"PER030": 1})
    assert process_submission(sub.pk) == "done"
    sub.refresh_from_db()
    assert sub.status == Status.PARTIALLY_ACCEPTED and sub.is_live
    person = sub.table_counts.get(table="Person")
    assert (person.rows_read, person.rows_rejected_record, person.rows_accepted) == (30, 1, 29)
    assert sub.total_records == 29
    rules = dict(sub.rule_counts.values_list("rule_id", "count"))
    assert rules["PER030"] == 1 and rules.get("REF130", 0) >= 1
    client.login(username=submitter_a.username, password=PASSWORD)
    page = client.get(f"/submissions/{sub.submission_id}/").content.decode()
    assert "Rows rejected because a parent row was rejected" in page
    assert "PER030" in page
    with default_storage.open(sub.extract_zip, "rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
        persons = pl.read_csv(zf.read("Person.csv"), infer_schema=False)
    assert persons.height == 29 and persons.columns[:2] == ["SUBMISSION_ID", "ROW_NUMBER"]
    assert set(sub.commissioners.values_list("code", flat=True)) <= {"00C", "01A"}


def test_rejected_file_has_report_but_no_extract(submitter_a, open_window, commissioners, tmp_path):
    sub, _ = receive(submitter_a, tmp_path, inject={"FILE022": 1})
    process_submission(sub.pk)
    sub.refresh_from_db()
    assert sub.status == Status.REJECTED and not sub.is_live
    assert sub.report_csv and not sub.extract_zip
    assert sub.rule_counts.filter(rule_id="FILE022").exists()


def test_task_is_idempotent(submitter_a, open_window, commissioners, tmp_path):
    sub, _ = receive(submitter_a, tmp_path)
    assert process_submission(sub.pk) == "done"
    assert process_submission(sub.pk) == "already-done"
    sub.refresh_from_db()
    assert sub.status == Status.ACCEPTED
    assert sub.table_counts.filter(table="Person").count() == 1
    assert sub.pathway_continuity == "n/a"  # no effective submission for 2017-10


def test_unexpected_failure_ends_in_error_not_stuck(submitter_a, open_window, commissioners, tmp_path):
    sub, _ = receive(submitter_a, tmp_path)
    with mock.patch("submissions.tasks.validate_file", side_effect=RuntimeError("boom")):
        assert process_submission(sub.pk) == "error"
    sub.refresh_from_db()
    assert sub.status == Status.ERROR and "RuntimeError" in sub.error_message
    assert not sub.is_live


def test_a_later_file_supersedes_and_a_rejected_one_does_not(
    submitter_a, open_window, commissioners, tmp_path
):
    first, _ = receive(submitter_a, tmp_path, seed=1)
    second, _ = receive(submitter_a, tmp_path, seed=2)
    bad, _ = receive(submitter_a, tmp_path, seed=3, inject={"FILE022": 1})
    for s in (second, first, bad):  # finish out of order
        process_submission(s.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_live and not first.is_live
    assert Submission.objects.filter(is_live=True).count() == 1


def test_uploader_is_emailed_the_outcome(
    mailoutbox, submitter_a, open_window, commissioners, tmp_path, django_capture_on_commit_callbacks
):
    submitter_a.email = "sam@example.nhs.uk"
    submitter_a.save()
    sub, _ = receive(submitter_a, tmp_path, inject={"PER030": 1})
    with django_capture_on_commit_callbacks(execute=True):
        process_submission(sub.pk)
    finished = [m for m in mailoutbox if not m.subject.startswith("Receipt:")]
    assert len(finished) == 1  # plus the live receipt (tests/submissions/test_notifications.py)
    mail = finished[0]
    assert mail.to == ["sam@example.nhs.uk"]
    assert mail.subject == f"{sub.submission_id} 2017-11 Primary: Partially accepted"
    assert "PER030" in mail.body and f"/submissions/{sub.submission_id}/" in mail.body
    assert "Person: 30 / 29 / 1" in mail.body


def test_admins_are_emailed_when_processing_fails(
    mailoutbox,
    submitter_a,
    admin_user,
    open_window,
    commissioners,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    admin_user.email = "ops@example.nhs.uk"
    admin_user.save()
    sub, _ = receive(submitter_a, tmp_path)
    with (
        mock.patch("submissions.tasks.validate_file", side_effect=RuntimeError("boom")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        process_submission(sub.pk)
    assert {tuple(m.to) for m in mailoutbox} >= {("ops@example.nhs.uk",)}
    assert any("ended in ERROR" in m.subject for m in mailoutbox)
