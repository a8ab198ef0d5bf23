"""``manage.py idb_template --profile P15STD|P15LTC [--with-ea] OUT.mdb``: the blank IDB as an Access file.

The file is a Jet 4 (Access 2000-2003) database written by :mod:`validation.jet4`: every table of the
profile, columns in spec order with the spec 4.2 Access types, no rows. Imports no models.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from validation.jet4.idb import idb_table_defs, write_idb_template


class Command(BaseCommand):
    help = "Write the blank IDB of a profile as an Access .mdb (Jet 4)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="output file (.mdb)")
        parser.add_argument("--profile", choices=["P15STD", "P15LTC"], required=True)
        parser.add_argument("--with-ea", action="store_true", help="include the EmploymentAdviser table")

    def handle(self, *args, **opts) -> None:
        out = Path(opts["out"])
        write_idb_template(out, opts["profile"], with_ea=opts["with_ea"])
        tables = idb_table_defs(opts["profile"], with_ea=opts["with_ea"])
        self.stdout.write(
            f"Wrote {out}: {len(tables)} empty tables ({', '.join(t.name for t in tables)}), "
            f"{out.stat().st_size} bytes"
        )
