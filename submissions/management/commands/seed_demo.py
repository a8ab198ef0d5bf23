"""Demo organisations, users, windows and sample IDB files for the embedded default.

Idempotent: running it again keeps existing rows and re-prints the logins.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from portal.models import Organisation, OrganisationType, Role, User
from submissions.models import Submission, Window
from submissions.services import submission_receive
from submissions.timetable import LONDON, add_months, default_window, local_midnight

ORGS = [
    ("TSTP1", "Demo Talking Therapies Service One", OrganisationType.PROVIDER, True, True),
    ("TSTP2", "Demo Talking Therapies Service Two", OrganisationType.PROVIDER, False, False),
    ("00C", "Demo Commissioner North", OrganisationType.COMMISSIONER, False, False),
    ("01A", "Demo Commissioner South", OrganisationType.COMMISSIONER, False, False),
    ("0DE", "Demo Commissioning Support Unit", OrganisationType.CSU, False, False),
    ("X26", "National Team", OrganisationType.ADMIN, False, False),
]
USERS = [
    ("submitter1", "TSTP1", Role.PROVIDER_SUBMITTER, "Sam Submitter"),
    ("viewer1", "TSTP1", Role.PROVIDER_VIEWER, "Val Viewer"),
    ("submitter2", "TSTP2", Role.PROVIDER_SUBMITTER, "Sue Second"),
    ("commissioner1", "00C", Role.COMMISSIONER_VIEWER, "Cai Commissioner"),
    ("commissioner2", "01A", Role.COMMISSIONER_VIEWER, "Chris Commissioner"),
    ("csu1", "0DE", Role.COMMISSIONER_VIEWER, "Cal Support"),
    ("admin", "X26", Role.ADMIN, "Ada Admin"),
]
DEMO_PASSWORD = "demo-password-2026"
COMMISSIONERS = ("00C", "01A")


class Command(BaseCommand):
    help = "Load demo organisations, users, an open window and sample IDB files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--files-dir", default=str(settings.VAR_DIR / "demo-files"))
        parser.add_argument("--persons", type=int, default=300)
        parser.add_argument("--no-upload", action="store_true", help="Do not submit a sample file")

    def handle(self, *args: Any, **opts: Any) -> None:
        orgs = self._organisations()
        self._users(orgs)
        window = self._windows()
        files = self._sample_files(Path(opts["files_dir"]), window.primary_rp, opts["persons"])
        if not opts["no_upload"] and not Submission.objects.filter(organisation=orgs["TSTP1"]).exists():
            sample = files["csvzip"]
            with transaction.atomic():
                sub = submission_receive(
                    user=User.objects.get(username="submitter1"),
                    upload=SimpleUploadedFile(sample.name, sample.read_bytes()),
                    period=window.primary_rp,
                    window_type="Primary",
                )
            self.stdout.write(
                f"Submitted {sample.name} as {sub.submission_id} (the worker will validate it)."
            )
        self.stdout.write("")
        self.stdout.write(
            f"Open window {window.code}: Primary {window.primary_rp}, Refresh {window.refresh_rp}"
        )
        self.stdout.write("Sample files to upload:")
        for path in files.values():
            self.stdout.write(f"  {path}")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, org, role, _ in USERS:
            self.stdout.write(f"  {username:<14} {org:<6} {Role(role).label}")

    def _organisations(self) -> dict[str, Organisation]:
        orgs = {}
        for code, name, type_, ltc, ea in ORGS:
            org, _ = Organisation.objects.update_or_create(
                code=code, defaults={"name": name, "type": type_, "ltc_mus_pilot": ltc, "ea_pilot": ea}
            )
            orgs[code] = org
        orgs["0DE"].acts_for.set([orgs["00C"], orgs["01A"]])
        return orgs

    def _users(self, orgs: dict[str, Organisation]) -> None:
        for username, org, role, full_name in USERS:
            first, last = full_name.split(" ", 1)
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"organisation": orgs[org], "role": role, "first_name": first, "last_name": last},
            )
            if created:
                user.email = f"{username}@example.nhs.uk"
                user.set_password(DEMO_PASSWORD)
                if role == Role.ADMIN:
                    user.is_staff = True
                    user.is_superuser = True
                user.save()

    def _windows(self) -> Window:
        """Past windows by the default rule, and this month's window kept open for at least two weeks."""
        today = timezone.now().astimezone(LONDON).date()
        month = f"{today:%Y-%m}"
        for offset in range(-6, 0):
            d = default_window(add_months(month, offset))
            Window.objects.get_or_create(
                code=d.code,
                defaults={
                    "opens_at": d.opens_at,
                    "closes_at": d.closes_at,
                    "primary_rp": d.primary_rp,
                    "refresh_rp": d.refresh_rp,
                },
            )
        d = default_window(month)
        closes_on = max(d.closes_on, today + timedelta(days=14))
        window, _ = Window.objects.get_or_create(
            code=d.code,
            defaults={
                "opens_at": local_midnight(min(d.opens_on, today)),
                "closes_at": local_midnight(closes_on + timedelta(days=1)),
                "primary_rp": d.primary_rp,
                "refresh_rp": d.refresh_rp,
            },
        )
        return window

    def _sample_files(self, out_dir: Path, period: str, persons: int) -> dict[str, Path]:
        from validation.synth import generate_idb, write_csvzip, write_xlsx

        out_dir.mkdir(parents=True, exist_ok=True)
        files = {
            "csvzip": out_dir / f"TSTP1_{period}_sample.zip",
            "xlsx": out_dir / f"TSTP1_{period}_sample.xlsx",
            "errors": out_dir / f"TSTP1_{period}_with_errors.zip",
        }
        if not all(p.exists() for p in files.values()):
            clean = generate_idb(
                org="TSTP1", period=period, persons=persons, seed=1, commissioners=COMMISSIONERS
            )
            write_csvzip(clean, files["csvzip"])
            write_xlsx(clean, files["xlsx"])
            noisy = generate_idb(
                org="TSTP1",
                period=period,
                persons=persons,
                seed=2,
                error_rate=0.02,
                commissioners=COMMISSIONERS,
            )
            write_csvzip(noisy, files["errors"])
        return files
