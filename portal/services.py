"""Writes shared by every app: the audit trail."""

from __future__ import annotations

from typing import Any

from .models import AuditEvent, Organisation, User


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    organisation: Organisation | None = None,
    obj: Any = None,
    from_state: str = "",
    to_state: str = "",
    details: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        organisation=organisation,
        object_type=type(obj).__name__ if obj is not None else object_type[:64],
        object_id=str(getattr(obj, "pk", "") or "") if obj is not None else str(object_id)[:64],
        from_state=from_state,
        to_state=to_state,
        details=details or {},
    )
    event.save()
    return event
