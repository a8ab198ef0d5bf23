"""Periodic portal tasks (Celery beat: ``CELERY_BEAT_SCHEDULE`` in settings)."""

from __future__ import annotations

from celery import shared_task

from .accounts import inactive_accounts_process


@shared_task(acks_late=True, soft_time_limit=600, time_limit=900)
def deactivate_inactive_accounts() -> dict[str, int]:
    """Warn, then deactivate, accounts left unused (idempotent; runs every few hours)."""
    result = inactive_accounts_process()
    return {"warned": len(result.warned), "deactivated": len(result.deactivated)}
