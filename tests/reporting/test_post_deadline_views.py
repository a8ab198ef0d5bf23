"""Pages and downloads of the post-deadline outputs (spec 10.4-10.6): scoping, audit, figures, the demo."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, OrganisationType, Role
from reporting.models import OutputKind, PostDeadlineOutput, StatisticsValue
from submissions.models import Status, Submission, Window
from tests.factories import PASSWORD, OrganisationFactory, SubmissionFactory, UserFactory
from tests.reporting.outputs import make_outputs

pytestmark = pytest.mark.django_db


@pytest.fixture
def outputs(provider_a, provider_b, open_window, commissioner_a, commissioner_b):  # type: ignore[no-untyped-def]
    sub_a = SubmissionFactory(
        organisation=provider_a, window=open_window, status=Status.ACCEPTED, is_live=True
    )
    sub_b = SubmissionFactory(
        organisation=provider_b, window=open_window, status=Status.ACCEPTED, is_live=True
    )
    a = make_outputs(window=open_window, submission=sub_a, code="00C")
    b = make_outputs(window=open_window, submission=sub_b, code="01A", period="2017-10")
    return a, b


def _body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_provider_sees_and_downloads_only_its_own_extracts(client, submitter_a, outputs):
    a, b = outputs
    client.login(username=submitter_a.username, password=PASSWORD)
    page = client.get(reverse("provider-extracts")).content.decode()
    assert a["provider"].zip_name in page and b["provider"].zip_name not in page
    own = reverse("provider-extract-download", args=["TSTP1", "2017-11", "Primary", "zip"])
    response = client.get(own)
    assert response.status_code == 200
    assert a["provider"].zip_name in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(_body(response))) as zf:
        assert zf.namelist() == ["Submission.csv"]
    event = AuditEvent.objects.get(action="download")
    assert event.actor == submitter_a and event.details["kind"] == "post_deadline_extract_zip"
    other = reverse("provider-extract-download", args=["TSTP2", "2017-10", "Primary", "zip"])
    assert client.get(other).status_code == 404
    assert client.get(reverse("commissioner-extracts")).status_code == 403


def test_admin_sees_every_provider_extract(admin_client, outputs):
    a, b = outputs
    page = admin_client.get(reverse("provider-extracts")).content.decode()
    assert a["provider"].zip_name in page and b["provider"].zip_name in page


def test_commissioner_and_csu_scoping(
    client, commissioner_user_a, commissioner_user_b, csu_user, commissioner_b, outputs
):
    comm_a = reverse("commissioner-extract-download", args=["00C", "2017-11", "Primary", "zip"])
    comm_b = reverse("commissioner-extract-download", args=["01A", "2017-10", "Primary", "xlsx"])
    client.login(username=commissioner_user_a.username, password=PASSWORD)
    page = client.get(reverse("commissioner-extracts")).content.decode()
    assert "COMM_00C_2017-11_Primary.zip" in page and "COMM_01A" not in page
    assert client.get(comm_a)["Content-Disposition"].endswith('filename="COMM_00C_2017-11_Primary.zip"')
    assert client.get(comm_b).status_code == 404
    assert client.get(reverse("provider-extracts")).status_code == 403
    # A CSU sees every code it acts for.
    csu_user.organisation.acts_for.add(commissioner_b)
    client.login(username=csu_user.username, password=PASSWORD)
    page = client.get(reverse("commissioner-extracts")).content.decode()
    assert "COMM_00C_2017-11_Primary.zip" in page and "COMM_01A_2017-10_Primary.zip" in page
    assert client.get(comm_b).status_code == 200
    assert AuditEvent.objects.filter(action="download", details__kind="commissioner_extract").count() == 2


def test_statistics_page_shows_national_and_own_figures(client, submitter_a, commissioner_user_a, outputs):
    client.login(username=submitter_a.username, password=PASSWORD)
    index = client.get(reverse("statistics-index")).content.decode()
    assert "November 2017" in index
    page = client.get(reverse("statistics-period", args=["2017-11"])).content.decode()
    # M01 is national 100 and TSTP1 10 in the hand-made values.
    row = re.search(r"M01 Referrals received</th>(.*?)</tr>", page, re.S).group(1)  # type: ignore[union-attr]
    assert re.findall(r">([^<]+)</td>", row) == ["100", "10"]
    assert "TSTP1 (provider)" in page and "01A" not in page
    assert page.count("<svg") >= 5 and "Recovery rate" in page and '<table class="stat-chart-data">' in page
    response = client.get(reverse("statistics-download", args=["2017-11", "Provisional", "json"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert AuditEvent.objects.filter(action="download", details__kind="statistics_json").exists()
    client.login(username=commissioner_user_a.username, password=PASSWORD)
    page = client.get(reverse("statistics-period", args=["2017-11"])).content.decode()
    row = re.search(r"M01 Referrals received</th>(.*?)</tr>", page, re.S).group(1)  # type: ignore[union-attr]
    assert re.findall(r">([^<]+)</td>", row) == ["100", "20"]
    assert client.get(reverse("statistics-period", args=["2016-01"])).status_code == 404


def test_demo_history_gives_a_statistics_page_with_real_figures(client, commissioner_a, commissioner_b):
    """seed_demo_history: generated files for the last closed window, validated and closed in-process."""
    for code in ("TSTP1", "TSTP2"):
        org = OrganisationFactory(code=code, name=f"Demo {code}", type=OrganisationType.PROVIDER)
        UserFactory(username=f"submitter{code[-1]}", organisation=org, role=Role.PROVIDER_SUBMITTER)
    now = timezone.now()
    Window.objects.create(
        code="W201712",
        opens_at=now - timedelta(days=30),
        closes_at=now - timedelta(days=5),
        primary_rp="2017-11",
        refresh_rp="2017-10",
    )
    out = io.StringIO()
    call_command("seed_demo_history", "--windows", "1", "--persons", "25", stdout=out)
    assert Submission.objects.filter(is_live=True).count() == 4
    assert set(PostDeadlineOutput.objects.values_list("kind", flat=True)) == set(OutputKind.values)
    final = StatisticsValue.objects.get(output__status="Final", level="National", measure_id="M20")
    assert final.value not in ("0", "*", "")
    client.login(username="submitter1", password=PASSWORD)
    page = client.get(reverse("statistics-period", args=["2017-10"])).content.decode()
    assert "Final figures" in page and final.value in page
    # Running it again changes nothing.
    call_command("seed_demo_history", "--windows", "1", "--persons", "25", stdout=io.StringIO())
    assert Submission.objects.count() == 4
