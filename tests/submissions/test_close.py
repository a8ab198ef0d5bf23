"""Window close (spec 7.3, 8.1, 8.2) and post-deadline processing (10.4-10.6), run in-process."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta
from unittest import mock

import polars as pl
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from portal.models import AuditEvent
from reporting.derived import DERIVED_COLUMNS
from reporting.extracts import FORBIDDEN_COMMISSIONER_COLUMNS
from reporting.models import (
    AcceptedDataLoad,
    OutputKind,
    PostDeadlineOutput,
    PostDeadlineRun,
    StatisticsValue,
)
from submissions import close, services
from submissions.models import Status, Submission, Window
from submissions.tasks import close_due_windows, process_submission
from submissions.timetable import LONDON, local_midnight
from tests.factories import UserFactory
from tests.fixtures import upload
from validation.dataset import DATASET
from validation.synth import generate_idb, write_csvzip

pytestmark = pytest.mark.django_db


@pytest.fixture
def commissioners(commissioner_a, commissioner_b):  # type: ignore[no-untyped-def]
    return ("00C", "01A")


@pytest.fixture
def submitter_b2(provider_b):  # type: ignore[no-untyped-def]
    from portal.models import Role

    return UserFactory(username="submitter_b2", organisation=provider_b, role=Role.PROVIDER_SUBMITTER)


def receive(user, tmp_path, *, period="2017-11", window_type="Primary", seed=1, persons=20, at=None, **kw):  # type: ignore[no-untyped-def]
    tables = generate_idb(
        org=user.organisation.code,
        period=period,
        persons=persons,
        seed=seed,
        commissioners=("00C", "01A"),
        **kw,
    )
    path = tmp_path / f"{user.organisation.code}-{period}-{seed}.zip"
    write_csvzip(tables, path)
    with mock.patch("submissions.services._enqueue"):
        return services.submission_receive(
            user=user,
            upload=upload(path.name, path.read_bytes()),
            period=period,
            window_type=window_type,
            received_at=at,
        )


def close_now(window: Window) -> None:
    Window.objects.filter(pk=window.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    window.refresh_from_db()


def read_zip(name: str) -> dict[str, pl.DataFrame]:
    with default_storage.open(name, "rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
        return {n.removesuffix(".csv"): pl.read_csv(zf.read(n), infer_schema=False) for n in zf.namelist()}


# ------------------------------------------------------------------------------- derived items stored


def test_successful_submission_stores_its_derived_items(submitter_a, open_window, commissioners, tmp_path):
    sub = receive(submitter_a, tmp_path)
    assert process_submission(sub.pk) == "done"
    load = AcceptedDataLoad.objects.get(submission=sub)
    assert load.derived
    from reporting.data_selectors import accepted_frame

    person = accepted_frame(submission=sub, table="Person", columns=["PERSON_ID", "YEAR_OF_BIRTH"])
    assert person.height == 20 and person["PERSON_ID"].str.len_chars().to_list() == [64] * 20
    referral = accepted_frame(submission=sub, table="Referral", columns=list(DERIVED_COLUMNS["Referral"]))
    assert referral["OUTCOME_ELIGIBLE"].is_in(["Y", "N"]).all()
    # The pre-deadline extract (10.3) keeps the submitted columns only.
    sub.refresh_from_db()
    pre = read_zip(sub.extract_zip)
    assert pre["Person"].columns == ["SUBMISSION_ID", "ROW_NUMBER", *DATASET.tables["Person"].column_names]


# ------------------------------------------------------------------------------- supersession and the lock


def test_a_late_finishing_earlier_upload_does_not_displace(submitter_a, open_window, commissioners, tmp_path):
    t0 = timezone.now() - timedelta(hours=1)
    earlier = receive(submitter_a, tmp_path, seed=1, at=t0)
    later = receive(submitter_a, tmp_path, seed=2, at=t0 + timedelta(minutes=5))
    process_submission(later.pk)
    process_submission(earlier.pk)  # finishes last
    earlier.refresh_from_db()
    later.refresh_from_db()
    assert later.is_live and not earlier.is_live


def test_refresh_over_primary_for_final_statistics(submitter_a, open_window, commissioners, tmp_path):
    # Primary for 2017-10 belongs to the window before.
    earlier = Window.objects.create(
        code="W201711",
        opens_at=open_window.opens_at - timedelta(days=40),
        closes_at=open_window.opens_at - timedelta(days=20),
        primary_rp="2017-10",
        refresh_rp="2017-09",
    )
    primary = receive(
        submitter_a, tmp_path, period="2017-10", seed=1, persons=40, at=earlier.opens_at + timedelta(days=1)
    )
    refresh = receive(submitter_a, tmp_path, period="2017-10", window_type="Refresh", seed=2, persons=25)
    for s in (primary, refresh):
        process_submission(s.pk)
    primary.refresh_from_db()
    refresh.refresh_from_db()
    assert primary.is_live and refresh.is_live  # the live Primary is kept (7.3)
    close_now(open_window)
    close_due_windows()
    final = PostDeadlineOutput.objects.get(window=open_window, kind=OutputKind.STATISTICS, status="Final")
    assert final.period == "2017-10" and final.providers == ["TSTP1"]
    # Effective = the Refresh: national M20 (appointments due) counts the Refresh's rows, not the Primary's.
    from reporting.data_selectors import accepted_frame

    def due(sub: Submission) -> int:
        appts = accepted_frame(submission=sub, table="Appointment", columns=["APPOINTMENT", "ATTENDANCE"])
        in_rp = appts.filter(appts["APPOINTMENT"].str.starts_with("2017-10"))
        return int(in_rp["ATTENDANCE"].is_in(["3", "5", "6", "7"]).sum())

    m20 = StatisticsValue.objects.get(output=final, level="National", measure_id="M20").value
    assert m20 == str(due(refresh)) != str(due(primary))


def test_error_rerun_after_lock_never_becomes_live(submitter_a, open_window, commissioners, tmp_path):
    first = receive(submitter_a, tmp_path, seed=1, at=timezone.now() - timedelta(hours=2))
    failing = receive(submitter_a, tmp_path, seed=2, at=timezone.now() - timedelta(hours=1))
    process_submission(first.pk)
    with mock.patch("submissions.tasks.validate_file", side_effect=RuntimeError("boom")):
        assert process_submission(failing.pk) == "error"
    close_now(open_window)
    close_due_windows()
    open_window.refresh_from_db()
    assert open_window.locked_at is not None
    # An administrator re-runs the ERROR submission after the lock: validated, final status, never live.
    failing.refresh_from_db()
    services.submission_transition(submission=failing, to=Status.RECEIVED)
    assert process_submission(failing.pk) == "done"
    failing.refresh_from_db()
    first.refresh_from_db()
    assert failing.status == Status.ACCEPTED and not failing.is_live
    assert first.is_live and first.superseded_by is None


def test_a_file_received_before_the_close_and_validated_after_it_counts(
    submitter_a, open_window, commissioners, tmp_path
):
    first = receive(submitter_a, tmp_path, seed=1, at=timezone.now() - timedelta(hours=2))
    process_submission(first.pk)
    late = receive(submitter_a, tmp_path, seed=2, at=timezone.now() - timedelta(minutes=30))
    close_now(open_window)
    # Locked, but the run waits while the file received before the close is still validating.
    assert close_due_windows() == {f"lock:{open_window.pk}": "locked", f"run:{open_window.pk}": "waiting"}
    assert not PostDeadlineOutput.objects.filter(window=open_window).exists()
    process_submission(late.pk)
    late.refresh_from_db()
    assert late.is_live
    close_due_windows()
    extract = PostDeadlineOutput.objects.get(window=open_window, kind=OutputKind.PROVIDER_EXTRACT)
    assert extract.submission_id == late.pk


def test_live_change_after_the_run_makes_the_outputs_again(submitter_a, open_window, commissioners, tmp_path):
    first = receive(submitter_a, tmp_path, seed=1, at=timezone.now() - timedelta(hours=2))
    process_submission(first.pk)
    # A file received before the close whose row was committed after the close task ran (slow storage).
    close_now(open_window)
    close_due_windows()
    late = receive(submitter_a, tmp_path, seed=2, at=open_window.closes_at - timedelta(seconds=5))
    process_submission(late.pk)
    assert PostDeadlineRun.objects.get(window=open_window).finished_at is None
    close_due_windows()
    extract = PostDeadlineOutput.objects.get(window=open_window, kind=OutputKind.PROVIDER_EXTRACT)
    assert extract.submission_id == late.pk


# ------------------------------------------------------------------------------- the close at the exact second


@pytest.mark.parametrize(
    "close_day",
    [date(2017, 10, 29), date(2018, 3, 25)],  # the clocks go back / forward at 01:00 that morning
    ids=["BST-to-GMT", "GMT-to-BST"],
)
def test_close_at_the_exact_instant_across_a_clock_change(submitter_a, commissioners, tmp_path, close_day):
    closes_at = local_midnight(close_day)
    assert closes_at.astimezone(LONDON).hour == 0
    window = Window.objects.create(
        code="WDST",
        opens_at=closes_at - timedelta(days=20),
        closes_at=closes_at,
        primary_rp="2017-11",
        refresh_rp="2017-10",
    )
    in_time = receive(submitter_a, tmp_path, seed=1, at=closes_at - timedelta(microseconds=1))
    late = receive(submitter_a, tmp_path, seed=2, at=closes_at)
    assert in_time.status == Status.RECEIVED
    assert late.status == Status.REJECTED
    assert list(late.rule_counts.values_list("rule_id", flat=True)) == ["FILE001"]
    assert services.gate_check(period="2017-11", window_type="Primary", at=closes_at).rule_id == "FILE001"
    # The beat task locks only when due.
    with mock.patch("submissions.tasks.timezone.now", return_value=closes_at - timedelta(seconds=1)):
        assert close_due_windows() == {}
    window.refresh_from_db()
    assert window.locked_at is None
    with mock.patch("submissions.tasks.timezone.now", return_value=closes_at):
        result = close_due_windows()
    window.refresh_from_db()
    assert window.locked_at == closes_at and result[f"lock:{window.pk}"] == "locked"
    assert AuditEvent.objects.filter(action="window.locked", object_id=str(window.pk)).count() == 1


def test_the_gate_refuses_after_the_close_even_before_the_close_task_ran(
    submitter_a, open_window, commissioners, tmp_path
):
    close_now(open_window)
    assert open_window.locked_at is None
    sub = receive(submitter_a, tmp_path)  # received now, after closes_at
    assert sub.status == Status.REJECTED
    assert sub.rule_counts.get().rule_id == "FILE001"


# ------------------------------------------------------------------------------- outputs


@pytest.fixture
def closed(submitter_a, submitter_b2, open_window, commissioners, tmp_path):  # type: ignore[no-untyped-def]
    a = receive(submitter_a, tmp_path, seed=1, persons=30)
    b = receive(submitter_b2, tmp_path, seed=2, persons=25)
    for s in (a, b):
        assert process_submission(s.pk) == "done"
    close_now(open_window)
    close_due_windows()
    a.refresh_from_db()
    b.refresh_from_db()
    return open_window, a, b


def test_outputs_of_a_closed_window(closed):
    window, *_ = closed
    kinds = sorted(
        PostDeadlineOutput.objects.filter(window=window).values_list("kind", "org_code", "window_type")
    )
    assert kinds == [
        ("commissioner_extract", "00C", "Primary"),
        ("commissioner_extract", "01A", "Primary"),
        ("provider_extract", "TSTP1", "Primary"),
        ("provider_extract", "TSTP2", "Primary"),
        ("statistics", "", "Primary"),
    ]
    run = PostDeadlineRun.objects.get(window=window)
    assert run.finished_at is not None and run.runs == 1
    # Idempotent: the next beat run does nothing.
    assert close_due_windows() == {}


def test_post_deadline_extract_columns_and_submission_sheet(closed):
    window, a, _ = closed
    out = PostDeadlineOutput.objects.get(window=window, kind=OutputKind.PROVIDER_EXTRACT, org_code="TSTP1")
    assert out.file_name("zip") == f"TSTP1_2017-11_Primary_{a.bsp_unique_id:07d}_post_deadline.zip"
    tables = read_zip(out.files["zip"])
    with default_storage.open(out.files["zip"], "rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
        assert zf.namelist()[:3] == ["Submission.csv", "Header.csv", "Person.csv"]
    for table in ("Person", "Referral", "Appointment", "Disability"):
        expected = [*DATASET.tables[table].column_names, *DERIVED_COLUMNS.get(table, ())]
        assert tables[table].columns == expected, table
    assert tables["Person"].height == a.total_records == 30
    sheet = tables["Submission"].row(0, named=True)
    assert sheet["SUBMISSION_ID"] == a.submission_id
    assert sheet["BSP_UNIQUE_ID"] == f"{a.bsp_unique_id:07d}"
    assert sheet["FILE_TYPE"] == "Primary" and sheet["PROFILE"] == a.profile
    assert sheet["RECEIVED_AT"] == a.received_at.astimezone(LONDON).isoformat(timespec="seconds")
    assert datetime.fromisoformat(sheet["RECEIVED_AT"]).utcoffset() is not None
    assert sheet["TOTAL_RECORDS"] == "30" and sheet["ROWS_ACCEPTED_Person"] == "30"
    assert list(tables["Submission"].columns[:6]) == [
        "SUBMISSION_ID",
        "BSP_UNIQUE_ID",
        "FILE_TYPE",
        "PROFILE",
        "RECEIVED_AT",
        "TOTAL_RECORDS",
    ]
    # XLSX: the same sheets.
    from python_calamine import CalamineWorkbook

    with default_storage.open(out.files["xlsx"], "rb") as fh:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(fh.read()))
    assert wb.sheet_names[:3] == ["Submission", "Header", "Person"]
    assert wb.get_sheet_by_name("Person").to_python()[0] == tables["Person"].columns


def test_commissioner_extract_layout_and_no_identifiers(closed):
    window, a, b = closed
    out = PostDeadlineOutput.objects.get(window=window, kind=OutputKind.COMMISSIONER_EXTRACT, org_code="00C")
    assert out.file_name("zip") == "COMM_00C_2017-11_Primary.zip"
    assert out.providers == ["TSTP1", "TSTP2"]
    tables = read_zip(out.files["zip"])
    assert "Header" not in tables
    assert tables["Person"].columns[:4] == ["ORGCODEPROVIDER", "PERSON_ID", "NHSNOSTATUS", "GENDER"]
    assert tables["Referral"].columns[:4] == ["ORGCODEPROVIDER", "PATHWAY_ID", "PERSON_ID", "ORGCODECOMM"]
    assert "APPT_REF" in tables["Appointment"].columns
    for name, frame in tables.items():
        assert not FORBIDDEN_COMMISSIONER_COLUMNS & set(frame.columns), name
        assert frame.columns[0] == "ORGCODEPROVIDER"
    assert set(tables["Referral"]["ORGCODECOMM"]) == {"00C"}
    assert set(tables["Referral"]["ORGCODEPROVIDER"]) == {"TSTP1", "TSTP2"}
    # Every provider's referrals for the code, and nothing else.
    from reporting.data_selectors import accepted_frame

    expected = sum(
        accepted_frame(submission=s, table="Referral", columns=["ORGCODECOMM"])["ORGCODECOMM"].eq("00C").sum()
        for s in (a, b)
    )
    assert tables["Referral"].height == expected
    persons = set(tables["Person"]["PERSON_ID"])
    assert set(tables["Referral"]["PERSON_ID"]) <= persons
    # No identifier value leaks either: an NHS number of the providers' files appears nowhere.
    nhs = set(accepted_frame(submission=a, table="Person", columns=["NHSNO"])["NHSNO"].drop_nulls())
    with default_storage.open(out.files["zip"], "rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
        text = b"".join(zf.read(n) for n in zf.namelist()).decode()
    assert not any(n in text for n in nhs)
    assert out.files["xlsx"].endswith("COMM_00C_2017-11_Primary.xlsx")


def test_statistics_are_stored_for_pages_and_downloads(closed):
    window, *_ = closed
    out = PostDeadlineOutput.objects.get(window=window, kind=OutputKind.STATISTICS)
    assert (out.period, out.status, sorted(out.files)) == ("2017-11", "Provisional", ["csv", "json", "xlsx"])
    with default_storage.open(out.files["csv"], "rb") as fh:
        stats = pl.read_csv(fh.read(), infer_schema=False)
    assert stats.columns == [
        "REPORTING_PERIOD",
        "STATUS",
        "LEVEL",
        "ORG_CODE",
        "MEASURE_ID",
        "MEASURE_NAME",
        "VALUE",
    ]
    assert set(stats["LEVEL"]) == {"National", "Provider", "Commissioner"}
    assert StatisticsValue.objects.filter(output=out).count() == stats.height
    national = dict(
        StatisticsValue.objects.filter(output=out, level="National").values_list("measure_id", "value")
    )
    assert len(national) == 22 and national["M20"] not in ("", "0")


def test_rerun_is_idempotent_and_replaces_the_files(closed):
    window, *_ = closed
    before = {
        o.pk: (o.files, read_zip(o.files["zip"]))
        for o in PostDeadlineOutput.objects.filter(window=window)
        if "zip" in o.files
    }
    close.post_deadline_request(window=window, reason="test")
    assert close_due_windows()[f"run:{window.pk}"] == "finished"
    after = {
        o.pk: (o.files, read_zip(o.files["zip"]))
        for o in PostDeadlineOutput.objects.filter(window=window)
        if "zip" in o.files
    }
    assert before.keys() == after.keys()
    for pk, (files, tables) in before.items():
        assert after[pk][0] == files  # same storage names, replaced
        for name, frame in tables.items():
            assert after[pk][1][name].equals(frame), name
    assert PostDeadlineRun.objects.get(window=window).runs == 2


def test_admin_action_reruns_a_closed_window(admin_client, closed, django_capture_on_commit_callbacks):
    window, *_ = closed
    with (
        mock.patch("submissions.tasks.run_post_deadline.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(
            "/admin/submissions/window/",
            {"action": "rerun_post_deadline", "_selected_action": [window.pk]},
        )
    assert response.status_code == 302
    delay.assert_called_once_with(window.pk)
    assert PostDeadlineRun.objects.get(window=window).finished_at is None
    assert AuditEvent.objects.filter(action="window.post_deadline_requested").exists()
    assert close.post_deadline_run(window_id=window.pk) == "finished"
