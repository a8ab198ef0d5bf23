"""Rule catalogue, blank template and DQ summary pages."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import polars as pl
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from portal.models import AuditEvent
from submissions.models import Status, SubmissionTableCount
from tests.factories import PASSWORD, SubmissionFactory
from validation.dataset import DATASET

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, viewer_a):  # type: ignore[no-untyped-def]
    assert client.login(username=viewer_a.username, password=PASSWORD)
    return client


def _parquet(frame: pl.DataFrame) -> ContentFile:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return ContentFile(buf.getvalue())


def make_submission(
    org,
    *,
    period="2017-11",
    window_type="Primary",
    status=Status.ACCEPTED,
    is_live=True,
    persons=16,
    referrals=("R1", "R2"),
    open_referrals=None,
):  # type: ignore[no-untyped-def]
    sub = SubmissionFactory(
        organisation=org, period=period, window_type=window_type, status=status, is_live=is_live
    )
    prefix = f"results/{org.code}/{sub.bsp_unique_id:07d}/accepted"
    person_cols = DATASET.tables["Person"].column_names
    person = pl.DataFrame(
        {"ROW_NUMBER": list(range(1, persons + 1))} | {c: [None] * persons for c in person_cols},
        schema={"ROW_NUMBER": pl.Int64} | {c: pl.String for c in person_cols},
    ).with_columns(
        pl.Series("LPTID", [f"P{i}" for i in range(persons)]),
        pl.Series("GENDER", ["1"] + ["X"] * (persons - 1)),
    )
    default_storage.save(f"{prefix}/Person.parquet", _parquet(person))
    open_referrals = set(referrals) if open_referrals is None else open_referrals
    referral = pl.DataFrame(
        {
            "ROW_NUMBER": list(range(1, len(referrals) + 1)),
            "SERVICEID": list(referrals),
            "ENDDATE": [None if r in open_referrals else "2017-10-31" for r in referrals],
        }
    )
    default_storage.save(f"{prefix}/Referral.parquet", _parquet(referral))
    sub.accepted_dir = prefix
    sub.save()
    SubmissionTableCount.objects.create(
        submission=sub,
        position=1,
        table="Person",
        rows_read=persons + 1,
        rows_accepted=persons,
        rows_rejected_record=1,
        rows_rejected_group=0,
        rows_with_warnings=0,
    )
    return sub


# ------------------------------------------------------------------------------ rules


def test_rule_list_shows_every_rule(signed_in) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.get(reverse("rule-list"))
    assert response.status_code == 200
    body = response.content.decode()
    for rule_id in DATASET.rules:
        assert f'href="/rules/{rule_id}/"' in body
    assert "Showing 163 of 163 rules." in body
    assert '<select class="nhsuk-select" id="filter-table" name="table">' in body
    assert "<script>" not in body and "style=" not in body


def test_rule_list_filters(signed_in) -> None:  # type: ignore[no-untyped-def]
    body = signed_in.get(reverse("rule-list"), {"table": "Referral", "severity": "WARNING"}).content.decode()
    shown = [r.id for r in DATASET.rules.values() if r.table == "Referral" and r.severity == "WARNING"]
    assert f"Showing {len(shown)} of 163 rules." in body
    assert "/rules/REF180/" in body and "/rules/REF110/" not in body and "/rules/PER020/" not in body
    assert '<option value="Referral" selected>' in body
    body = signed_in.get(reverse("rule-list"), {"table": "-"}).content.decode()
    assert "/rules/FILE001/" in body and "/rules/FILE021/" not in body
    # unknown filter values are ignored
    body = signed_in.get(reverse("rule-list"), {"table": "Nope", "severity": "x"}).content.decode()
    assert "Showing 163 of 163 rules." in body


def test_rule_detail(signed_in) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.get("/rules/APP180/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Populated value (upper-cased) is not a code in the column" in body
    assert "The row (or file) is loaded" in body  # WARNING meaning
    assert "Low intensity (step 2)" in body  # valid codes with meanings
    assert "How to fix it" in body
    body = signed_in.get("/rules/REF050/").content.decode()
    assert "2017-02-30" in body
    body = signed_in.get("/rules/FILE020/").content.decode()
    assert "The whole submission is rejected" in body


@pytest.mark.parametrize("path", ["/rules/XYZ999/", "/rules/ref110/", "/rules/REF999/"])
def test_unknown_rule_is_404(signed_in, path) -> None:  # type: ignore[no-untyped-def]
    assert signed_in.get(path).status_code == 404


def test_rule_pages_need_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/rules/REF110/").status_code == 302


def test_nav_links(signed_in) -> None:  # type: ignore[no-untyped-def]
    body = signed_in.get(reverse("template-index")).content.decode()
    assert 'href="/rules/"' in body and 'href="/templates/"' in body


# ------------------------------------------------------------------------------ templates


def test_template_index_links(signed_in) -> None:  # type: ignore[no-untyped-def]
    body = signed_in.get("/templates/").content.decode()
    for profile in ("P15STD", "P15LTC"):
        for ext in ("xlsx", "zip"):
            assert f'href="/templates/{profile}.{ext}"' in body
            assert f'href="/templates/{profile}.{ext}?with_ea=1"' in body


def test_template_downloads(signed_in) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.get("/templates/P15LTC.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="IAPT_v1.5_P15LTC_template.zip"' in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert "LTCAppointment.csv" in zf.namelist() and "EmploymentAdviser.csv" not in zf.namelist()
    response = signed_in.get("/templates/P15STD.xlsx", {"with_ea": "1"})
    assert response.status_code == 200
    assert 'filename="IAPT_v1.5_P15STD_EA_template.xlsx"' in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert "EmploymentAdviser" in wb.sheetnames and "LTCCondition" not in wb.sheetnames


@pytest.mark.parametrize("path", ["/templates/P20.xlsx", "/templates/P15STD.csv", "/templates/p15std.zip"])
def test_unknown_template_is_404(signed_in, path) -> None:  # type: ignore[no-untyped-def]
    assert signed_in.get(path).status_code == 404


# ------------------------------------------------------------------------------ DQ


def test_dq_page(signed_in, provider_a) -> None:  # type: ignore[no-untyped-def]
    sub = make_submission(provider_a)
    response = signed_in.get(f"/dq/{sub.submission_id}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="table-Person"' in body and 'id="table-Referral"' in body
    assert "<td>GENDER</td>" in body
    assert '<td class="app-num">6.3</td>' in body
    assert "17 rows read, 16 accepted, 1 rejected (record)" in body
    assert "n/a (no effective submission for the previous reporting period)" in body
    for fmt in ("csv", "xlsx", "json"):
        assert f'href="/dq/{sub.submission_id}.{fmt}"' in body


def test_dq_pathway_continuity_uses_previous_effective_submission(signed_in, provider_a) -> None:  # type: ignore[no-untyped-def]
    make_submission(
        provider_a, period="2017-10", referrals=("R1", "R8", "R9", "R5"), open_referrals={"R1", "R8", "R9"}
    )
    # A live Refresh for 2017-10 supersedes the Primary as the effective submission.
    make_submission(provider_a, period="2017-10", window_type="Refresh", referrals=("R1", "R8", "R7"))
    sub = make_submission(provider_a, period="2017-11", referrals=("R1", "R2"))
    response = signed_in.get(f"/dq/{sub.submission_id}.json")
    obj = json.loads(response.content)
    assert obj["pathway_continuity"] == 2  # R8 and R7 open last month, absent now
    body = signed_in.get(f"/dq/{sub.submission_id}/").content.decode()
    assert "2 referrals open at the end of the previous reporting period are missing" in body


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_dq_downloads_are_audited(signed_in, viewer_a, provider_a, fmt) -> None:  # type: ignore[no-untyped-def]
    sub = make_submission(provider_a)
    response = signed_in.get(f"/dq/{sub.submission_id}.{fmt}")
    assert response.status_code == 200
    assert (
        f'filename="TSTP1_2017-11_Primary_{sub.bsp_unique_id:07d}_dq.{fmt}"'
        in response["Content-Disposition"]
    )
    event = AuditEvent.objects.get(action="download")
    assert event.actor == viewer_a and event.organisation == provider_a
    assert event.object_id == str(sub.pk) and event.details["kind"] == f"dq_summary_{fmt}"
    if fmt == "csv":
        assert f"{sub.submission_id},Person,GENDER,1,0,15,0,0,16,6.3" in response.content.decode()


def test_dq_scoping(client, provider_a, provider_b, submitter_b, commissioner_user_a) -> None:  # type: ignore[no-untyped-def]
    sub = make_submission(provider_a)
    client.login(username=submitter_b.username, password=PASSWORD)
    assert client.get(f"/dq/{sub.submission_id}/").status_code == 404
    assert client.get(f"/dq/{sub.submission_id}.csv").status_code == 404
    client.login(username=commissioner_user_a.username, password=PASSWORD)
    assert client.get(f"/dq/{sub.submission_id}/").status_code == 403
    assert client.get(f"/dq/{sub.submission_id}.json").status_code == 403
    assert not AuditEvent.objects.filter(action="download").exists()


def test_dq_only_for_successful_submissions(signed_in, provider_a) -> None:  # type: ignore[no-untyped-def]
    rejected = SubmissionFactory(organisation=provider_a, status=Status.REJECTED)
    assert signed_in.get(f"/dq/{rejected.submission_id}/").status_code == 404
    assert signed_in.get(f"/dq/{rejected.submission_id}.csv").status_code == 404
    assert signed_in.get("/dq/TSTP1-9999999/").status_code == 404
