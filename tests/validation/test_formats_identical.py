"""The same content gives the same findings, counts and accepted rows as a ZIP of CSVs and as XLSX."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from polars.testing import assert_frame_equal

from validation.api import validate_file
from validation.model import OrganisationRegister, RegisterEntry, UploadContext
from validation.synth import DEFAULT_COMMISSIONERS, generate_idb, write_csvzip, write_xlsx


def context() -> UploadContext:
    register = OrganisationRegister(
        {
            "TSTP1": RegisterEntry("TSTP1", "Provider", "PROVIDER", ltc_mus_pilot=True, ea_pilot=True),
            **{c: RegisterEntry(c, c, "COMMISSIONER") for c in DEFAULT_COMMISSIONERS},
        }
    )
    return UploadContext(
        org_code="TSTP1",
        period="2017-11",
        window_type="Primary",
        received_at=datetime(2017, 12, 6, 12, 0, tzinfo=UTC),
        window_opens_on=date(2017, 12, 1),
        register=register,
    )


@pytest.mark.parametrize(("profile", "seed"), [("P15STD", 11), ("P15LTC", 12)])
def test_csv_zip_and_xlsx_give_identical_results(tmp_path, profile, seed):  # type: ignore[no-untyped-def]
    tables = generate_idb(
        org="TSTP1", period="2017-11", persons=400, profile=profile, with_ea=True, seed=seed, error_rate=0.03
    )
    write_csvzip(tables, tmp_path / "idb.zip")
    write_xlsx(tables, tmp_path / "idb.xlsx")
    from_csv = validate_file(tmp_path / "idb.zip", ctx=context())
    from_xlsx = validate_file(tmp_path / "idb.xlsx", ctx=context())
    assert from_csv.findings.height > 50, "the file should carry many findings"
    assert from_csv.outcome == from_xlsx.outcome
    assert from_csv.counts == from_xlsx.counts
    assert from_csv.findings_by_rule == from_xlsx.findings_by_rule
    assert_frame_equal(from_csv.findings, from_xlsx.findings)
    assert from_csv.accepted.keys() == from_xlsx.accepted.keys()
    for table in from_csv.accepted:
        assert_frame_equal(from_csv.accepted[table], from_xlsx.accepted[table])
