"""Validate an IDB file without the web: ``manage.py validate_idb PATH --org ODS --period YYYY-MM``.

Exit status: 0 for a successful outcome, 1 for Rejected, 2 for a usage error. The web's gate rules
(FILE001/FILE002) are not applied.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from submissions.timetable import LONDON, default_window_for, parse_period
from validation.api import validate_file
from validation.model import OrganisationRegister, RegisterEntry, UploadContext

TRUE = {"true", "1", "yes", "y", "t"}


def _usage(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def read_register_csv(path: Path) -> OrganisationRegister:
    """CSV with columns code,name,type,ltc_mus_pilot,ea_pilot,acts_for (spec 6.6)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"code", "type"} - set(reader.fieldnames or [])
            if missing:
                raise _usage(f"--register {path}: missing column(s) {', '.join(sorted(missing))}")
            entries = {}
            for row in reader:
                code = (row.get("code") or "").strip().upper()
                if not code:
                    continue
                entries[code] = RegisterEntry(
                    code=code,
                    name=(row.get("name") or "").strip(),
                    type=(row.get("type") or "").strip().upper(),
                    ltc_mus_pilot=(row.get("ltc_mus_pilot") or "").strip().lower() in TRUE,
                    ea_pilot=(row.get("ea_pilot") or "").strip().lower() in TRUE,
                    acts_for=tuple((row.get("acts_for") or "").upper().split()),
                )
    except OSError as exc:
        raise _usage(f"--register {path}: {exc.strerror}") from exc
    return OrganisationRegister(entries=entries)


def portal_register_and_window(period: str, window_type: str) -> tuple[OrganisationRegister, Any]:
    """The portal's own register and timetable window, if the database is set up."""
    from submissions.selectors import organisation_register, window_for_pair

    try:
        return organisation_register(), window_for_pair(period=period, window_type=window_type)
    except DatabaseError:
        sys.stderr.write(
            "note: portal database not set up; using an empty register and the default timetable\n"
        )
        return OrganisationRegister(), None


class Command(BaseCommand):
    help = "Validate an IDB file (.mdb, .accdb, .zip, .xlsx) against the IAPT v1.5 rules without the web."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--org", required=True, help="ODS code of the uploading provider")
        parser.add_argument("--period", required=True, help="Reporting period YYYY-MM")
        parser.add_argument("--window-type", choices=["primary", "refresh"], default="primary")
        parser.add_argument("--register", help="Organisation register CSV (code,name,type,ltc_mus_pilot,...)")
        parser.add_argument("--received-at", help="ISO 8601 instant (default: now)")
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.called_from_command_line = True  # argparse errors exit with status 2
        return parser

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["path"])
        if not path.is_file():
            raise _usage(f"No such file: {path}")
        try:
            parse_period(opts["period"])
        except ValueError as exc:
            raise _usage(str(exc)) from exc
        org = opts["org"].strip().upper()
        if not org:
            raise _usage("--org must be an ODS code")
        window_type = opts["window_type"].capitalize()
        received_at = self._received_at(opts["received_at"])

        if opts["register"]:
            register = read_register_csv(Path(opts["register"]))
            window = None
        else:
            register, window = portal_register_and_window(opts["period"], window_type)
        opens_on = (
            window.opens_at.astimezone(LONDON).date()
            if window is not None
            else default_window_for(opts["period"], window_type).opens_on
        )
        ctx = UploadContext(
            org_code=org,
            period=opts["period"],
            window_type=window_type,
            received_at=received_at,
            window_opens_on=opens_on,
            register=register,
            file_name=path.name,
        )
        result = validate_file(
            path,
            ctx=ctx,
            file_name=path.name,
            max_upload_bytes=settings.MAX_UPLOAD_BYTES,
            max_unzipped_bytes=settings.MAX_UNZIPPED_BYTES,
        )
        counts = {t: c.as_dict() for t, c in (result.counts or {}).items()}
        if opts["json"]:
            payload = {
                "outcome": result.outcome.value,
                "counts": counts,
                "findings_by_rule": result.findings_by_rule,
            }
            self.stdout.write(json.dumps(payload))
        else:
            self._print_human(result, counts)
        if not result.outcome.successful:
            sys.exit(1)

    @staticmethod
    def _received_at(value: str | None) -> datetime:
        if not value:
            return timezone.now()
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise _usage(f"--received-at: not an ISO 8601 instant: {value}") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=LONDON)
        return parsed

    def _print_human(self, result: Any, counts: dict[str, dict[str, int]]) -> None:
        self.stdout.write(f"Outcome: {result.outcome.value}")
        if result.profile:
            self.stdout.write(f"Profile: {result.profile}")
        if counts:
            self.stdout.write(
                f"{'Table':<20}{'read':>10}{'accepted':>10}{'record':>10}{'group':>10}{'warn':>10}"
            )
            for table, c in counts.items():
                self.stdout.write(
                    f"{table:<20}{c['read']:>10}{c['accepted']:>10}{c['rejected_record']:>10}"
                    f"{c['rejected_group']:>10}{c['with_warnings']:>10}"
                )
        for rule_id, n in sorted(result.findings_by_rule.items()):
            self.stdout.write(f"  {rule_id}: {n}")
