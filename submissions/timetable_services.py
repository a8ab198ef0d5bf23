"""Writes of the submission timetable (spec 8.1): generate, adjust, publish, import.

Rules enforced here, for the admin page and any other caller: windows never overlap, each (RP,
window type) pair belongs to one window, a window can be changed freely until it opens, and once
open only its close may be extended, with an audit reason. Closed windows are never changed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.errors import PortalError
from portal.models import User
from portal.services import audit_record

from .models import Window
from .timetable import LONDON, add_months, default_window, local_midnight, parse_period

CSV_COLUMNS = ["code", "opens_on", "closes_on", "primary_rp", "refresh_rp", "published"]


def window_dates(window: Window) -> tuple[date, date]:
    """(opening day, deadline day) in Europe/London."""
    return (
        window.opens_at.astimezone(LONDON).date(),
        (window.closes_at.astimezone(LONDON) - timedelta(seconds=1)).date(),
    )


def _save_checked(window: Window) -> None:
    try:
        window.full_clean()
    except ValidationError as exc:
        raise PortalError(" ".join(exc.messages), code="invalid_window") from exc
    window.save()


@transaction.atomic
def window_generate_year(*, actor: User, year: int) -> list[Window]:
    """Draft windows for every month of ``year`` by the default rule; months already present are skipped."""
    created = []
    for month in range(1, 13):
        d = default_window(f"{year:04d}-{month:02d}")
        if (
            Window.objects.filter(code=d.code).exists()
            or Window.objects.filter(primary_rp=d.primary_rp).exists()
        ):
            continue
        w = Window(
            code=d.code,
            opens_at=d.opens_at,
            closes_at=d.closes_at,
            primary_rp=d.primary_rp,
            refresh_rp=d.refresh_rp,
            published=False,
        )
        _save_checked(w)
        created.append(w)
    audit_record(
        action="timetable.generated",
        actor=actor,
        details={"year": year, "created": [w.code for w in created]},
    )
    return created


@transaction.atomic
def window_update(
    *,
    actor: User,
    window: Window,
    opens_on: date,
    closes_on: date,
    reason: str = "",
    now: datetime | None = None,
) -> Window:
    now = now or timezone.now()
    window = Window.objects.select_for_update().get(pk=window.pk)
    old_open, old_close = window_dates(window)
    if window.closes_at <= now:
        raise PortalError("This window has closed; its dates can no longer change.", code="window_closed")
    if window.opens_at <= now:
        if opens_on != old_open:
            raise PortalError("This window is open: only its close can be extended.", code="window_open")
        if closes_on <= old_close:
            raise PortalError("An open window's close can only be moved later.", code="window_open")
        if not reason.strip():
            raise PortalError("Give a reason for extending an open window.", code="reason_required")
    if closes_on < opens_on:
        raise PortalError("The close date must not be before the opening date.", code="invalid_window")
    window.opens_at = local_midnight(opens_on)
    window.closes_at = local_midnight(closes_on + timedelta(days=1))
    _save_checked(window)
    audit_record(
        action="timetable.window_changed",
        actor=actor,
        obj=window,
        details={
            "code": window.code,
            "from": [old_open.isoformat(), old_close.isoformat()],
            "to": [opens_on.isoformat(), closes_on.isoformat()],
            "reason": reason.strip(),
        },
    )
    return window


@transaction.atomic
def window_publish(*, actor: User, windows: list[Window]) -> int:
    codes = [w.code for w in windows if not w.published]
    Window.objects.filter(code__in=codes).update(published=True)
    if codes:
        audit_record(action="timetable.published", actor=actor, details={"windows": codes})
    return len(codes)


@transaction.atomic
def window_delete_draft(*, actor: User, window: Window) -> None:
    if window.published:
        raise PortalError("Only draft windows can be deleted.", code="published")
    audit_record(action="timetable.draft_deleted", actor=actor, details={"code": window.code})
    window.delete()


def timetable_to_csv(windows: list[Window]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for w in sorted(windows, key=lambda w: w.opens_at):
        opens_on, closes_on = window_dates(w)
        writer.writerow(
            [
                w.code,
                opens_on.isoformat(),
                closes_on.isoformat(),
                w.primary_rp,
                w.refresh_rp,
                str(w.published).lower(),
            ]
        )
    return buf.getvalue()


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _parse_row(line: int, row: dict[str, str]) -> tuple[str, date, date, str, str]:
    try:
        code = (row.get("code") or "").strip()
        opens_on = date.fromisoformat((row.get("opens_on") or "").strip())
        closes_on = date.fromisoformat((row.get("closes_on") or "").strip())
        primary, refresh = (row.get("primary_rp") or "").strip(), (row.get("refresh_rp") or "").strip()
        parse_period(primary)
        parse_period(refresh)
    except ValueError as exc:
        raise PortalError(f"line {line}: {exc}") from exc
    if not code:
        raise PortalError(f"line {line}: the code is blank")
    if refresh != add_months(primary, -1):
        raise PortalError(f"line {line}: the Refresh period must be the month before the Primary period")
    return code, opens_on, closes_on, primary, refresh


@transaction.atomic
def timetable_import_csv(*, actor: User, text: str, now: datetime | None = None) -> ImportResult:
    """Create or change draft/unopened windows from CSV. All or nothing: any error keeps every window as it was."""
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = set(CSV_COLUMNS[:5]) - set(reader.fieldnames or [])
    if missing:
        raise PortalError(f"The CSV lacks the column(s) {', '.join(sorted(missing))}.", code="invalid_csv")
    for line, row in enumerate(reader, start=2):
        try:
            code, opens_on, closes_on, primary, refresh = _parse_row(line, row)
            window = Window.objects.filter(code=code).first()
            if window is None:
                window = Window(
                    code=code,
                    opens_at=local_midnight(opens_on),
                    closes_at=local_midnight(closes_on + timedelta(days=1)),
                    primary_rp=primary,
                    refresh_rp=refresh,
                    published=False,
                )
                _save_checked(window)
                result.created.append(code)
            elif window_dates(window) == (opens_on, closes_on) and (window.primary_rp, window.refresh_rp) == (
                primary,
                refresh,
            ):
                result.unchanged.append(code)
            else:
                if (window.primary_rp, window.refresh_rp) != (primary, refresh):
                    raise PortalError(f"line {line}: {code} exists with other periods")
                window_update(actor=actor, window=window, opens_on=opens_on, closes_on=closes_on, now=now)
                result.updated.append(code)
        except PortalError as exc:
            msg = exc.message if exc.message.startswith("line ") else f"line {line}: {exc.message}"
            result.errors.append(msg)
    if result.errors:
        transaction.set_rollback(True)
        return ImportResult(errors=result.errors)
    audit_record(
        action="timetable.imported",
        actor=actor,
        details={"created": result.created, "updated": result.updated},
    )
    return result
