"""Audit rows for sign-in, sign-out, failed sign-in, lockout and every change made in the Django admin.

Connected in ``PortalConfig.ready``. Failed sign-ins name the user name that was tried (and the account,
when there is one); the password is never recorded.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import User
from .security import mark_active
from .services import audit_record


def _ip(request: Any) -> str:
    if request is None:
        return ""
    return str(getattr(request, "axes_ip_address", "") or request.META.get("REMOTE_ADDR", ""))


@receiver(user_logged_in, dispatch_uid="portal-audit-login")
def _logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        mark_active(request.session)
    if user.inactivity_warned_at is not None:
        User.objects.filter(pk=user.pk).update(inactivity_warned_at=None)
        user.inactivity_warned_at = None
    audit_record(
        action="auth.login", actor=user, organisation=user.organisation, details={"ip": _ip(request)}
    )


@receiver(user_logged_out, dispatch_uid="portal-audit-logout")
def _logged_out(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        audit_record(action="auth.logout", actor=user, organisation=user.organisation)


@receiver(user_login_failed, dispatch_uid="portal-audit-login-failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    account = User.objects.filter(username=username).select_related("organisation").first()
    audit_record(
        action="auth.login_failed",
        organisation=account.organisation if account else None,
        obj=account,
        details={"username": username, "ip": _ip(request), "known_user": account is not None},
    )


def _locked_out(
    sender: Any, request: Any, username: str | None = None, ip_address: str = "", **kwargs: Any
) -> None:
    account = User.objects.filter(username=username or "").select_related("organisation").first()
    audit_record(
        action="auth.locked_out",
        organisation=account.organisation if account else None,
        obj=account,
        details={"username": username or "", "ip": ip_address},
    )


_ADMIN_ACTIONS = {ADDITION: "admin.added", CHANGE: "admin.changed", DELETION: "admin.deleted"}


@receiver(post_save, sender=LogEntry, dispatch_uid="portal-audit-admin")
def _admin_logged(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    actor = User.objects.filter(pk=instance.user_id).select_related("organisation").first()
    content_type = instance.content_type
    model = content_type.model_class() if content_type else None
    audit_record(
        action=_ADMIN_ACTIONS.get(instance.action_flag, "admin.action"),
        actor=actor,
        organisation=actor.organisation if actor else None,
        object_type=model.__name__ if model is not None else "",
        object_id=instance.object_id or "",
        details={
            "model": f"{content_type.app_label}.{content_type.model}" if content_type else "",
            "object": instance.object_repr,
            "change": instance.get_change_message(),
        },
    )


def connect() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="portal-audit-locked-out")
