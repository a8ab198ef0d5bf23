"""API tokens: who may hold which scopes, and the writes and reads of tokens (services and selectors).

A token is ``iapt_`` followed by 43 URL-safe characters (32 random bytes). Only its SHA-256 hash is
stored; the first characters (``prefix``) are kept to tell tokens apart on screen. Each token acts
through its own service user (``ApiToken.principal``): the organisation's role for the token's scopes,
no usable password, the creator's e-mail (so the person who set up the integration hears about
outcomes). Submissions made with a token therefore record that service user as ``uploaded_by``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .errors import PortalError
from .models import ApiScope, ApiToken, Organisation, OrganisationType, Role, User
from .services import audit_record

TOKEN_PREFIX = "iapt_"
_PREFIX_LENGTH = len(TOKEN_PREFIX) + 8


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def allowed_scopes(user: User) -> list[str]:
    """Scopes the user may give a new token: submitters read+submit, everyone else with an organisation read."""
    if not user.is_authenticated or user.organisation is None or not user.is_active:
        return []
    if user.username.startswith(f"api-{TOKEN_PREFIX}"):  # a token's own service user never makes tokens
        return []
    if user.can_upload:
        return [ApiScope.READ, ApiScope.SUBMIT]
    return [ApiScope.READ]


def can_manage_tokens(user: User) -> bool:
    return bool(allowed_scopes(user))


def _principal_role(user: User, scopes: list[str]) -> str:
    if ApiScope.SUBMIT in scopes:
        return Role.PROVIDER_SUBMITTER
    if user.is_portal_admin:
        return Role.ADMIN
    org = user.organisation
    if org is not None and org.type in (OrganisationType.COMMISSIONER, OrganisationType.CSU):
        return Role.COMMISSIONER_VIEWER
    return Role.PROVIDER_VIEWER


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str  # the whole token; shown once, never stored


@transaction.atomic
def api_token_create(*, user: User, name: str, scopes: list[str]) -> CreatedToken:
    allowed = allowed_scopes(user)
    if not allowed:
        raise PortalError("You cannot create API tokens.", code="forbidden")
    name = (name or "").strip()
    if not name:
        raise PortalError("Enter a name for the token.", code="invalid")
    wanted = sorted(set(scopes))
    if not wanted or any(s not in allowed for s in wanted):
        raise PortalError("Choose what the token may do.", code="invalid")
    if ApiScope.SUBMIT in wanted and ApiScope.READ not in wanted:
        wanted = sorted([*wanted, ApiScope.READ])  # a submitting system must be able to poll its files
    organisation: Organisation = user.organisation  # type: ignore[assignment]
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = secret[:_PREFIX_LENGTH]
    principal = User(
        username=f"api-{prefix}",
        first_name="API token",
        last_name=name[:150],
        email=user.email,
        organisation=organisation,
        role=_principal_role(user, wanted),
    )
    principal.set_unusable_password()
    principal.save()
    token = ApiToken(
        organisation=organisation,
        created_by=user,
        principal=principal,
        name=name[:100],
        scopes=" ".join(wanted),
        prefix=prefix,
        token_hash=hash_token(secret),
    )
    token.full_clean()
    token.save()
    audit_record(
        action="api_token.created",
        actor=user,
        organisation=organisation,
        obj=token,
        details={"name": token.name, "scopes": wanted, "prefix": prefix, "principal": principal.username},
    )
    return CreatedToken(token=token, secret=secret)


def may_revoke(*, user: User, token: ApiToken) -> bool:
    """The creator, a submitter of the token's organisation, or an administrator."""
    if user.is_portal_admin:
        return True
    if user.organisation_id != token.organisation_id:
        return False
    return token.created_by_id == user.pk or user.can_upload


@transaction.atomic
def api_token_revoke(*, user: User, token: ApiToken) -> ApiToken:
    if not may_revoke(user=user, token=token):
        raise PortalError("You cannot revoke this token.", code="forbidden")
    token = ApiToken.objects.select_for_update().select_related("principal").get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.revoked_by = user
    token.save(update_fields=["revoked_at", "revoked_by"])
    User.objects.filter(pk=token.principal_id).update(is_active=False)
    audit_record(
        action="api_token.revoked",
        actor=user,
        organisation=token.organisation,
        obj=token,
        details={"name": token.name, "prefix": token.prefix},
    )
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record use at most once per ``API_TOKEN_TOUCH_SECONDS`` so each request does not write."""
    now = timezone.now()
    every = timedelta(seconds=getattr(settings, "API_TOKEN_TOUCH_SECONDS", 300))
    if token.last_used_at is not None and now - token.last_used_at < every:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


# ------------------------------------------------------------------------------------- selectors


def api_token_for_secret(raw: str) -> ApiToken | None:
    """The active token with this secret whose service user and creator are still active, else None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("principal__organisation", "created_by", "organisation")
        .filter(token_hash=hash_token(raw))
        .first()
    )
    if token is None or token.revoked_at is not None or not token.principal.is_active:
        return None
    if token.created_by is not None and not token.created_by.is_active:
        return None  # a token stops working when the account that made it is deactivated
    return token


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    qs = ApiToken.objects.select_related("created_by", "revoked_by", "organisation")
    if user.is_portal_admin and user.organisation is None:
        return qs
    if user.organisation is None:
        return qs.none()
    return qs.filter(organisation=user.organisation)


def api_token_get_for_user(*, user: User, pk: int) -> ApiToken | None:
    qs = ApiToken.objects.select_related("created_by", "revoked_by", "organisation")
    if not user.is_portal_admin:
        if user.organisation is None:
            return None
        qs = qs.filter(organisation=user.organisation)
    return qs.filter(pk=pk).first()
