"""Issue 8, fault 5: the same file (same SHA-256, same context) is recognised and not validated twice.

Design (docs/decisions.md, "Reliability"): an upload is compared with the LATEST submission of its
(organisation, period, window type, window) that was not refused on receipt; the same bytes under the same
rule set, in progress or final with a result (not ERROR), is not stored: the service raises
``DuplicateFile`` naming the earlier submission, the web shows it on the form, the API answers 409, and the
audit trail has a ``submission.duplicate`` row. Out-of-order finishing (spec 7.3) is tested through the task
in tests/submissions/test_close.py (``test_a_late_finishing_earlier_upload_does_not_displace``) and here
for identical bytes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.utils import timezone

from portal.models import AuditEvent
from submissions import services
from submissions.models import Status, Submission
from submissions.tasks import process_submission
from tests.api.conftest import bearer
from validation.synth import generate_idb, write_csvzip

pytestmark = pytest.mark.django_db


def idb_bytes(
    tmp_path, *, org: str = "TSTP1", period: str = "2017-11", seed: int = 1, persons: int = 15
) -> bytes:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{org}-{period}-{seed}.zip"
    write_csvzip(
        generate_idb(org=org, period=period, persons=persons, seed=seed, commissioners=("00C",)), path
    )
    return path.read_bytes()


def hashed(name: str, content: bytes) -> SimpleUploadedFile:
    """An upload as the streaming upload handler leaves it (with its SHA-256)."""
    f = SimpleUploadedFile(name, content)
    f.sha256 = hashlib.sha256(content).hexdigest()  # type: ignore[attr-defined]
    return f


def receive(
    user,
    content: bytes,
    *,
    name: str = "idb.zip",
    period: str = "2017-11",
    window_type: str = "Primary",
    at=None,
):  # type: ignore[no-untyped-def]
    with mock.patch("submissions.services._enqueue"):
        return services.submission_receive(
            user=user, upload=hashed(name, content), period=period, window_type=window_type, received_at=at
        )


@pytest.fixture
def files(tmp_path):  # type: ignore[no-untyped-def]
    return {"a": idb_bytes(tmp_path, seed=1), "b": idb_bytes(tmp_path, seed=2)}


# ------------------------------------------------------------------------------------------ service


def test_same_file_again_is_not_stored_and_names_the_earlier_one(submitter_a, open_window, files):
    first = receive(submitter_a, files["a"])
    with pytest.raises(services.DuplicateFile) as caught:
        receive(submitter_a, files["a"], name="renamed.zip")
    assert caught.value.existing == first and caught.value.code == "duplicate_file"
    message = caught.value.message
    assert first.submission_id in message and "received " in message and "not stored or validated" in message
    assert Submission.objects.count() == 1
    event = AuditEvent.objects.get(action="submission.duplicate")
    assert event.object_id == str(first.pk) and event.actor == submitter_a
    assert (
        event.details["identical_to"] == first.submission_id and event.details["file_name"] == "renamed.zip"
    )
    # The refused duplicate used no BSP number.
    assert receive(submitter_a, files["b"]).bsp_unique_id == first.bsp_unique_id + 1


def test_a_final_submission_with_a_result_blocks_through_the_task(
    submitter_a, open_window, commissioner_a, files
):
    first = receive(submitter_a, files["a"])
    assert process_submission(first.pk) == "done"
    first.refresh_from_db()
    assert first.is_live
    with pytest.raises(services.DuplicateFile) as caught:
        receive(submitter_a, files["a"])
    assert first.get_status_display() in caught.value.message
    assert Submission.objects.count() == 1


def test_an_error_submission_does_not_block_a_reupload(submitter_a, open_window, files):
    first = receive(submitter_a, files["a"])
    with mock.patch("submissions.tasks.validate_file", side_effect=RuntimeError("boom")):
        assert process_submission(first.pk) == "error"
    again = receive(submitter_a, files["a"])
    assert again.pk != first.pk and again.status == Status.RECEIVED


def test_reinstating_an_older_file_still_works(submitter_a, open_window, commissioner_a, files):
    """Only the latest submission is compared: A, B, A again makes A's content live again (7.3)."""
    t0 = timezone.now() - timedelta(hours=1)
    a1 = receive(submitter_a, files["a"], at=t0)
    b = receive(submitter_a, files["b"], at=t0 + timedelta(minutes=1))
    a2 = receive(submitter_a, files["a"], at=t0 + timedelta(minutes=2))
    for sub in (a1, b, a2):
        process_submission(sub.pk)
    live = Submission.objects.get(is_live=True)
    assert live == a2 and live.sha256 == a1.sha256


