"""Data shared by the portal tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from portal.accounts import Certificate

CERTIFICATE = Certificate(
    job_title="Data analyst",
    telephone="0113 496 0000",
    line_manager_name="Lee Manager",
    line_manager_email="lee.manager@example.nhs.uk",
    ig_training_completed_on=timezone.localdate() - timedelta(days=30),
    purpose="Submitting and checking our monthly IAPT data.",
    declares_confidentiality=True,
    declares_purpose_only=True,
    declares_no_sharing=True,
    declares_report_breaches=True,
)
