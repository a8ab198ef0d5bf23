"""Spec 11.1, 11.2 and 11.3 worked examples, checked to the letter."""

from __future__ import annotations

import polars as pl
import pytest

from reporting.derived import DERIVED_COLUMNS, commissioner_extract, derive, pseudonym
from validation.engine.prepare import nhs_number_fail

from .examples import EXPECTED, KEY, PERIOD, PROVIDER, tables


@pytest.fixture(scope="module")
def derived() -> dict[str, pl.DataFrame]:
    return derive(tables(), period=PERIOD, provider=PROVIDER, key=KEY)


# ------------------------------------------------------------------------------------------------ 11.1
NHS_EXAMPLES = [
    # NHSNO, weighted sum, sum mod 11, 11 - remainder, digit 10, passes
    ("9434765919", 299, 2, 9, 9, True),
    ("4010232137", 92, 4, 7, 7, True),
    ("9434765918", 299, 2, 9, 8, False),
    ("1234567890", 210, 1, 10, 0, False),
    ("4000000004", 40, 7, 4, 4, False),
]


@pytest.mark.parametrize(("nhsno", "total", "rem", "check", "digit10", "valid"), NHS_EXAMPLES)
def test_11_1_nhs_numbers(nhsno: str, total: int, rem: int, check: int, digit10: int, valid: bool) -> None:
    digits = [int(c) for c in nhsno]
    assert sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) == total
    assert total % 11 == rem and 11 - rem == check and digits[9] == digit10
    failed = pl.select(nhs_number_fail(pl.lit(nhsno))).item()
    assert failed is (not valid)


# ------------------------------------------------------------------------------------------------ 11.2
PERSON_IDS = {
    "P0001": ("N|9434765919", "3bb2e11b224e33ac4cb3b63de919e5b785a123623d695770304e06e93f1aef50"),
    "P0002": ("N|4010232137", "658f9539617b0e98166e49c7d41f3d7bc7d86d8586920d6ca7b293ab498783bf"),
    "P0003": (
        "L|TSTP1|P0003|1992-11-30|1|LS14AP",
        "a2a2a6acfabbecba8ca1b9cb58f1475a02fefad17217addd341d7f8799550109",
    ),
    "P0004": ("N|4505577104", "40b6924173d9f1931c2d4faf4da69ed9cc93e50737b5b909a41469ef77e97571"),
    "P0005": ("N|4857773457", "3e0cd12a40e15786f4b1683d2adeb57a1b62af1dca72a90b28c3805102ceebe1"),
}
PATHWAY_A = "cdb14dcc28cdd35c7e495fc21ca5c45e8cc9a9faa93336befb3d36a42c0b2507"


def test_11_2_key_is_the_spec_key() -> None:
    assert KEY == b"example-key-do-not-use" and len(KEY) == 22


@pytest.mark.parametrize("lptid", sorted(PERSON_IDS))
def test_11_2_person_id_message_and_digest(lptid: str, derived: dict[str, pl.DataFrame]) -> None:
    message, expected = PERSON_IDS[lptid]
    assert pseudonym(message, KEY) == expected
    row = derived["Person"].filter(pl.col("LPTID") == lptid)
    assert row.get_column("PERSON_ID").item() == expected


def test_11_2_pathway_id_of_example_a(derived: dict[str, pl.DataFrame]) -> None:
    message = f"P|TSTP1|R0001|{PERSON_IDS['P0001'][1]}"
    assert pseudonym(message, KEY) == PATHWAY_A
    row = derived["Referral"].filter(pl.col("SERVICEID") == "R0001")
    assert row.get_column("PATHWAY_ID").item() == PATHWAY_A


def test_11_2_pathway_ids_follow_the_person_ids(derived: dict[str, pl.DataFrame]) -> None:
    ref = derived["Referral"]
    for sid, lptid, got in ref.select("SERVICEID", "LPTID", "PATHWAY_ID").iter_rows():
        assert got == pseudonym(f"P|TSTP1|{sid}|{PERSON_IDS[lptid][1]}", KEY)


# ------------------------------------------------------------------------------------------------ 11.3
ITEMS = list(next(iter(EXPECTED.values())))


def test_11_3_table_covers_every_9_5_to_9_8_item() -> None:
    assert set(ITEMS) == set(DERIVED_COLUMNS["Referral"]) - {"PATHWAY_ID"}


@pytest.mark.parametrize("item", ITEMS)
def test_11_3_derived_value(item: str, derived: dict[str, pl.DataFrame]) -> None:
    ref = derived["Referral"]
    got = dict(ref.select("SERVICEID", item).iter_rows())
    want = {sid: EXPECTED[sid][item] for sid in got}
    assert got == want


def test_11_3_person_items(derived: dict[str, pl.DataFrame]) -> None:
    got = derived["Person"].select("LPTID", *DERIVED_COLUMNS["Person"][1:]).rows()
    assert got == [
        ("P0001", "32", "32", "1985", "LS1"),
        ("P0002", "47", "47", "1970", "M1"),
        ("P0003", "24", "25", "1992", "LS1"),
        ("P0004", "53", "53", "1964", "B1"),
        ("P0005", "17", "17", "1999", "S1"),
    ]


def test_11_3_appointment_items(derived: dict[str, pl.DataFrame]) -> None:
    a = derived["Appointment"]
    rows = {r[0]: r[1:] for r in a.select("APPTID", *DERIVED_COLUMNS["Appointment"]).iter_rows()}
    #                ATT  ASS  TRT  FUP  LOW  HIGH WSAS RANK
    assert rows["A0001"] == ("Y", "Y", "N", "N", "N", "N", None, None)
    assert rows["A0002"] == ("Y", "N", "Y", "N", "Y", "N", None, "1")
    assert rows["A0003"] == ("N", "N", "Y", "N", "N", "N", None, None)
    assert rows["A0005"] == ("Y", "N", "Y", "N", "Y", "N", None, "3")
    assert rows["B0004"] == ("N", "N", "Y", "N", "N", "N", None, None)
    assert rows["B0005"] == ("Y", "N", "Y", "N", "N", "Y", None, "3")
    assert rows["C0001"] == ("Y", "Y", "Y", "N", "N", "Y", None, "1")
    assert rows["C0004"] == ("Y", "N", "N", "Y", "N", "N", None, None)
    assert rows["D0003"] == ("N", "N", "Y", "N", "N", "N", None, None)
    assert rows["E0002"] == ("Y", "N", "Y", "N", "Y", "N", None, "1")


def test_11_3_commissioner_extract(derived: dict[str, pl.DataFrame]) -> None:
    c = commissioner_extract(derived, code="TSTC1", provider=PROVIDER, key=KEY)
    assert c["Person"].columns[:4] == ["ORGCODEPROVIDER", "PERSON_ID", "NHSNOSTATUS", "GENDER"]
    assert c["Referral"].columns[:4] == ["ORGCODEPROVIDER", "PATHWAY_ID", "PERSON_ID", "ORGCODECOMM"]
    ref_a = c["Referral"].row(0, named=True)
    assert ref_a["PATHWAY_ID"] == PATHWAY_A and ref_a["PERSON_ID"] == PERSON_IDS["P0001"][1]
    appt = c["Appointment"].row(0, named=True)
    assert appt["APPT_REF"] == pseudonym("A|TSTP1|A0001", KEY) and appt["PATHWAY_ID"] == PATHWAY_A
    assert c["WaitingTimePause"].row(0, named=True)["PAUSEID"] == "1"
    assert commissioner_extract(derived, code="XXXXX", provider=PROVIDER, key=KEY)["Referral"].height == 0
