"""Timetable e-mails: a window has opened; the deadline is 5 or 1 working days away (issue 7).

Each is sent once per window (the window records when), to provider users who asked for it. Reminders go
only to providers with no successful file for at least one period of the window.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal.models import Organisation, OrganisationType, User

from .models import SUCCESSFUL_STATUSES, Submission, Window, WindowType
from .timetable import LONDON, is_working_day

log = logging.getLogger(__name__)


def working_days_before(deadline: date, today: date) -> int:
    """Working days from ``today`` (exclusive) up to and including the deadline day."""
    n, d = 0, today
    while d < deadline:
        d += timedelta(days=1)
        if is_working_day(d):
            n += 1
    return n


def _recipients(orgs: list[Organisation], preference: str) -> list[str]:
    return list(
        User.objects.filter(organisation__in=orgs, is_active=True, **{preference: True})
        .exclude(email="")
        .values_list("email", flat=True)
    )


def _send(subject: str, template: str, context: dict[str, object], to: list[str]) -> None:
    body = render_to_string(template, context)
    for address in to:  # one message each: recipients of different providers never see each other
        try:
            send_mail(subject, body, None, [address])
        except Exception:
            log.exception("Could not send %r to %s", subject, address)


def missing_providers(window: Window) -> list[tuple[Organisation, list[str]]]:
    """Providers with no successful file for a period of the window, and which periods are missing."""
    done = set(
        Submission.objects.filter(
            status__in=SUCCESSFUL_STATUSES,
            received_at__lt=window.closes_at,
        )
        .filter(period__in=[window.primary_rp, window.refresh_rp])
        .values_list("organisation_id", "period", "window_type")
    )
    result = []
    for org in Organisation.objects.filter(type=OrganisationType.PROVIDER):
        missing = [
            f"{period} {wt}"
            for period, wt in (
                (window.primary_rp, WindowType.PRIMARY),
                (window.refresh_rp, WindowType.REFRESH),
            )
            if (org.pk, period, wt) not in done
        ]
        if missing:
            result.append((org, missing))
    return result


def _context(window: Window) -> dict[str, object]:
    deadline = window.closes_at.astimezone(LONDON) - timedelta(seconds=1)
    return {
        "window": window,
        "opens": window.opens_at.astimezone(LONDON),
        "deadline": deadline,
        "link": settings.PORTAL_BASE_URL.rstrip("/") + reverse("submission-home"),
    }


def send_timetable_emails(*, now: datetime | None = None) -> dict[str, int]:
    """Window-open e-mails and deadline reminders that are due; safe to run as often as wanted."""
    now = now or timezone.now()
    today = now.astimezone(LONDON).date()
    sent = {"opened": 0, "reminder_5": 0, "reminder_1": 0}
    for window in Window.objects.filter(published=True, opens_at__lte=now, closes_at__gt=now):
        with transaction.atomic():
            w = Window.objects.select_for_update().get(pk=window.pk)
            if w.open_notified_at is None:
                providers = list(Organisation.objects.filter(type=OrganisationType.PROVIDER))
                to = _recipients(providers, "notify_window_open")
                _send(f"IAPT submission window {w.code} is open", "email/window_open.txt", _context(w), to)
                w.open_notified_at = now
                w.save(update_fields=["open_notified_at"])
                sent["opened"] += len(to)
            deadline_day = (w.closes_at.astimezone(LONDON) - timedelta(seconds=1)).date()
            days = working_days_before(deadline_day, today)
            for n, field in ((5, "reminder_5_sent_at"), (1, "reminder_1_sent_at")):
                if days <= n and getattr(w, field) is None and not (n == 5 and days <= 1):
                    for org, missing in missing_providers(w):
                        to = _recipients([org], "notify_reminders")
                        context = {**_context(w), "organisation": org, "missing": missing, "days": n}
                        _send(
                            f"Reminder: {n} working day{'s' if n > 1 else ''} left to submit to window {w.code}",
                            "email/deadline_reminder.txt",
                            context,
                            to,
                        )
                        sent[f"reminder_{n}"] += len(to)
                    setattr(w, field, now)
                    w.save(update_fields=[field])
    return sent