def test_other_context_or_rule_set_is_not_a_duplicate(submitter_a, submitter_b, open_window, files):
    first = receive(submitter_a, files["a"])
    receive(submitter_a, files["a"], period="2017-10", window_type="Refresh")  # another pair
    receive(submitter_b, files["a"])  # another organisation
    assert Submission.objects.count() == 3
    # Rules changed since (another rule-set version): validated again.
    Submission.objects.filter(pk=first.pk).update(rule_set_version="older")
    receive(submitter_a, files["a"])
    assert Submission.objects.count() == 4


def test_a_register_change_since_makes_the_same_file_worth_validating_again(
    submitter_a, open_window, commissioner_a, files
):
    """The rules read the register (commissioner codes, pilot flags, acts-for): once the national team
    changes it (here: adds a commissioner), the same bytes may give another result, so they are validated."""
    from tests.factories import CommissionerFactory

    first = receive(submitter_a, files["a"])
    assert process_submission(first.pk) == "done"
    with pytest.raises(services.DuplicateFile):
        receive(submitter_a, files["a"])  # nothing changed
    CommissionerFactory(code="01A", name="Commissioner B")
    again = receive(submitter_a, files["a"])
    assert again.pk != first.pk and again.status == Status.RECEIVED
    assert again.register_digest != first.register_digest
    with pytest.raises(services.DuplicateFile):
        receive(submitter_a, files["a"])  # and now the latest has the current register


def test_a_refusal_on_receipt_is_not_the_latest_to_compare(submitter_a, open_window, files):
    first = receive(submitter_a, files["a"])
    refused = receive(submitter_a, files["a"], name="idb.txt")  # FILE003, same bytes, nothing kept
    assert refused.status == Status.REJECTED and not refused.file
    with pytest.raises(services.DuplicateFile) as caught:
        receive(submitter_a, files["a"])
    assert caught.value.existing == first


def test_identical_files_finishing_out_of_order(submitter_a, open_window, commissioner_a, files):
    """The earlier of two received files finishing last does not displace the later (7.3), and a third
    upload of the later file's bytes is recognised."""
    t0 = timezone.now() - timedelta(hours=1)
    earlier = receive(submitter_a, files["a"], at=t0)
    later = receive(submitter_a, files["b"], at=t0 + timedelta(minutes=1))
    process_submission(later.pk)
    process_submission(earlier.pk)
    earlier.refresh_from_db()
    later.refresh_from_db()
    assert later.is_live and not earlier.is_live and earlier.superseded_by is None
    with pytest.raises(services.DuplicateFile):
        receive(submitter_a, files["b"])


# ------------------------------------------------------------------------------------------ web and API


