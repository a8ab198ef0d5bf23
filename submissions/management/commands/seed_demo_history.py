"""Demo history: submissions for recently closed windows, validated and closed, so that post-deadline extracts
and a statistics page with real figures exist (issue 5).

For each of the last ``--windows`` windows that have closed (newest first, default: last month's window and the
two before it) and each demo provider (TSTP1, TSTP2), a synthetic IDB (``validation.synth.generate_idb`` with
commissioners 00C and 01A) is uploaded through ``submission_receive`` as the Primary and the Refresh of that
window, at a time inside the window, and validated in this process (Celery eager mode: no broker; the
"finished processing" e-mails are not sent). Then the close task function runs, which locks the windows and
makes the extracts and statistics.

Idempotent: a (provider, RP, window type) that already has a submission is left alone.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from portal.celery import app as celery_app
from portal.models import User
from submissions.models import Submission, Window, WindowType
from submissions.services import submission_receive
from submissions.tasks import close_due_windows, process_submission

PROVIDERS = (("TSTP1", "submitter1"), ("TSTP2", "submitter2"))
COMMISSIONERS = ("00C", "01A")


@contextmanager
def in_process() -> Iterator[None]:
    """Run tasks queued with ``.delay`` at once in this process (Celery's eager mode), never via a broker."""
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = old


class Command(BaseCommand):
    help = "Submit, validate and close demo files for recently closed windows (extracts and statistics)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--windows", type=int, default=3, help="How many closed windows (newest first)")
        parser.add_argument("--persons", type=int, default=100)

    def handle(self, *args: Any, **opts: Any) -> None:
        from validation.synth import generate_idb, write_csvzip

        now = timezone.now()
        windows = list(
            Window.objects.filter(published=True, closes_at__lte=now).order_by("-closes_at")[
                : opts["windows"]
            ]
        )
        if not windows:
            self.stdout.write("No closed window: no demo history.")
            return
        made = 0
        with (
            tempfile.TemporaryDirectory(prefix="iapt-demo-history-") as tmp,
            in_process(),
            override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        ):
            for window in windows:
                for period, window_type in (
                    (window.primary_rp, WindowType.PRIMARY),
                    (window.refresh_rp, WindowType.REFRESH),
                ):
                    for seed, (org, username) in enumerate(PROVIDERS, start=1):
                        user = User.objects.filter(username=username).select_related("organisation").first()
                        if user is None or user.organisation is None:
                            continue
                        if Submission.objects.filter(
                            organisation=user.organisation, period=period, window_type=window_type
                        ).exists():
                            continue
                        tables = generate_idb(
                            org=org,
                            period=period,
                            persons=opts["persons"] + 37 * seed,
                            seed=int(period.replace("-", "")) * 10
                            + 2 * seed
                            + (window_type == WindowType.REFRESH),
                            commissioners=COMMISSIONERS,
                        )
                        path = Path(tmp) / f"{org}_{period}_{window_type}.zip"
                        write_csvzip(tables, path)
                        with transaction.atomic():
                            sub = submission_receive(
                                user=user,
                                upload=SimpleUploadedFile(path.name, path.read_bytes()),
                                period=period,
                                window_type=window_type,
                                received_at=window.opens_at + timedelta(days=2, hours=seed),
                            )
                        process_submission(sub.pk)  # "already-done" when the eager task ran on commit
                        sub.refresh_from_db()
                        made += 1
                        self.stdout.write(
                            f"  {sub.submission_id} {period} {window_type}: {sub.get_status_display()}"
                        )
            outcome = close_due_windows()
        self.stdout.write(
            f"Demo history: {made} submission(s) for {', '.join(w.code for w in windows)}; "
            f"close task: {len(outcome)} step(s)."
        )
