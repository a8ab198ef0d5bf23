"""Pages of signing in with a second factor, asking for access, deciding requests and reading the audit trail."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import cast
from urllib.parse import urlencode

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import accounts, two_factor
from .errors import PortalError
from .forms import DECLARATIONS, AccessRequestForm, AuditFilterForm, DecisionForm, EnrolForm, TwoFactorForm
from .models import AuditEvent, User
from .security import is_verified
from .services import audit_record


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


# ------------------------------------------------------------------------------------ second factor


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    target = _next(request)
    if is_verified(user):
        return redirect(target)
    if not two_factor.has_second_factor(user):
        return redirect(f"{reverse('two-factor-setup')}?{urlencode({'next': target})}")
    form = TwoFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify_code(request=request, user=user, code=form.cleaned_data["code"]):
            return redirect(target)
        form.add_error(
            "code",
            "The code is not right. Enter the newest code from your app (check your phone's clock), "
            "or one of your recovery codes",
        )
    return render(request, "registration/two_factor.html", {"form": form, "next": target})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    target = _next(request)
    if two_factor.has_second_factor(user):
        # Enrolling another device needs the existing one first.
        return redirect(
            target if is_verified(user) else f"{reverse('two-factor')}?{urlencode({'next': target})}"
        )
    device = two_factor.enrolment_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.totp_enrol_confirm(
            request=request, user=user, device=device, code=form.cleaned_data["code"]
        )
        if codes is not None:
            return render(
                request, "registration/recovery_codes.html", {"codes": codes, "next": target, "new": True}
            )
        form.add_error("code", "The code is not right. Enter the newest 6-digit code your app shows")
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "next": target,
            "qr": two_factor.qr_data_uri(device),
            "secret": two_factor.secret_base32(device),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    if request.method == "POST":
        codes = two_factor.recovery_codes_regenerate(user=user)
        return render(request, "registration/recovery_codes.html", {"codes": codes, "next": reverse("home")})
    left = sum(d.token_set.count() for d in two_factor.StaticDevice.objects.filter(user=user))
    return render(request, "registration/recovery_codes_new.html", {"left": left})


# ---------------------------------------------------------------------------------- access requests


def _access_requests_exhausted(request: HttpRequest) -> bool:
    """The public form creates accounts-to-be and tells whether a user name is taken, so each client address
    may post it ACCESS_REQUEST_LIMIT times an hour (counted in the cache; shared between processes when
    CACHE_URL points at Redis)."""
    key = f"access-request-posts:{get_client_ip_address(request) or 'unknown'}"
    cache.add(key, 0, timeout=3600)
    try:
        posts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        posts = 1
    return posts > settings.ACCESS_REQUEST_LIMIT


@never_cache
@require_http_methods(["GET", "POST"])
def access_request(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        messages.info(
            request, "You already have an account. To change your access, ask your organisation's IG lead."
        )
        return redirect("home")
    if request.method == "POST" and _access_requests_exhausted(request):
        return render(request, "portal/access_request_limited.html", status=429)
    form = AccessRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            req = accounts.access_request_create(
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                password=data["password1"],
                organisation=data["organisation_code"],
                role=data["role"],
                certificate=accounts.Certificate(
                    job_title=data["job_title"],
                    telephone=data["telephone"],
                    line_manager_name=data["line_manager_name"],
                    line_manager_email=data["line_manager_email"],
                    ig_training_completed_on=data["ig_training_completed_on"],
                    purpose=data["purpose"],
                    **{name: data[name] for name in DECLARATIONS},
                ),
            )
        except PortalError as exc:
            form.add_error("username" if "user name" in exc.message else None, exc.message)
        else:
            return render(request, "portal/access_request_sent.html", {"req": req})
    return render(
        request, "portal/access_request_form.html", {"form": form, "declarations": list(DECLARATIONS)}
    )


def _approver(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not user.can_approve_access:
        raise PermissionDenied
    return user


@login_required
@require_GET
def access_request_list(request: HttpRequest) -> HttpResponse:
    user = _approver(request)
    qs = accounts.access_request_list_for_user(user=user)
    return render(
        request,
        "portal/access_requests.html",
        {"pending": list(qs.filter(status="PENDING")), "decided": list(qs.exclude(status="PENDING")[:50])},
    )


@login_required
@require_http_methods(["GET", "POST"])
def access_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _approver(request)
    req = accounts.access_request_get_for_user(user=user, pk=pk)
    if req is None:
        raise Http404("No such request")
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and req.is_pending and form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            accounts.access_request_decide(
                actor=user, access_request=req, approve=approve, reason=form.cleaned_data["reason"]
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            verb = "approved" if approve else "refused"
            messages.success(
                request, f"The request of {req.user.get_full_name()} has been {verb}; they have been told."
            )
            return redirect("access-request-list")
    return render(
        request,
        "portal/access_request_detail.html",
        {
            "req": req,
            "form": form,
            "may_decide": req.is_pending and accounts.may_decide(user=user, request=req),
            "declarations": [DECLARATIONS[name] for name in DECLARATIONS if getattr(req, name)],
        },
    )


# ------------------------------------------------------------------------------------------ audit


def _audit_events(request: HttpRequest, form: AuditFilterForm) -> QuerySet[AuditEvent]:
    user = cast(User, request.user)
    if not user.can_read_audit:
        raise PermissionDenied
    qs = AuditEvent.objects.select_related("actor", "organisation")
    if not user.is_portal_admin:
        qs = qs.filter(organisation=user.organisation)  # an IG lead: their organisation's rows only
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            qs = qs.filter(action__startswith=data["action"].strip())
        if data["organisation"]:
            qs = qs.filter(organisation__code=data["organisation"].strip().upper())
        if data["user"]:
            qs = qs.filter(actor__username=data["user"].strip())
        tz = timezone.get_current_timezone()
        if data["date_from"]:
            qs = qs.filter(created_at__gte=datetime.combine(data["date_from"], time.min, tz))
        if data["date_to"]:
            qs = qs.filter(created_at__lt=datetime.combine(data["date_to"] + timedelta(days=1), time.min, tz))
    return qs


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    qs = _audit_events(request, form)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/audit.html",
        {"form": form, "page": page, "query": query.urlencode(), "actions": _known_actions(request)},
    )


def _known_actions(request: HttpRequest) -> list[str]:
    qs = _audit_events(request, AuditFilterForm())
    return sorted(set(qs.values_list("action", flat=True).distinct()[:200]))


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_value(value: object) -> str:
    """A cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    form = AuditFilterForm(request.GET or None)
    qs = _audit_events(request, form)
    user = cast(User, request.user)
    audit_record(
        action="download",
        actor=user,
        organisation=user.organisation,
        details={"kind": "audit_csv", "filters": {k: v for k, v in request.GET.items() if v}},
    )
    writer = csv.writer(_Echo())
    header = [
        "created_at",
        "action",
        "actor",
        "organisation",
        "object_type",
        "object_id",
        "from_state",
        "to_state",
        "details",
    ]

    def rows() -> Iterator[str]:
        yield writer.writerow(header)
        for e in qs.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    _csv_value(v)
                    for v in (
                        e.created_at.isoformat(),
                        e.action,
                        e.actor.username if e.actor else "",
                        e.organisation.code if e.organisation else "",
                        e.object_type,
                        e.object_id,
                        e.from_state,
                        e.to_state,
                        json.dumps(e.details, sort_keys=True),
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit_{timezone.localdate():%Y%m%d}.csv"'
    return response
