"""The timetable page: everyone sees published windows; administrators generate, adjust, publish and import."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.errors import PortalError
from portal.services import audit_record

from . import calendar as timetable_services_calendar
from . import selectors, timetable_services
from .forms import GenerateYearForm, TimetableImportForm, WindowEditForm
from .models import Window


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_portal_admin:  # type: ignore[union-attr]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _rows(windows: list[Window]) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for w in windows:
        opens_on, closes_on = timetable_services.window_dates(w)
        if not w.published:
            state = "Draft"
        elif w.closes_at <= now:
            state = "Closed"
        elif w.opens_at <= now:
            state = "Open"
        else:
            state = "Published"
        rows.append({"window": w, "opens_on": opens_on, "closes_on": closes_on, "state": state})
    return rows


@login_required
@require_GET
def timetable(request: HttpRequest) -> HttpResponse:
    is_admin = request.user.is_portal_admin  # type: ignore[union-attr]
    windows = list(selectors.timetable(include_drafts=is_admin))
    return render(
        request,
        "submissions/timetable.html",
        {
            "rows": _rows(windows),
            "is_admin": is_admin,
            "has_drafts": any(not w.published for w in windows),
            "generate_form": GenerateYearForm(initial={"year": timezone.now().year + 1}),
            "import_form": TimetableImportForm(),
            "calendar_url": (
                calendar_url(request, request.user.organisation.code)  # type: ignore[union-attr]
                if request.user.organisation  # type: ignore[union-attr]
                else None
            ),
        },
    )


def calendar_signature(organisation_code: str) -> str:
    return signing.Signer(salt="timetable-calendar").signature(organisation_code)


def calendar_url(request: HttpRequest, organisation_code: str) -> str:
    return request.build_absolute_uri(
        reverse(
            "timetable-calendar",
            kwargs={"code": organisation_code, "signature": calendar_signature(organisation_code)},
        )
    )


@require_GET
def timetable_calendar(request: HttpRequest, code: str, signature: str) -> HttpResponse:
    """The organisation's subscription feed: calendar apps send no cookies, so the URL carries a signature."""
    if not constant_time_compare(signature, calendar_signature(code)):
        raise Http404("No such calendar")
    body = timetable_services_calendar.timetable_ics(
        list(selectors.timetable()), organisation_code=code, host=request.get_host().split(":")[0]
    )
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@admin_only
@require_POST
def timetable_generate(request: HttpRequest) -> HttpResponse:
    form = GenerateYearForm(request.POST)
    if form.is_valid():
        created = timetable_services.window_generate_year(actor=request.user, year=form.cleaned_data["year"])  # type: ignore[arg-type]
        messages.success(request, f"{len(created)} draft window(s) created. Review them, then publish.")
    else:
        messages.error(request, "Enter a year between 2016 and 2100.")
    return redirect("timetable")


@admin_only
@require_POST
def timetable_publish(request: HttpRequest) -> HttpResponse:
    drafts = list(selectors.timetable(include_drafts=True).filter(published=False))
    n = timetable_services.window_publish(actor=request.user, windows=drafts)  # type: ignore[arg-type]
    messages.success(request, f"{n} window(s) published.")
    return redirect("timetable")


@admin_only
@require_http_methods(["GET", "POST"])
def timetable_edit(request: HttpRequest, code: str) -> HttpResponse:
    window = Window.objects.filter(code=code).first()
    if window is None:
        raise Http404("No such window")
    opens_on, closes_on = timetable_services.window_dates(window)
    if request.method == "POST":
        if "delete" in request.POST:
            try:
                timetable_services.window_delete_draft(actor=request.user, window=window)  # type: ignore[arg-type]
            except PortalError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Draft window {code} deleted.")
            return redirect("timetable")
        form = WindowEditForm(request.POST)
        if form.is_valid():
            try:
                timetable_services.window_update(
                    actor=request.user,  # type: ignore[arg-type]
                    window=window,
                    opens_on=form.cleaned_data["opens_on"],
                    closes_on=form.cleaned_data["closes_on"],
                    reason=form.cleaned_data["reason"],
                )
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Window {code} changed.")
                return redirect("timetable")
    else:
        form = WindowEditForm(initial={"opens_on": opens_on, "closes_on": closes_on})
    return render(
        request,
        "submissions/timetable_edit.html",
        {"window": window, "form": form, "is_open": window.opens_at <= timezone.now()},
    )


@admin_only
@require_GET
def timetable_export(request: HttpRequest) -> HttpResponse:
    windows = list(selectors.timetable(include_drafts=True))
    audit_record(action="download", actor=request.user, details={"kind": "timetable_csv"})  # type: ignore[arg-type]
    response = HttpResponse(
        timetable_services.timetable_to_csv(windows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="timetable.csv"'
    return response


@admin_only
@require_POST
def timetable_import(request: HttpRequest) -> HttpResponse:
    form = TimetableImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a CSV file to import.")
        return redirect("timetable")
    raw = form.cleaned_data["file"].read(1024 * 1024 + 1)
    try:
        if len(raw) > 1024 * 1024:
            raise PortalError("The timetable CSV is larger than 1 MB.")
        result = timetable_services.timetable_import_csv(actor=request.user, text=raw.decode("utf-8"))  # type: ignore[arg-type]
    except UnicodeDecodeError:
        messages.error(request, "The file is not UTF-8 text.")
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        if result.errors:
            messages.error(request, "Nothing was imported: " + "; ".join(result.errors[:10]))
        else:
            messages.success(
                request,
                f"Imported: {len(result.created)} created, {len(result.updated)} changed, {len(result.unchanged)} unchanged.",
            )
    return redirect("timetable")
