"""E-mails about submissions. Called from services inside ``transaction.on_commit`` only."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from portal.models import Role, User

from .models import Status, Submission

log = logging.getLogger(__name__)


def _link(submission: Submission) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        "submission-detail", kwargs={"submission_id": submission.submission_id}
    )


def notify_submission_finished(submission_id: int) -> None:
    """Tell the uploader the outcome; tell administrators when processing failed."""
    sub = Submission.objects.select_related("organisation", "uploaded_by").get(pk=submission_id)
    context = {
        "sub": sub,
        "link": _link(sub),
        "counts": list(sub.table_counts.all()),
        "top_rules": list(sub.rule_counts.all()[:5]),
    }
    try:
        wants = sub.uploaded_by is not None and (
            sub.uploaded_by.notify_submission_finished or sub.status == Status.ERROR
        )
        if wants and sub.uploaded_by and sub.uploaded_by.email:
            subject = f"{sub.submission_id} {sub.period} {sub.window_type}: {sub.get_status_display()}"
            send_mail(
                subject,
                render_to_string("email/submission_finished.txt", context),
                None,
                [sub.uploaded_by.email],
            )
        if sub.status == Status.ERROR:
            admins = list(
                User.objects.filter(is_active=True, role=Role.ADMIN)
                .exclude(email="")
                .values_list("email", flat=True)
            )
            if admins:
                send_mail(
                    f"Submission {sub.submission_id} ended in ERROR",
                    render_to_string("email/submission_error_admin.txt", context),
                    None,
                    admins,
                )
    except Exception:  # mail trouble must never undo or block a finished submission
        log.exception("Could not send the e-mail for submission %s", submission_id)


def notify_live_receipt(submission_id: int) -> None:
    """A receipt when a file becomes live: SUBMISSION_ID, the file's SHA-256 and the rule-set version."""
    sub = Submission.objects.select_related("organisation", "uploaded_by").get(pk=submission_id)
    user = sub.uploaded_by
    if user is None or not user.email or not user.notify_live_receipt:
        return
    try:
        send_mail(
            f"Receipt: {sub.submission_id} is the live file for {sub.period} {sub.window_type}",
            render_to_string("email/live_receipt.txt", {"sub": sub, "link": _link(sub)}),
            None,
            [user.email],
        )
    except Exception:
        log.exception("Could not send the receipt for submission %s", submission_id)


def _admin_addresses() -> list[str]:
    return list(
        User.objects.filter(is_active=True, role=Role.ADMIN).exclude(email="").values_list("email", flat=True)
    )


def notify_admins_stuck(submission_id: int, *, reason: str = "") -> None:
    """A submission stayed non-final past SUBMISSION_STUCK_AFTER, or its worker was lost (no heartbeat), and
    was re-queued: administrators are told why."""
    sub = Submission.objects.select_related("organisation").get(pk=submission_id)
    admins = _admin_addresses()
    if not admins:
        return
    try:
        send_mail(
            f"Submission {sub.submission_id} was stuck and has been re-queued",
            render_to_string(
                "email/submission_stuck_admin.txt",
                {
                    "sub": sub,
                    "link": _link(sub),
                    "reason": reason
                    or f"not final {settings.SUBMISSION_STUCK_AFTER} seconds after it was received or started",
                },
            ),
            None,
            admins,
        )
    except Exception:
        log.exception("Could not send the stuck e-mail for submission %s", submission_id)
