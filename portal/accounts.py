"""Accounts: access requests and their approval, inactive-account deactivation (services and selectors).

The approval path: a person asks for a role in an organisation and declares their data user certificate
(``access_request_create``: the account is created inactive); the organisation's IG lead or a national
administrator approves or refuses it (``access_request_decide``); both sides are told by e-mail. Nobody
of an organisation is approved before its Caldicott Guardian is registered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .errors import PortalError
from .models import AccessRequest, AccessRequestStatus, Organisation, Role, User
from .services import audit_record

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------- e-mail


def _send(*, template: str, to: list[str], context: dict[str, Any]) -> None:
    recipients = sorted({a for a in to if a})
    if not recipients:
        return
    context = {**context, "base_url": settings.PORTAL_BASE_URL.rstrip("/")}
    text = render_to_string(f"email/{template}.txt", context).strip() + "\n"
    subject, _, body = text.partition("\n")
    try:
        send_mail(subject.strip(), body.lstrip("\n"), None, recipients)
    except Exception:  # mail trouble never undoes the change it reports
        log.exception("could not send %s to %s", template, recipients)


def _send_on_commit(*, template: str, to: list[str], context: dict[str, Any]) -> None:
    transaction.on_commit(lambda: _send(template=template, to=to, context=context))


def approvers_of(organisation: Organisation) -> QuerySet[User]:
    """Who may decide the organisation's requests: its active IG leads, and the national administrators."""
    return User.objects.filter(is_active=True).filter(
        Q(is_ig_lead=True, organisation=organisation) | Q(role=Role.ADMIN) | Q(is_superuser=True)
    )


# ----------------------------------------------------------------------------------- access requests


@dataclass(frozen=True)
class Certificate:
    """The data user certificate a person declares with their request."""

    job_title: str
    telephone: str
    line_manager_name: str
    line_manager_email: str
    ig_training_completed_on: date
    purpose: str
    declares_confidentiality: bool
    declares_purpose_only: bool
    declares_no_sharing: bool
    declares_report_breaches: bool


@transaction.atomic
def access_request_create(
    *,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    password: str,
    organisation: Organisation,
    role: str,
    certificate: Certificate,
) -> AccessRequest:
    """Create the person's inactive account and their pending request; tell them and the approvers."""
    if role not in organisation.roles_offered():
        raise PortalError(f"{organisation.name} has no '{role}' role to ask for.", code="invalid")
    if not all(
        (
            certificate.declares_confidentiality,
            certificate.declares_purpose_only,
            certificate.declares_no_sharing,
            certificate.declares_report_breaches,
        )
    ):
        raise PortalError("Agree to every declaration of the data user certificate.", code="invalid")
    if User.objects.filter(username__iexact=username).exists():
        raise PortalError("Choose another user name.", code="invalid")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_active=False,
        organisation=None,
        role=role,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    request = AccessRequest(user=user, organisation=organisation, role=role, **certificate.__dict__)
    request.full_clean()
    request.save()
    audit_record(
        action="access.requested",
        organisation=organisation,
        obj=request,
        to_state=AccessRequestStatus.PENDING,
        details={"username": username, "role": role},
    )
    context = {"req": request, "link": reverse("access-request-detail", kwargs={"pk": request.pk})}
    _send_on_commit(template="access_request_received", to=[email], context=context)
    _send_on_commit(
        template="access_request_to_approve",
        to=list(approvers_of(organisation).values_list("email", flat=True)),
        context=context,
    )
    return request


def may_decide(*, user: User, request: AccessRequest) -> bool:
    """A national administrator, or an IG lead of the request's organisation; never the person asking."""
    if not user.can_approve_access or user.pk == request.user_id:
        return False
    return user.is_portal_admin or user.organisation_id == request.organisation_id


