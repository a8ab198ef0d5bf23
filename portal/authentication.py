"""DRF authentication with per-organisation API tokens: ``Authorization: Bearer iapt_…``."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .api_tokens import api_token_for_secret, api_token_touch
from .models import ApiToken, User
from .security import is_verified


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Sets ``request.user`` to the token's service user and ``request.auth`` to the ApiToken."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token: other authentication classes (the session) may apply
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as 'Authorization: Bearer <token>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The token is not valid.") from exc
        token = api_token_for_secret(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid or has been revoked.")
        api_token_touch(token=token)
        return token.principal, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """The browser session, once the user has passed the second factor (an unverified session is ignored)."""

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        user = getattr(request._request, "user", None)
        if user is None or not is_verified(user):
            return None
        return super().authenticate(request)  # type: ignore[return-value]


def request_token(request: Any) -> ApiToken | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None
