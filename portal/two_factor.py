"""Two-factor sign-in with django-otp: a TOTP device per user, and single-use recovery codes.

A user enrols on their first sign-in: an unconfirmed TOTP device is made, its QR code shown (an SVG made
here, as a data: image, so no other host sees the secret), and the device is confirmed by the first code
the user types. Confirming it also makes ``RECOVERY_CODE_COUNT`` recovery codes (django-otp's static
device): each signs in once in place of a code, for when the phone is lost.
"""

from __future__ import annotations

import base64
import secrets

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User
from .services import audit_record

TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: User) -> bool:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or StaticToken.objects.filter(device__user=user, device__confirmed=True).exists()
    )


def enrolment_device(user: User) -> TOTPDevice:
    """The user's unconfirmed TOTP device, made on first use (the secret stays the same until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def secret_base32(device: TOTPDevice) -> str:
    """The key as an authenticator app takes it when typed in, in groups of four."""
    text = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4, border=2)


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    # 48 random bits each, as xxxx-xxxx-xxxx (django-otp stores at most 16 characters); single use, and
    # only after the password, with django-otp's throttling of wrong codes.
    codes = ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(settings.RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def totp_enrol_confirm(
    *, request: HttpRequest, user: User, device: TOTPDevice, code: str
) -> list[str] | None:
    """Confirm the device with the user's first code; return the new recovery codes (None: wrong code)."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token(_clean(code)):
        audit_record(
            action="auth.2fa_failed", actor=user, organisation=user.organisation, details={"step": "enrol"}
        )
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _new_recovery_codes(user)
    request.session.cycle_key()  # a new session id for the fully signed-in session
    otp_login(request, device)
    audit_record(action="auth.2fa_enrolled", actor=user, organisation=user.organisation, obj=device)
    return codes


def verify_code(*, request: HttpRequest, user: User, code: str) -> bool:
    """Check a TOTP code or a recovery code; on success the session is verified."""
    code = _clean(code)
    device = match_token(user, code) if code else None
    if device is None:
        audit_record(
            action="auth.2fa_failed", actor=user, organisation=user.organisation, details={"step": "verify"}
        )
        return False
    request.session.cycle_key()  # a new session id for the fully signed-in session
    otp_login(request, device)
    kind = "recovery_code" if isinstance(device, StaticDevice) else "totp"
    details: dict[str, object] = {"method": kind}
    if isinstance(device, StaticDevice):
        details["recovery_codes_left"] = device.token_set.count()
    audit_record(action="auth.2fa_verified", actor=user, organisation=user.organisation, details=details)
    return True


def recovery_codes_regenerate(*, user: User) -> list[str]:
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit_record(action="auth.recovery_codes_regenerated", actor=user, organisation=user.organisation)
    return codes


def two_factor_reset(*, actor: User, user: User) -> None:
    """Remove the user's devices (a lost phone): they enrol again at their next sign-in."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_record(
            action="auth.2fa_reset",
            actor=actor,
            organisation=user.organisation,
            obj=user,
            details={"username": user.username},
        )


def _clean(code: str) -> str:
    """TOTP codes lose their spaces; recovery codes keep their hyphen and lower case."""
    return "".join((code or "").split()).lower()[:32]