@transaction.atomic
def access_request_decide(
    *, actor: User, access_request: AccessRequest, approve: bool, reason: str = ""
) -> AccessRequest:
    if not may_decide(user=actor, request=access_request):
        raise PortalError("You cannot decide this request.", code="forbidden")
    req = (
        AccessRequest.objects.select_for_update()
        .select_related("user", "organisation")
        .get(pk=access_request.pk)
    )
    if not req.is_pending:
        raise PortalError(
            f"This request has already been {req.get_status_display().lower()}.", code="invalid"
        )
    organisation = req.organisation
    if approve and not organisation.caldicott_guardian_registered:
        raise PortalError(
            f"{organisation.name} has no registered Caldicott Guardian: nobody of the organisation can be "
            "approved until one is registered.",
            code="invalid",
        )
    if not approve and not reason.strip():
        raise PortalError("Say why the request is refused.", code="invalid")
    req.status = AccessRequestStatus.APPROVED if approve else AccessRequestStatus.REFUSED
    req.decided_by = actor
    req.decided_at = timezone.now()
    req.decision_reason = reason.strip()
    req.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    person = req.user
    if approve:
        person.organisation = organisation
        person.role = req.role
        person.is_active = True
        person.inactivity_warned_at = None
        person.save(update_fields=["organisation", "role", "is_active", "inactivity_warned_at"])
    audit_record(
        action="access.approved" if approve else "access.refused",
        actor=actor,
        organisation=organisation,
        obj=req,
        from_state=AccessRequestStatus.PENDING,
        to_state=req.status,
        details={"username": person.username, "role": req.role, "reason": req.decision_reason},
    )
    context = {"req": req, "link": reverse("access-request-detail", kwargs={"pk": req.pk})}
    _send_on_commit(template="access_request_decided", to=[person.email], context=context)
    _send_on_commit(
        template="access_request_decided_approvers",
        to=[e for e in approvers_of(organisation).values_list("email", flat=True) if e != person.email],
        context=context,
    )
    return req


def access_request_list_for_user(*, user: User) -> QuerySet[AccessRequest]:
    qs = AccessRequest.objects.select_related("user", "organisation", "decided_by")
    if not user.can_approve_access:
        return qs.none()
    if user.is_portal_admin:
        return qs
    return qs.filter(organisation=user.organisation)


def access_request_get_for_user(*, user: User, pk: int) -> AccessRequest | None:
    return access_request_list_for_user(user=user).filter(pk=pk).first()


# ---------------------------------------------------------------------------------- inactive accounts


@dataclass(frozen=True)
class InactivityResult:
    warned: list[str]
    deactivated: list[str]


def _last_active_before(cutoff: Any) -> Q:
    return Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)


def inactive_accounts_process(*, now: Any = None) -> InactivityResult:
    """Warn accounts ``ACCOUNT_INACTIVE_WARNING_DAYS`` before ``ACCOUNT_INACTIVE_DAYS`` unused, then deactivate.

    An account is deactivated only once its warning has been sent at least the warning period before, so a
    missed run never deactivates anyone without notice. API tokens' service users are left alone (a token
    is revoked on its own page). Safe to run any number of times.
    """
    now = now or timezone.now()
    days = settings.ACCOUNT_INACTIVE_DAYS
    warn_days = settings.ACCOUNT_INACTIVE_WARNING_DAYS
    people = User.objects.filter(is_active=True).exclude(username__startswith="api-iapt_")
    warned: list[str] = []
    for user in people.filter(_last_active_before(now - timedelta(days=days - warn_days))).filter(
        inactivity_warned_at__isnull=True
    ):
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(inactivity_warned_at=now)
            audit_record(
                action="account.inactivity_warned",
                organisation=user.organisation,
                obj=user,
                details={"username": user.username, "last_login": str(user.last_login or "")},
            )
            _send_on_commit(
                template="account_inactivity_warning",
                to=[user.email],
                context={"user": user, "days": days, "deadline": now + timedelta(days=warn_days)},
            )
        warned.append(user.username)
    deactivated: list[str] = []
    for user in people.filter(_last_active_before(now - timedelta(days=days))).filter(
        inactivity_warned_at__lte=now - timedelta(days=warn_days)
    ):
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(is_active=False)
            audit_record(
                action="account.deactivated",
                organisation=user.organisation,
                obj=user,
                from_state="active",
                to_state="inactive",
                details={"username": user.username, "reason": f"unused for {days} days"},
            )
        deactivated.append(user.username)
    return InactivityResult(warned=warned, deactivated=deactivated)