def test_web_upload_of_the_same_file_shows_the_earlier_submission(client, submitter_a, open_window, files):
    client.force_login(submitter_a)
    with mock.patch("submissions.services._enqueue"):
        first = client.post(
            "/submissions/upload/",
            {"pair": "2017-11|Primary", "file": SimpleUploadedFile("idb.zip", files["a"])},
        )
        assert first.status_code == 302
        again = client.post(
            "/submissions/upload/",
            {"pair": "2017-11|Primary", "file": SimpleUploadedFile("idb-copy.zip", files["a"])},
        )
    sub = Submission.objects.get()
    page = again.content.decode()
    assert again.status_code == 200
    assert "This file was already uploaded" in page
    assert f'href="/submissions/{sub.submission_id}/"' in page
    assert sub.get_status_display() in page and "not stored or validated again" in page
    assert "nhsuk-error-summary" in page  # the error summary links to the file field
    assert AuditEvent.objects.filter(action="submission.duplicate").count() == 1


def test_api_upload_of_the_same_file_is_409_naming_the_earlier_submission(submitter_a, open_window, files):
    from portal.api_tokens import api_token_create

    token = api_token_create(user=submitter_a, name="PAS export", scopes=["read", "submit"])
    api = bearer(token.secret)
    data = {"period": "2017-11", "window_type": "Primary"}
    with mock.patch("submissions.services._enqueue"):
        created = api.post(
            "/api/v1/submissions/",
            {**data, "file": SimpleUploadedFile("idb.zip", files["a"])},
            format="multipart",
        )
        again = api.post(
            "/api/v1/submissions/",
            {**data, "file": SimpleUploadedFile("idb.zip", files["a"])},
            format="multipart",
        )
    assert created.status_code == 201
    sid = created.json()["submission_id"]
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "duplicate_file" and sid in body["message"]
    assert body["details"]["submission"]["submission_id"] == sid
    assert body["details"]["submission"]["sha256"] == hashlib.sha256(files["a"]).hexdigest()
    assert again["Location"] == f"/api/v1/submissions/{sid}/"
    assert Submission.objects.count() == 1


# ------------------------------------------------------------------------------------------ the race


@pytest.mark.django_db(transaction=True)
def test_the_same_file_uploaded_twice_at_once_is_stored_once(submitter_a, open_window, files):
    """Two connections receive the same bytes at the same moment (PostgreSQL: real row locks). The
    organisation row lock taken by the BSP number allocation serialises them; the lock is held a little
    longer here so the second receive certainly waits on it and then sees the first's committed row."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent connections (CI sets DATABASE_URL)")
    allocate = services._allocate_bsp_number

    def slow_allocate(organisation):  # type: ignore[no-untyped-def]
        number = allocate(organisation)
        time.sleep(0.3)  # hold the organisation lock while the other thread arrives
        return number

    rounds = 3
    for r in range(rounds):
        content = files["a"] + b"\n" * r  # a different file each round (ZIP readers ignore the tail)
        barrier = threading.Barrier(2)
        outcomes: list[object] = []
        with (
            mock.patch("submissions.services._allocate_bsp_number", slow_allocate),
            mock.patch("submissions.services._enqueue"),
        ):
            threads = [
                threading.Thread(target=_receive_in_thread, args=(submitter_a, content, barrier, outcomes))
                for _ in range(2)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        stored = [o for o in outcomes if isinstance(o, Submission)]
        refused = [o for o in outcomes if isinstance(o, services.DuplicateFile)]
        assert len(stored) == 1 and len(refused) == 1, outcomes
        assert refused[0].existing.pk == stored[0].pk
    assert Submission.objects.count() == rounds
    assert AuditEvent.objects.filter(action="submission.duplicate").count() == rounds
    numbers = sorted(Submission.objects.values_list("bsp_unique_id", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + rounds))  # no number lost to the refusals


def _receive_in_thread(user, content: bytes, barrier: threading.Barrier, outcomes: list[object]) -> None:  # type: ignore[no-untyped-def]
    try:
        barrier.wait(timeout=10)
        outcomes.append(
            services.submission_receive(
                user=user, upload=hashed("idb.zip", content), period="2017-11", window_type="Primary"
            )
        )
    except Exception as exc:  # DuplicateFile expected for one of the two; anything else fails the test
        outcomes.append(exc)
    finally:
        connections.close_all()
