"""/api/v1/ submissions, windows, reports, extracts, commissioner extracts and rules."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from unittest import mock

import polars as pl
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.api_tokens import api_token_create
from portal.models import AuditEvent
from submissions import services
from submissions.models import Status, Submission, SubmissionCommissioner
from submissions.timetable import LONDON
from submissions.uploads import HashedUpload
from submissions.views import progress_payload
from tests.api.conftest import bearer
from tests.factories import PASSWORD, SubmissionFactory

pytestmark = pytest.mark.django_db


def _upload(api, name="idb.zip", content=b"PK\x03\x04rest", period="2017-11", window_type="Primary"):  # type: ignore[no-untyped-def]
    return api.post(
        "/api/v1/submissions/",
        {"file": SimpleUploadedFile(name, content), "period": period, "window_type": window_type},
        format="multipart",
    )


def test_windows_show_deadlines_in_london_time_with_offsets(api, open_window, provider_a):
    live = SubmissionFactory(
        organisation=provider_a, window=open_window, status=Status.ACCEPTED, is_live=True
    )
    body = api.get("/api/v1/windows/").json()
    (window,) = body["windows"]
    assert window["code"] == "W201712"
    assert window["deadline"].endswith(("T23:59:59+00:00", "T23:59:59+01:00"))
    assert window["opens_at"].endswith(("T00:00:00+00:00", "T00:00:00+01:00"))
    assert window["days_left"] >= 0
    assert window["periods"] == [
        {"period": "2017-11", "window_type": "Primary", "live_submission_id": live.submission_id},
        {"period": "2017-10", "window_type": "Refresh", "live_submission_id": None},
    ]


def test_post_streams_through_the_same_gate_and_handler(api, submit_token, open_window, no_broker,
                                                        django_capture_on_commit_callbacks):  # fmt: skip
    seen = {}
    real = services.submission_receive

    def spy(**kwargs):  # type: ignore[no-untyped-def]
        seen["upload"] = kwargs["upload"]
        return real(**kwargs)

    with (
        mock.patch("submissions.services.submission_receive", side_effect=spy),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = _upload(api)
    assert response.status_code == 201, response.content
    assert isinstance(seen["upload"], HashedUpload)  # DRF's parser used the hashing upload handler
    sub = Submission.objects.get()
    body = response.json()
    assert response["Location"] == f"/api/v1/submissions/{sub.submission_id}/"
    assert body["submission_id"] == sub.submission_id == "TSTP1-0000001"
    assert body["status"] == "RECEIVED" and body["final"] is False and body["outcome"] is None
    assert body["sha256"] == hashlib.sha256(b"PK\x03\x04rest").hexdigest() == sub.sha256
    assert body["size"] == 8
    assert body["received_at"] == sub.received_at.astimezone(LONDON).isoformat(timespec="seconds")
    principal = submit_token.token.principal
    assert sub.uploaded_by == principal and body["uploaded_by"] == f"api-{submit_token.token.prefix}"
    assert default_storage.exists(sub.file.name)
    no_broker.assert_called_once_with(sub.pk)
    event = AuditEvent.objects.get(action="submission.received")
    assert event.actor == principal and event.organisation == sub.organisation
    assert body["progress"] == progress_payload(sub)


@pytest.mark.parametrize(
    ("name", "content", "period", "rule"),
    [
        ("idb.zip", b"PK", "2016-01", "FILE002"),  # no window offers the period
        ("idb.zip", b"", "2017-11", "FILE004"),  # empty
        ("idb.txt", b"hello", "2017-11", "FILE003"),  # extension
    ],
)
def test_refusal_on_receipt_is_a_201_rejected_submission(
    api, open_window, no_broker, name, content, period, rule
):
    response = _upload(api, name=name, content=content, period=period)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["outcome"], body["final"]) == ("REJECTED", "Rejected", True)
    assert [r["rule_id"] for r in body["rule_counts"]] == [rule]
    report = api.get(body["links"]["report_json"])
    assert report.status_code == 200
    data = json.loads(b"".join(report.streaming_content))
    assert data["submission"]["submission_id"] == body["submission_id"]
    assert [f["rule_id"] for f in data["findings"]] == [rule]
    no_broker.assert_not_called()


def test_bad_requests_are_400_with_field_details(api, open_window):
    response = api.post(
        "/api/v1/submissions/", {"period": "2017-13", "window_type": "primary"}, format="multipart"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["message"] == "The request is not valid."
    assert set(body["details"]) == {"file", "period", "window_type"}
    response = api.post("/api/v1/submissions/", {"period": "2017-11"}, format="json")
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
    assert not Submission.objects.exists()


def test_read_token_cannot_submit(read_token, open_window):
    response = _upload(bearer(read_token.secret))
    assert response.status_code == 403
    assert response.json() == {
        "message": "This token does not have the 'submit' scope.",
        "code": "permission_denied",
        "details": {},
    }
    assert not Submission.objects.exists()


def test_portal_error_maps_to_the_error_shape(client, viewer_a, open_window):
    client.login(username=viewer_a.username, password=PASSWORD)
    response = client.post(
        "/api/v1/submissions/",
        {"file": SimpleUploadedFile("a.zip", b"PK"), "period": "2017-11", "window_type": "Primary"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden" and "Only submitters" in response.json()["message"]


def test_list_is_paginated_scoped_and_filtered(api, provider_a, provider_b, open_window):
    SubmissionFactory.create_batch(3, organisation=provider_a, window=open_window, status=Status.ACCEPTED)
    SubmissionFactory(organisation=provider_a, window=open_window, period="2017-10", window_type="Refresh")
    other = SubmissionFactory(organisation=provider_b, window=open_window)
    body = api.get("/api/v1/submissions/?page_size=2").json()
    assert body["count"] == 4 and len(body["results"]) == 2 and body["next"].endswith("page=2&page_size=2")
    ids = {r["submission_id"] for r in api.get("/api/v1/submissions/").json()["results"]}
    assert other.submission_id not in ids
    assert api.get("/api/v1/submissions/?window_type=Refresh").json()["count"] == 1
    assert api.get("/api/v1/submissions/?status=ACCEPTED&period=2017-11").json()["count"] == 3
    assert api.get("/api/v1/submissions/?period=nope").status_code == 400
    assert api.get(f"/api/v1/submissions/{other.submission_id}/").status_code == 404


def test_list_query_count_does_not_grow(api, provider_a, open_window):
    SubmissionFactory.create_batch(2, organisation=provider_a, window=open_window)
    api.get("/api/v1/submissions/")  # warm the token's last_used_at
    with CaptureQueriesContext(connection) as few:
        api.get("/api/v1/submissions/")
    old = SubmissionFactory.create_batch(
        20, organisation=provider_a, window=open_window, status=Status.ACCEPTED
    )
    Submission.objects.filter(pk=old[0].pk).update(superseded_by=old[1])
    with CaptureQueriesContext(connection) as many:
        api.get("/api/v1/submissions/")
    assert len(many) == len(few)


@pytest.fixture
def finished(provider_a, open_window):  # type: ignore[no-untyped-def]
    """An accepted submission with stored artefacts, as the worker leaves it."""
    from reporting.artefacts import write_findings_only

    sub = SubmissionFactory(organisation=provider_a, window=open_window, status=Status.ACCEPTED_WITH_WARNINGS,
                            is_live=True, original_name="idb.zip", profile="P15STD")  # fmt: skip
    prefix = f"results/{provider_a.code}/{sub.bsp_unique_id:07d}"
    names = write_findings_only(rule_ids=["FILE016"], submission_id=sub.submission_id, prefix=prefix)
    for k, v in names.items():
        setattr(sub, k, v)
    sub.extract_zip = default_storage.save(f"{prefix}/e.zip", ContentFile(b"zip"))
    buf = io.BytesIO()
    pl.DataFrame(
        {"ROW_NUMBER": [1], "SERVICEID": ["R1"], "LPTID": ["P1"], "ORGCODECOMM": ["00C"]}
    ).write_parquet(buf)
    default_storage.save(f"{prefix}/accepted/Referral.parquet", ContentFile(buf.getvalue()))
    sub.accepted_dir = f"{prefix}/accepted"
    sub.save()
    sub.rule_counts.create(rule_id="FILE016", severity="WARNING", message="m", count=1)
    sub.table_counts.create(position=0, table="Header", rows_read=1, rows_accepted=1, rows_rejected_record=0,
                            rows_rejected_group=0, rows_with_warnings=0)  # fmt: skip
    SubmissionCommissioner.objects.create(submission=sub, code="00C", referrals=1)
    return sub


def test_detail_and_downloads(api, submit_token, finished):
    sid = finished.submission_id
    body = api.get(f"/api/v1/submissions/{sid}/").json()
    assert body["outcome"] == "Accepted with warnings" and body["progress"]["final"] is True
    assert body["counts"] == [
        {"table": "Header", "rows_read": 1, "rows_accepted": 1, "rows_rejected_record": 0,
         "rows_rejected_group": 0, "rows_with_warnings": 0}
    ]  # fmt: skip
    assert body["rule_counts"] == [{"rule_id": "FILE016", "severity": "WARNING", "message": "m", "count": 1}]
    for path, filename in (
        ("report.csv", f"TSTP1_2017-11_Primary_{finished.bsp_unique_id:07d}_validation.csv"),
        ("report.xlsx", f"TSTP1_2017-11_Primary_{finished.bsp_unique_id:07d}_validation.xlsx"),
        ("report.json", f"TSTP1_2017-11_Primary_{finished.bsp_unique_id:07d}_validation.json"),
        ("dq.json", f"TSTP1_2017-11_Primary_{finished.bsp_unique_id:07d}_dq.json"),
        ("extract.zip", None),
    ):
        response = api.get(f"/api/v1/submissions/{sid}/{path}")
        assert response.status_code == 200, (path, response.content)
        if filename:
            assert filename in response["Content-Disposition"]
    report = json.loads(b"".join(api.get(f"/api/v1/submissions/{sid}/report.json").streaming_content))
    assert report["submission"]["status"] == "Accepted with warnings"
    assert report["submission"]["profile"] == "P15STD"
    assert report["counts"][0]["table"] == "Header" and report["findings"][0]["rule_id"] == "FILE016"
    downloads = AuditEvent.objects.filter(action="download", actor=submit_token.token.principal)
    assert downloads.count() == 6
    assert {e.details["kind"] for e in downloads} >= {"validation_report_json", "pre_deadline_extract"}


def test_reports_are_409_until_final(api, provider_a, open_window):
    sub = SubmissionFactory(organisation=provider_a, window=open_window, status=Status.VALIDATING)
    for path in ("report.csv", "report.json", "dq.json", "extract.zip"):
        response = api.get(f"/api/v1/submissions/{sub.submission_id}/{path}")
        assert response.status_code == 409 and response.json()["code"] == "not_ready", path


def test_commissioner_token_gets_its_extracts_only(commissioner_user_a, commissioner_user_b, finished):
    from tests.reporting.outputs import make_outputs

    make_outputs(window=finished.window, submission=finished, code="00C")
    comm = bearer(api_token_create(user=commissioner_user_a, name="BI", scopes=["read"]).secret)
    body = comm.get("/api/v1/commissioner-extracts/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["code"], row["period"], row["window_type"]) == ("00C", finished.period, "Primary")
    assert row["file_name"] == f"COMM_00C_{finished.period}_Primary.zip"
    response = comm.get(row["download"])
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert row["file_name"] in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zf:
        assert "Referral.csv" in zf.namelist()
    assert AuditEvent.objects.filter(action="download", details__kind="commissioner_extract").count() == 1
    assert comm.get(f"/api/v1/submissions/{finished.submission_id}/").status_code == 403
    other = bearer(api_token_create(user=commissioner_user_b, name="BI", scopes=["read"]).secret)
    assert other.get("/api/v1/commissioner-extracts/").json()["count"] == 0
    assert other.get(row["download"]).status_code == 404


def test_provider_token_cannot_list_commissioner_extracts(api, finished):
    response = api.get("/api/v1/commissioner-extracts/")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_admin_token_reads_every_organisation(admin_user, finished, provider_b, open_window):
    other = SubmissionFactory(organisation=provider_b, window=open_window)
    admin = bearer(api_token_create(user=admin_user, name="Ops", scopes=["read"]).secret)
    assert admin.get("/api/v1/submissions/").json()["count"] == 2
    assert admin.get(f"/api/v1/submissions/{other.submission_id}/").status_code == 200
    assert admin.post("/api/v1/submissions/", {}, format="multipart").status_code == 403


def test_rules(api):
    body = api.get("/api/v1/rules/?table=Referral&severity=GROUP_REJECT").json()
    assert body["count"] >= 1 and {r["table"] for r in body["results"]} == {"Referral"}
    assert api.get("/api/v1/rules/?page_size=500").json()["count"] > 100
    rule = api.get("/api/v1/rules/REF110/").json()
    assert rule["id"] == "REF110" and rule["example"] and rule["fix"] and rule["rule_columns"]
    assert api.get("/api/v1/rules/ZZZ999/").json()["code"] == "not_found"
    assert api.get("/api/v1/rules/?table=Nope").status_code == 400


def test_automated_submission_end_to_end(
    api, open_window, commissioner_a, commissioner_b, no_broker, tmp_path
):
    """The README's flow: POST a file, the worker processes it, poll until final, download the report."""
    from submissions.tasks import process_submission
    from validation.synth import generate_idb_with_manifest, write_csvzip

    tables, _ = generate_idb_with_manifest(
        org="TSTP1", period="2017-11", persons=10, seed=3, inject={"PER030": 1}, commissioners=("00C", "01A")
    )
    path = tmp_path / "idb.zip"
    write_csvzip(tables, path)
    created = _upload(api, content=path.read_bytes())
    assert created.status_code == 201
    detail_url = created["Location"]
    assert api.get(detail_url).json()["progress"]["stage"] == "queued"
    assert process_submission(Submission.objects.get().pk) == "done"
    body = api.get(detail_url).json()
    assert body["final"] and body["outcome"] == "Partially accepted" and body["is_live"]
    assert {r["rule_id"] for r in body["rule_counts"]} >= {"PER030"}
    assert any(c["table"] == "Person" and c["rows_rejected_record"] == 1 for c in body["counts"])
    report = json.loads(b"".join(api.get(body["links"]["report_json"]).streaming_content))
    assert report["submission"]["status"] == "Partially accepted"
    assert sum(1 for f in report["findings"] if f["rule_id"] == "PER030") == 1
    dq = api.get(body["links"]["dq_json"]).json()
    assert dq["submission_id"] == body["submission_id"] and dq["columns"]
