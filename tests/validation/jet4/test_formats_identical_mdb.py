"""The same generated content gives identical findings, counts and accepted rows as CSV ZIP, XLSX and .mdb.

The content is the generator's, with planted errors, less the values that an Access column cannot hold
(an injected "1.5" in a Long Integer column, an invalid date in a Date/Time column: Access refuses them at
entry), which are nulled in all three files alike. Dates before 1899-12-30, which mdbtools misprints, are
among those (the generator's birth dates start in 1920).
"""

from __future__ import annotations

import shutil

import pytest
from polars.testing import assert_frame_equal

from tests.validation.test_formats_identical import context
from validation.api import validate_file
from validation.synth import generate_idb, write_csvzip, write_xlsx
from validation.synth.writers import mdb_compatible, write_mdb

pytestmark = pytest.mark.skipif(shutil.which("mdb-export") is None, reason="mdbtools not installed")


@pytest.mark.parametrize(("profile", "seed"), [("P15STD", 11), ("P15LTC", 12)])
def test_csv_zip_xlsx_and_mdb_give_identical_results(tmp_path, profile, seed):  # type: ignore[no-untyped-def]
    tables = mdb_compatible(
        generate_idb(
            org="TSTP1",
            period="2017-11",
            persons=400,
            profile=profile,
            with_ea=True,
            seed=seed,
            error_rate=0.03,
        )
    )
    write_csvzip(tables, tmp_path / "idb.zip")
    write_xlsx(tables, tmp_path / "idb.xlsx")
    assert write_mdb(tables, tmp_path / "idb.mdb") == {}
    results = [validate_file(tmp_path / name, ctx=context()) for name in ("idb.zip", "idb.xlsx", "idb.mdb")]
    first = results[0]
    assert first.findings.height > 50, "the file should carry many findings"
    for other in results[1:]:
        assert first.outcome == other.outcome
        assert first.counts == other.counts
        assert first.findings_by_rule == other.findings_by_rule
        assert_frame_equal(first.findings, other.findings)
        assert first.accepted.keys() == other.accepted.keys()
        for table in first.accepted:
            assert_frame_equal(first.accepted[table], other.accepted[table])


def test_unrepresentable_values(tmp_path):  # type: ignore[no-untyped-def]
    from validation.jet4 import Jet4Error
    from validation.readers.access import table_schema

    tables = generate_idb(org="TSTP1", period="2017-11", persons=30, profile="P15STD", seed=3)
    app = tables["Appointment"]
    tables["Appointment"] = app.with_columns(
        app["PHQ9_SCORE"].scatter(0, "1.5"), app["APPOINTMENTTIME"].scatter(0, "25:00")
    )
    with pytest.raises(Jet4Error, match="PHQ9_SCORE"):
        write_mdb(tables, tmp_path / "e.mdb")
    assert write_mdb(tables, tmp_path / "n.mdb", unrepresentable="null") == {"Appointment": {"PHQ9_SCORE": 1}}
    assert write_mdb(tables, tmp_path / "t.mdb", unrepresentable="text") == {"Appointment": {"PHQ9_SCORE": 1}}
    types = dict(table_schema(tmp_path / "t.mdb", "Appointment"))
    assert types["PHQ9_SCORE"] == "Text"  # the portal answers FILE014
    assert types["APPOINTMENTTIME"] == "Text"  # a time column falls back to Text (allowed by 4.2)
    assert types["APPOINTMENT"] == "DateTime"
    assert dict(table_schema(tmp_path / "n.mdb", "Appointment"))["PHQ9_SCORE"] == "Long Integer"
