from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from submissions import services
from submissions.models import Status, Window
from submissions.reminders import send_timetable_emails, working_days_before
from submissions.tasks import process_submission
from submissions.timetable import LONDON, local_midnight
from submissions.timetable_views import calendar_signature
from tests.factories import PASSWORD, SubmissionFactory, WindowFactory
from tests.fixtures import upload
from validation.synth import generate_idb, write_csvzip

pytestmark = pytest.mark.django_db


def test_live_receipt_names_the_file_hash_and_rule_set(
    mailoutbox, submitter_a, open_window, commissioner_a, tmp_path, django_capture_on_commit_callbacks
):
    submitter_a.email = "sam@example.nhs.uk"
    submitter_a.save()
    path = tmp_path / "idb.zip"
    write_csvzip(
        generate_idb(org="TSTP1", period="2017-11", persons=10, seed=2, commissioners=("00C",)), path
    )
    f = upload("idb.zip", path.read_bytes())
    f.sha256 = "ab" * 32
    with mock.patch("submissions.services._enqueue"):
        sub = services.submission_receive(user=submitter_a, upload=f, period="2017-11", window_type="Primary")
    with django_capture_on_commit_callbacks(execute=True):
        process_submission(sub.pk)
    receipts = [m for m in mailoutbox if m.subject.startswith("Receipt:")]
    assert len(receipts) == 1
    assert "ab" * 32 in receipts[0].body and sub.rule_set_version in receipts[0].body
    assert sub.submission_id in receipts[0].subject


def test_optional_emails_can_be_turned_off(
    mailoutbox, submitter_a, open_window, commissioner_a, tmp_path, django_capture_on_commit_callbacks
):
    submitter_a.email = "sam@example.nhs.uk"
    submitter_a.notify_submission_finished = False
    submitter_a.notify_live_receipt = False
    submitter_a.save()
    path = tmp_path / "idb.zip"
    write_csvzip(
        generate_idb(org="TSTP1", period="2017-11", persons=10, seed=2, commissioners=("00C",)), path
    )
    with mock.patch("submissions.services._enqueue"):
        sub = services.submission_receive(
            user=submitter_a,
            upload=upload("idb.zip", path.read_bytes()),
            period="2017-11",
            window_type="Primary",
        )
    with django_capture_on_commit_callbacks(execute=True):
        process_submission(sub.pk)
    assert mailoutbox == []


def test_window_open_email_is_sent_once(mailoutbox, submitter_a, submitter_b, commissioner_user_a):
    for u in (submitter_a, submitter_b, commissioner_user_a):
        u.email = f"{u.username}@example.nhs.uk"
        u.save()
    submitter_b.notify_window_open = False
    submitter_b.save()
    WindowFactory(code="W201712")
    assert send_timetable_emails()["opened"] == 1
    assert [m.to for m in mailoutbox if "is open" in m.subject] == [["submitter_a@example.nhs.uk"]]
    assert send_timetable_emails()["opened"] == 0


def test_reminders_go_to_providers_missing_a_period(
    mailoutbox, provider_a, provider_b, submitter_a, submitter_b
):
    for u in (submitter_a, submitter_b):
        u.email = f"{u.username}@example.nhs.uk"
        u.save()
    today = timezone.now().astimezone(LONDON).date()
    deadline = today
    while working_days_before(deadline, today) < 3:  # three working days to go: the 5-day reminder is due
        deadline += timedelta(days=1)
    w = Window.objects.create(
        code="W201712",
        opens_at=local_midnight(today - timedelta(days=10)),
        closes_at=local_midnight(deadline + timedelta(days=1)),
        primary_rp="2017-11",
        refresh_rp="2017-10",
        open_notified_at=timezone.now(),
    )
    for wt, period in (("Primary", "2017-11"), ("Refresh", "2017-10")):
        SubmissionFactory(
            organisation=provider_b, window=w, period=period, window_type=wt, status=Status.ACCEPTED
        )
    result = send_timetable_emails()
    assert result["reminder_5"] == 1 and result["reminder_1"] == 0
    (mail,) = mailoutbox
    assert mail.to == ["submitter_a@example.nhs.uk"]
    assert "2017-11 Primary" in mail.body and "2017-10 Refresh" in mail.body
    assert send_timetable_emails()["reminder_5"] == 0


def test_working_days_skip_weekends_and_bank_holidays():
    from datetime import date

    assert working_days_before(date(2017, 12, 28), date(2017, 12, 21)) == 3  # 22, 27, 28 (25, 26 holidays)


def test_calendar_feed(client, submitter_a):
    WindowFactory(code="W201712")
    Window.objects.create(
        code="WDRAFT",
        opens_at=timezone.now() + timedelta(days=60),
        closes_at=timezone.now() + timedelta(days=80),
        primary_rp="2030-01",
        refresh_rp="2029-12",
        published=False,
    )
    url = f"/submissions/timetable/calendar/TSTP1/{calendar_signature('TSTP1')}.ics"
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.count("BEGIN:VEVENT") == 2
    assert "UID:W201712-deadline@" in body and "WDRAFT" not in body
    assert (
        client.get(f"/submissions/timetable/calendar/TSTP2/{calendar_signature('TSTP1')}.ics").status_code
        == 404
    )
    client.login(username=submitter_a.username, password=PASSWORD)
    assert calendar_signature("TSTP1") in client.get("/submissions/timetable/").content.decode()


def test_notification_settings_page(client, submitter_a):
    client.login(username=submitter_a.username, password=PASSWORD)
    response = client.post("/account/notifications/", {"notify_live_receipt": "on"})
    assert response.status_code == 302
    submitter_a.refresh_from_db()
    assert submitter_a.notify_live_receipt and not submitter_a.notify_reminders
