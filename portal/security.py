"""Sign-in security shared by every page: the second factor, idle sessions, password strength.

``TwoFactorRequiredMiddleware`` lets a signed-in user who has not passed the second factor reach only the
pages that get them through it (``OPEN_URL_NAMES``); every other page sends them to the code page (or to
enrolment when they have no device yet). The API is not redirected: its session authentication
(``portal.authentication.VerifiedSessionAuthentication``) ignores an unverified session instead, and API
tokens are a credential of their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

# Reachable with a password alone (or signed out): signing in and out, the second factor itself, asking
# for access, and the machine-facing endpoints that decide for themselves.
OPEN_URL_NAMES = frozenset(
    {
        "login",
        "logout",
        "healthz",
        "two-factor",
        "two-factor-setup",
        "access-request",
        "api-schema",
        "api-docs",
    }
)
_LAST_SEEN = "portal_last_seen"


def two_factor_required() -> bool:
    return bool(getattr(settings, "PORTAL_REQUIRE_2FA", True))


def is_verified(user: object) -> bool:
    """True for a signed-in user who passed the second factor (or when 2FA is switched off)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if not two_factor_required():
        return True
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def _url_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not is_verified(user)
            and not request.path_info.startswith(("/api/", settings.STATIC_URL))
            and _url_name(request) not in OPEN_URL_NAMES
        ):
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return redirect(f"{reverse('two-factor')}{'?' + query if query else ''}")
        return self.get_response(request)


def mark_active(session: Any) -> None:
    session[_LAST_SEEN] = int(time.time())


class IdleSessionMiddleware:
    """Signs a user out after ``SESSION_IDLE_SECONDS`` without a request.

    The time of the last request is kept in the session and written at most once a minute, so a page that
    polls does not write the session on every poll.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get(_LAST_SEEN)
            idle = settings.SESSION_IDLE_SECONDS
            if isinstance(last, int) and now - last > idle:
                logout(request)
                messages.info(request, "You were signed out because you had not used the portal for a while.")
                if request.path_info.startswith("/api/"):
                    return self.get_response(request)  # the API answers 401 for itself
                return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
            if not isinstance(last, int) or now - last >= 60:
                mark_active(request.session)
        return self.get_response(request)


class CharacterClassValidator:
    """A password needs at least three of: lower-case letters, upper-case letters, digits, other characters.

    Together with the length (12), common-password, numeric and similarity validators of settings.
    """

    def validate(self, password: str, user: object = None) -> None:
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(
                "Your password needs at least three of: lower-case letters, capital letters, numbers "
                "and other characters (such as - or !).",
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return "Use at least three of: lower-case letters, capital letters, numbers and other characters."
