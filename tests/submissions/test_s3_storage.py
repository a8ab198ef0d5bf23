"""Production storage: uploads, artefacts and downloads through an S3-compatible server (moto on loopback)."""

from __future__ import annotations

from unittest import mock

import pytest

from submissions import services
from submissions.models import Status
from submissions.tasks import process_submission
from tests.factories import PASSWORD
from tests.fixtures import upload
from validation.synth import generate_idb, write_csvzip

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")
pytestmark = pytest.mark.django_db


@pytest.fixture
def s3(settings):  # type: ignore[no-untyped-def]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    creds = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "eu-west-2"}
    boto3.client("s3", endpoint_url=endpoint, **creds).create_bucket(
        Bucket="iapt-test", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "iapt-test",
                "endpoint_url": endpoint,
                "access_key": "test",
                "secret_key": "test",
                "region_name": "eu-west-2",
                "file_overwrite": False,
            },
        },
    }
    yield boto3.client("s3", endpoint_url=endpoint, **creds)
    server.stop()


def test_upload_validate_and_download_on_s3(s3, client, submitter_a, open_window, commissioner_a, tmp_path):
    path = tmp_path / "idb.zip"
    write_csvzip(
        generate_idb(org="TSTP1", period="2017-11", persons=20, seed=4, commissioners=("00C",)), path
    )
    with mock.patch("submissions.services._enqueue"):
        sub = services.submission_receive(
            user=submitter_a,
            upload=upload("idb.zip", path.read_bytes()),
            period="2017-11",
            window_type="Primary",
        )
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="iapt-test")["Contents"]}
    assert sub.file.name in keys
    assert process_submission(sub.pk) == "done"
    sub.refresh_from_db()
    assert sub.status == Status.ACCEPTED
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="iapt-test")["Contents"]}
    assert {sub.report_csv, sub.report_xlsx, sub.extract_zip, sub.findings_file} <= keys
    client.login(username=submitter_a.username, password=PASSWORD)
    report = client.get(f"/submissions/{sub.submission_id}/validation.csv")
    assert report.status_code == 200
    assert b"".join(report.streaming_content).startswith(b"SUBMISSION_ID,RULE_ID")
