"""What every API view shares: one error shape, permissions by token scope, throttles, pagination.

Errors are always ``{"message": str, "code": str, "details": object}`` (``exception_handler``);
``portal.errors.PortalError`` maps to 400 (403 for ``code="forbidden"``, 404 for ``"not_found"``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .authentication import request_token
from .errors import PortalError
from .models import ApiScope

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")

_PORTAL_ERROR_STATUS = {"forbidden": status.HTTP_403_FORBIDDEN, "not_found": status.HTTP_404_NOT_FOUND}


def error_body(message: str, code: str, details: Any = None) -> dict[str, Any]:
    return {"message": message, "code": code, "details": details if details is not None else {}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, PortalError):
        return Response(
            error_body(exc.message, exc.code),
            status=_PORTAL_ERROR_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST),
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or exceptions.NotFound.default_detail)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or exceptions.PermissionDenied.default_detail)
    response = drf_exception_handler(exc, context)
    if response is None:
        # Not an API error: log it with the traceback and answer in the same shape.
        log.exception("API error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(
            error_body("Something went wrong on our side. Try again later.", "server_error"),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    assert isinstance(exc, exceptions.APIException)
    details: Any = {}
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("The request is not valid.", "invalid", details)
    else:
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details["retry_after_seconds"] = int(exc.wait + 0.999)
        code = exc.get_codes()
        response.data = error_body(
            str(exc.detail), code if isinstance(code, str) else exc.default_code, details
        )
    return response


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField(help_text="e.g. invalid, not_authenticated, permission_denied, not_found")
    details = serializers.JSONField(help_text="Field errors for 'invalid'; otherwise usually empty.")


_ERROR_TEXT = {
    400: "The request is not valid (details holds the field errors).",
    401: "No token, or the token is not valid or has been revoked.",
    403: "The token or user may not do this.",
    404: "Not found, or not visible to you.",
    409: "Not ready yet: the submission has not reached a final status.",
    429: "Too many requests for this token: wait retry_after_seconds.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {c: OpenApiResponse(ErrorSerializer, description=_ERROR_TEXT[c]) for c in (401, 403, 429, *codes)}


# ------------------------------------------------------------------------------------- permissions


class TokenScope(BasePermission):
    """A token may only do what its scopes allow; session users act with their role alone."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request_token(request)
        if token is None:
            return True
        scope = view.required_scopes.get(request.method, ApiScope.READ)
        if not token.has_scope(scope):
            self.message = f"This token does not have the '{scope}' scope."
            return False
        return True


class ProviderAccess(BasePermission):
    message = "Only provider organisations and administrators can see submissions."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user.is_provider_user or user.is_portal_admin)  # type: ignore[union-attr]


class CommissionerAccess(BasePermission):
    message = "Only commissioner and CSU organisations can download commissioner extracts."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user.is_commissioner_user and user.organisation is not None)  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------- throttles


class ApiRateThrottle(SimpleRateThrottle):
    """Requests per token (per user for session requests, per address when anonymous).

    Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] at request time (settings-configurable).
    """

    scope = "api"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request_token(request)
        if token is not None:
            ident = f"token-{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiUploadThrottle(ApiRateThrottle):
    """Uploads per token (POST only)."""

    scope = "api_upload"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


class ApiPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# Base of every /api/v1/ view: authenticated, scope-checked, throttled per token. (A comment, not a
# docstring: the schema would show a docstring as every operation's description.)
class ApiView(APIView):
    permission_classes = [IsAuthenticated, TokenScope]
    throttle_classes = [ApiRateThrottle]
    required_scopes: dict[str, str] = {}


def london_iso(when: datetime | None) -> str | None:
    """ISO 8601 in Europe/London time with its offset, to the second (spec 1)."""
    return when.astimezone(LONDON).isoformat(timespec="seconds") if when is not None else None


class LondonDateTimeField(serializers.DateTimeField):
    def to_representation(self, value: datetime | None) -> str | None:  # type: ignore[override]
        return london_iso(value)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from /account/tokens/: `Authorization: Bearer iapt_…`.",
        }


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    target_class = "portal.authentication.VerifiedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The browser session of a user signed in with both factors (for the docs page).",
        }
