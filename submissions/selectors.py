"""Reads for the submission pages and the worker, always scoped to what the user may see."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db.models import Q, QuerySet

from portal.models import Organisation, OrganisationType, User
from validation.model import OrganisationRegister, RegisterEntry

from .models import SUCCESSFUL_STATUSES, Status, Submission, Window, WindowType


def submission_list_for_user(*, user: User) -> QuerySet[Submission]:
    qs = Submission.objects.select_related("organisation", "uploaded_by", "window")
    if user.is_portal_admin:
        return qs
    if user.is_provider_user:
        return qs.filter(organisation=user.organisation)
    return qs.none()


def submission_get_for_user(*, user: User, organisation_code: str, bsp_unique_id: int) -> Submission | None:
    return (
        submission_list_for_user(user=user)
        .filter(organisation__code=organisation_code, bsp_unique_id=bsp_unique_id)
        .first()
    )


def windows_open_at(*, at: datetime) -> QuerySet[Window]:
    return Window.objects.filter(published=True, opens_at__lte=at, closes_at__gt=at).order_by("opens_at")


def timetable(*, include_drafts: bool = False) -> QuerySet[Window]:
    """Every window, newest first (drafts only for administrators)."""
    qs = Window.objects.all() if include_drafts else Window.objects.filter(published=True)
    return qs.order_by("-opens_at")


def open_pairs(*, at: datetime) -> list[tuple[Window, str, str]]:
    """(window, period, window type) pairs that can be uploaded now (spec 8.2)."""
    pairs: list[tuple[Window, str, str]] = []
    for w in windows_open_at(at=at):
        pairs.append((w, w.primary_rp, WindowType.PRIMARY))
        pairs.append((w, w.refresh_rp, WindowType.REFRESH))
    return pairs


def window_for_pair(*, period: str, window_type: str) -> Window | None:
    field = "primary_rp" if window_type == WindowType.PRIMARY else "refresh_rp"
    return Window.objects.filter(published=True, **{field: period}).first()


def queue_position(*, submission: Submission) -> int:
    """1-based position among submissions waiting for a worker (oldest first)."""
    if submission.status != Status.RECEIVED:
        return 0
    ahead = Submission.objects.filter(status=Status.RECEIVED).filter(
        Q(received_at__lt=submission.received_at)
        | Q(received_at=submission.received_at, pk__lt=submission.pk)
    )
    return ahead.count() + 1


def live_submission(*, organisation: Organisation, period: str, window_type: str) -> Submission | None:
    return Submission.objects.filter(
        organisation=organisation, period=period, window_type=window_type, is_live=True
    ).first()


def successful_candidates(
    *, organisation: Organisation, period: str, window_type: str
) -> QuerySet[Submission]:
    return Submission.objects.filter(
        organisation=organisation, period=period, window_type=window_type, status__in=SUCCESSFUL_STATUSES
    ).order_by("-received_at", "-bsp_unique_id")


def organisation_register() -> OrganisationRegister:
    """The portal's organisation register (spec 6.6) as the validation library expects it."""
    entries: dict[str, RegisterEntry] = {}
    for org in Organisation.objects.prefetch_related("acts_for"):
        entries[org.code] = RegisterEntry(
            code=org.code,
            name=org.name,
            type=org.type,
            ltc_mus_pilot=org.ltc_mus_pilot,
            ea_pilot=org.ea_pilot,
            acts_for=tuple(sorted(o.code for o in org.acts_for.all())),
        )
    return OrganisationRegister(entries=entries)


def register_digest(register: OrganisationRegister | None = None) -> str:
    """A fingerprint of the register (every entry the validation rules can read), to tell whether a
    file validated earlier would be validated differently now."""
    register = register or organisation_register()
    text = "\n".join(repr(register.entries[code]) for code in sorted(register.entries))
    return hashlib.sha256(text.encode()).hexdigest()


def commissioner_submissions_for_user(*, user: User) -> QuerySet[Submission]:
    """Live submissions holding accepted referrals of the user's commissioner codes."""
    org = user.organisation
    if org is None or org.type not in (OrganisationType.COMMISSIONER, OrganisationType.CSU):
        return Submission.objects.none()
    codes = org.commissioner_codes()
    return (
        Submission.objects.filter(is_live=True, commissioners__code__in=codes)
        .select_related("organisation")
        .distinct()
        .order_by("-period", "organisation__code", "window_type")
    )
