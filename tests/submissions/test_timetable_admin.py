from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from portal.errors import PortalError
from portal.models import AuditEvent
from submissions import services, timetable_services
from submissions.models import Window
from submissions.timetable import LONDON
from tests.factories import PASSWORD, WindowFactory

pytestmark = pytest.mark.django_db


def test_generate_year_creates_drafts_by_the_default_rule(admin_user):
    created = timetable_services.window_generate_year(actor=admin_user, year=2018)
    assert [w.code for w in created][:2] == ["W201801", "W201802"]
    w = Window.objects.get(code="W201805")
    assert timetable_services.window_dates(w) == (date(2018, 5, 1), date(2018, 5, 25))
    assert not w.published
    # Drafts are invisible to the gate until published.
    at = w.opens_at + timedelta(days=1)
    assert services.gate_check(period="2018-04", window_type="Primary", at=at).rule_id == "FILE002"
    timetable_services.window_publish(actor=admin_user, windows=created)
    assert services.gate_check(period="2018-04", window_type="Primary", at=at).rule_id is None
    assert timetable_services.window_generate_year(actor=admin_user, year=2018) == []  # idempotent


def test_unopened_window_can_move_but_not_overlap(admin_user):
    timetable_services.window_generate_year(actor=admin_user, year=2030)
    w = Window.objects.get(code="W203003")
    timetable_services.window_update(
        actor=admin_user, window=w, opens_on=date(2030, 3, 4), closes_on=date(2030, 3, 27)
    )
    w.refresh_from_db()
    assert timetable_services.window_dates(w) == (date(2030, 3, 4), date(2030, 3, 27))
    with pytest.raises(PortalError, match="overlap"):
        timetable_services.window_update(
            actor=admin_user, window=w, opens_on=date(2030, 3, 4), closes_on=date(2030, 4, 2)
        )


def test_open_window_only_extends_with_a_reason(admin_user):
    w = WindowFactory()
    opens_on, closes_on = timetable_services.window_dates(w)
    with pytest.raises(PortalError, match="only its close"):
        timetable_services.window_update(
            actor=admin_user, window=w, opens_on=opens_on - timedelta(days=1), closes_on=closes_on
        )
    with pytest.raises(PortalError, match="reason"):
        timetable_services.window_update(
            actor=admin_user, window=w, opens_on=opens_on, closes_on=closes_on + timedelta(days=2)
        )
    with pytest.raises(PortalError, match="later"):
        timetable_services.window_update(
            actor=admin_user, window=w, opens_on=opens_on, closes_on=closes_on - timedelta(days=1), reason="x"
        )
    timetable_services.window_update(
        actor=admin_user,
        window=w,
        opens_on=opens_on,
        closes_on=closes_on + timedelta(days=2),
        reason="Outage on 3rd",
    )
    event = AuditEvent.objects.get(action="timetable.window_changed")
    assert event.details["reason"] == "Outage on 3rd"


def test_closed_window_never_changes(admin_user):
    now = timezone.now()
    w = WindowFactory(opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=5))
    opens_on, closes_on = timetable_services.window_dates(w)
    with pytest.raises(PortalError, match="closed"):
        timetable_services.window_update(
            actor=admin_user,
            window=w,
            opens_on=opens_on,
            closes_on=closes_on + timedelta(days=30),
            reason="late",
        )


def test_csv_round_trip_and_all_or_nothing_import(admin_user):
    timetable_services.window_generate_year(actor=admin_user, year=2031)
    text = timetable_services.timetable_to_csv(list(Window.objects.all()))
    assert text.splitlines()[0] == "code,opens_on,closes_on,primary_rp,refresh_rp,published"
    Window.objects.all().delete()
    result = timetable_services.timetable_import_csv(actor=admin_user, text=text)
    assert len(result.created) == 12 and not result.errors
    again = timetable_services.timetable_import_csv(actor=admin_user, text=text)
    assert len(again.unchanged) == 12
    bad = (
        text
        + "W203201,2032-01-02,2032-01-26,2031-12,2031-10,false\nW203202,2032-02-31,2032-02-26,2032-01,2031-12,false\n"
    )
    result = timetable_services.timetable_import_csv(actor=admin_user, text=bad)
    assert len(result.errors) == 2 and "line 14" in result.errors[0] and "line 15" in result.errors[1]
    assert not Window.objects.filter(code__startswith="W2032").exists()


def test_timetable_page_for_providers_and_admins(client, submitter_a, admin_user):
    WindowFactory(code="W201712")
    Window.objects.create(
        code="WDRAFT",
        opens_at=timezone.now() + timedelta(days=60),
        closes_at=timezone.now() + timedelta(days=80),
        primary_rp="2030-01",
        refresh_rp="2029-12",
        published=False,
    )
    client.login(username=submitter_a.username, password=PASSWORD)
    page = client.get("/submissions/timetable/").content.decode()
    assert "W201712" in page and "WDRAFT" not in page and "Generate drafts" not in page
    assert client.post("/submissions/timetable/generate/", {"year": 2040}).status_code == 403
    client.login(username=admin_user.username, password=PASSWORD)
    page = client.get("/submissions/timetable/").content.decode()
    assert "WDRAFT" in page and "Publish all draft windows" in page
    response = client.post("/submissions/timetable/generate/", {"year": 2040}, follow=True)
    assert "12 draft window(s) created" in response.content.decode()
    response = client.post(
        "/submissions/timetable/W204003/", {"opens_on": "2040-03-02", "closes_on": "2040-03-28"}
    )
    assert response.status_code == 302
    w = Window.objects.get(code="W204003")
    assert w.closes_at.astimezone(LONDON).date() == date(2040, 3, 29)
    csv_text = client.get("/submissions/timetable/export.csv").content.decode()
    assert "W204003,2040-03-02,2040-03-28" in csv_text
    client.post("/submissions/timetable/publish/")
    assert Window.objects.filter(published=False).count() == 0
