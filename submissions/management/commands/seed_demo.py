"""Demo organisations, users, windows and sample IDB files for the embedded default.

Idempotent: running it again keeps existing rows and re-prints the logins.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import Certificate, access_request_create
from portal.demo import demo_totp_base32, demo_totp_key
from portal.models import AccessRequest, Organisation, OrganisationType, Role, User
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
    ("iglead1", "TSTP1", Role.PROVIDER_VIEWER, "Ida Governance"),  # TSTP1's IG lead
    ("newuser1", "TSTP2", Role.PROVIDER_VIEWER, "Nia Newcomer"),  # sets up two-factor at first sign-in
]
IG_LEADS = {"iglead1"}
MUST_ENROL = {"newuser1"}
# Every organisation but the CSU has its Caldicott Guardian registered, so 0DE's request shows the rule.
CALDICOTT = {"TSTP1", "TSTP2", "00C", "01A", "X26"}
# Pending access requests: (user name, organisation, role, name).
REQUESTS = [
    ("applicant1", "TSTP1", Role.PROVIDER_SUBMITTER, "Abe Applicant"),
    ("applicant2", "0DE", Role.COMMISSIONER_VIEWER, "Ana Analyst"),
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
        self._access_requests(orgs)
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
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}). Then a two-factor code: add the")
        self.stdout.write("user's key to an authenticator app, or print the current code with")
        self.stdout.write("  .venv/bin/python manage.py demo_totp USERNAME")
        for username, org, role, _ in USERS:
            label = Role(role).label + (" + IG lead" if username in IG_LEADS else "")
            second = (
                "sets up two-factor sign-in at first sign-in"
                if username in MUST_ENROL
                else f"key {demo_totp_base32(username)}"
            )
            self.stdout.write(f"  {username:<14} {org:<6} {label:<32} {second}")
        self.stdout.write("Pending access requests (iglead1 decides TSTP1's, admin any):")
        for username, org, role, _ in REQUESTS:
            note = "" if org in CALDICOTT else " (cannot be approved: no Caldicott Guardian registered)"
            self.stdout.write(f"  {username:<14} {org:<6} {Role(role).label}{note}")
        call_command("seed_demo_history", stdout=self.stdout)  # closed windows: extracts and statistics (#5)

    def _organisations(self) -> dict[str, Organisation]:
        orgs = {}
        for code, name, type_, ltc, ea in ORGS:
            org, _ = Organisation.objects.update_or_create(
                code=code, defaults={"name": name, "type": type_, "ltc_mus_pilot": ltc, "ea_pilot": ea}
            )
            if code in CALDICOTT and not org.caldicott_guardian_registered:
                org.caldicott_guardian_name = f"Dr {name.split()[-1]} Guardian"
                org.caldicott_guardian_email = f"caldicott.{code.lower()}@example.nhs.uk"
                org.caldicott_guardian_registered_on = timezone.localdate() - timedelta(days=90)
                org.save()
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
                user.is_ig_lead = username in IG_LEADS
                user.save()
            if (
                username not in MUST_ENROL
                and not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            ):
                TOTPDevice.objects.create(
                    user=user, name="Demo authenticator", key=demo_totp_key(username), confirmed=True
                )

    def _access_requests(self, orgs: dict[str, Organisation]) -> None:
        for username, org, role, full_name in REQUESTS:
            if AccessRequest.objects.filter(user__username=username).exists():
                continue
            first, last = full_name.split(" ", 1)
            access_request_create(
                username=username,
                email=f"{username}@example.nhs.uk",
                first_name=first,
                last_name=last,
                password=DEMO_PASSWORD,
                organisation=orgs[org],
                role=role,
                certificate=Certificate(
                    job_title="Information analyst",
                    telephone="0113 496 0000",
                    line_manager_name="Lee Manager",
                    line_manager_email="lee.manager@example.nhs.uk",
                    ig_training_completed_on=timezone.localdate() - timedelta(days=60),
                    purpose="Monthly IAPT submissions and data quality checks for the service.",
                    declares_confidentiality=True,
                    declares_purpose_only=True,
                    declares_no_sharing=True,
                    declares_report_breaches=True,
                ),
            )

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
        from validation.synth.writers import write_mdb

        out_dir.mkdir(parents=True, exist_ok=True)
        files = {
            "csvzip": out_dir / f"TSTP1_{period}_sample.zip",
            "xlsx": out_dir / f"TSTP1_{period}_sample.xlsx",
            "mdb": out_dir / f"TSTP1_{period}_sample.mdb",
            "errors": out_dir / f"TSTP1_{period}_with_errors.zip",
        }
        if not all(p.exists() for p in files.values()):
            clean = generate_idb(
                org="TSTP1", period=period, persons=persons, seed=1, commissioners=COMMISSIONERS
            )
            write_csvzip(clean, files["csvzip"])
            write_xlsx(clean, files["xlsx"])
            write_mdb(clean, files["mdb"])
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
