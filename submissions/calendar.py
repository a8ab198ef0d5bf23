"""An iCalendar (RFC 5545) feed of the published timetable, one per organisation (subscribe once)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .models import Window
from .timetable import LONDON


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 3.1)."""
    out, raw = [], line.encode()
    while len(raw) > 75:
        cut = 75
        while (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        out.append(raw[:cut].decode())
        raw = b" " + raw[cut:]
    out.append(raw.decode())
    return "\r\n".join(out)


def timetable_ics(windows: list[Window], *, organisation_code: str, host: str) -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//IAPT submission portal//Timetable//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape(f'IAPT submission windows ({organisation_code})')}",
        "X-WR-TIMEZONE:Europe/London",
    ]
    for w in sorted(windows, key=lambda w: w.opens_at):
        opens = w.opens_at.astimezone(LONDON).date()
        deadline = (w.closes_at.astimezone(LONDON) - timedelta(seconds=1)).date()
        events = (
            ("open", opens, f"IAPT window {w.code} opens (Primary {w.primary_rp}, Refresh {w.refresh_rp})"),
            (
                "deadline",
                deadline,
                f"IAPT window {w.code} deadline 23:59:59 (Primary {w.primary_rp}, Refresh {w.refresh_rp})",
            ),
        )
        for kind, day, summary in events:
            lines += [
                "BEGIN:VEVENT",
                f"UID:{w.code}-{kind}@{host}",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
                f"SUMMARY:{_escape(summary)}",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
