"""``manage.py generate_idb``: write a deterministic synthetic IAPT v1.5 IDB (CSV ZIP, XLSX or Access .mdb).

Thin wrapper around :mod:`validation.synth`; imports no models.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from validation.synth import (
    SUPPORTED_RULES,
    generate_idb_with_manifest,
    write_csvzip,
    write_xlsx,
)
from validation.synth.inject import InjectionError
from validation.synth.writers import write_mdb


def _parse_inject(text: str | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        rule, _, count = part.partition(":")
        try:
            n = int(count) if count else 1
        except ValueError as exc:
            raise CommandError(f"bad --inject item {part!r}; use RULE_ID[:count]") from exc
        out[rule.strip()] = out.get(rule.strip(), 0) + n
    return out


class Command(BaseCommand):
    help = "Generate a synthetic IAPT v1.5 IDB file (csvzip or xlsx) for demos and tests."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="output file (.zip or .xlsx)")
        parser.add_argument("--org", required=True, help="provider ODS code (Header.ORGCODEPROVIDER)")
        parser.add_argument("--period", required=True, help="reporting period YYYY-MM")
        parser.add_argument("--persons", type=int, required=True, help="number of Person rows")
        parser.add_argument("--profile", choices=["P15STD", "P15LTC"], default="P15STD")
        parser.add_argument("--with-ea", action="store_true", help="include the EmploymentAdviser table")
        parser.add_argument(
            "--format", choices=["csvzip", "xlsx", "mdb"], default=None, help="default: from OUT's extension"
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--error-rate", type=float, default=0.0, help="fraction of data rows to corrupt")
        parser.add_argument(
            "--inject",
            default=None,
            help="comma-separated RULE_ID[:count] (RULE@COLUMN allowed for [each] rules)",
        )
        parser.add_argument("--commissioners", default=None, help="comma-separated commissioner codes to use")
        parser.add_argument("--manifest", default=None, help="also write the planted findings as CSV here")
        parser.add_argument(
            "--list-rules", action="store_true", help="print the injectable rule IDs and exit"
        )

    def handle(self, *args, **opts) -> None:
        if opts["list_rules"]:
            self.stdout.write(" ".join(SUPPORTED_RULES))
            return
        out = Path(opts["out"])
        fmt = opts["format"] or {".xlsx": "xlsx", ".mdb": "mdb"}.get(out.suffix.lower(), "csvzip")
        kwargs = {}
        if opts["commissioners"]:
            kwargs["commissioners"] = tuple(
                c.strip().upper() for c in opts["commissioners"].split(",") if c.strip()
            )
        t0 = time.perf_counter()
        try:
            tables, manifest = generate_idb_with_manifest(
                org=opts["org"],
                period=opts["period"],
                persons=opts["persons"],
                profile=opts["profile"],
                with_ea=opts["with_ea"],
                seed=opts["seed"],
                error_rate=opts["error_rate"],
                inject=_parse_inject(opts["inject"]),
                **kwargs,
            )
        except (ValueError, InjectionError) as exc:
            raise CommandError(str(exc)) from exc
        t1 = time.perf_counter()
        if fmt == "mdb":
            # values Access could not hold in the column's type (e.g. "1.5" in a Long Integer) become NULL
            nulled = write_mdb(tables, out, unrepresentable="null")
            for table, cols in nulled.items():
                self.stderr.write(f"warning: .mdb cannot hold these values, written as NULL: {table} {cols}")
        else:
            (write_xlsx if fmt == "xlsx" else write_csvzip)(tables, out)
        t2 = time.perf_counter()
        if opts["manifest"]:
            with open(opts["manifest"], "w", encoding="utf-8", newline="\n") as fh:
                fh.write("rule_id,table,row_number,column\n")
                for f in manifest:
                    fh.write(f"{f.rule_id},{f.table or ''},{f.row_number or ''},{f.column or ''}\n")
        counts = ", ".join(f"{name} {df.height}" for name, df in tables.items())
        self.stdout.write(
            f"Wrote {out} ({fmt}): {counts}; {len(manifest)} planted findings; "
            f"generated in {t1 - t0:.2f}s, written in {t2 - t1:.2f}s"
        )
