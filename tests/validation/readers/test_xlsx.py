"""XLSX workbooks (spec 4.4)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
import xlsxwriter

from validation.readers.xlsx import OLE_MAGIC

from .helpers import read, row_numbers, rows, rule_ids


def _workbook(path, sheets, *, date_1904=False, hidden=()):
    """sheets: name -> list of rows (cells: value or (value, "date"/"time"/"formula:<f>")). None = empty cell."""
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date_1904})
    dfmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    dtfmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    tfmt = wb.add_format({"num_format": "hh:mm:ss"})
    for name, data in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(data):
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                if isinstance(cell, tuple):
                    value, how = cell
                    if how.startswith("formula:"):
                        ws.write_formula(r, c, how[8:], None, value)
                    else:
                        fmt = {"date": dfmt, "datetime": dtfmt, "time": tfmt}[how]
                        ws.write_datetime(r, c, value, fmt)
                elif isinstance(cell, bool):
                    ws.write_boolean(r, c, cell)
                elif isinstance(cell, int | float):
                    ws.write_number(r, c, cell)
                else:
                    ws.write_string(r, c, cell)
        if name in hidden:
            ws.hide()
    wb.close()
    return path


def _sheet(res, name):
    (t,) = [t for t in res.tables if t.name == name]
    return t


def test_numbers_text_bool_formula_error(tmp_path):
    p = _workbook(
        tmp_path / "a.xlsx",
        {
            "Person": [
                ["LPTID", "DOB", "NHSNOSTATUS", "X"],
                [7.0, "2017-01-02", 1, True],
                [2.3, None, 1.5, False],
                [1e20, None, "1", (2, "formula:=1+1")],
                [1e-7, None, -1, ("#N/A", "formula:=NA()")],
                [" text ", None, 123, ("", 'formula:=""')],
            ]
        },
    )
    res = read(p)
    assert rule_ids(res) == []
    t = _sheet(res, "Person")
    assert t.source == "Person"
    assert t.headers == ["LPTID", "DOB", "NHSNOSTATUS", "X"]
    assert rows(t) == [
        ("7", "2017-01-02", "01", "TRUE"),
        ("2.3", None, "1.5", "FALSE"),
        ("100000000000000000000", None, "1", "2"),
        ("0.0000001", None, "-1", "#N/A"),
        (" text ", None, "123", None),
    ]
    assert row_numbers(t) == [1, 2, 3, 4, 5]


def test_dates_times_yearmonth_and_padding(tmp_path):
    p = _workbook(
        tmp_path / "a.xlsx",
        {
            "Appointment": [
                [
                    "APPTID",
                    "APPOINTMENT",
                    "APPOINTMENTTIME",
                    "ATTENDANCE",
                    "APPTYPE",
                    "CONTACTDURATION",
                    "AGORASCOREACC",
                ],
                [
                    "A1",
                    (datetime(2017, 3, 5, 13, 45, 30), "datetime"),
                    (time(9, 30, 29, 600000), "time"),
                    5,
                    1,
                    30,
                    2.5,
                ],
                ["A2", (date(2017, 3, 6), "date"), (time(23, 59, 59, 600000), "time"), 12, 100, 7.0, 3],
                [
                    "A3",
                    (datetime(2017, 3, 7, 23, 59, 59), "datetime"),
                    (datetime(2017, 1, 1, 8, 0, 0), "datetime"),
                    2.5,
                    -1,
                    1e3,
                    0.1,
                ],
                ["A4", "2017-03-08", "10:15", "5", "1", None, None],
            ],
            "Referral": [
                ["SERVICEID", "ONSETDATE", "REFRECDATE"],
                ["R1", (date(2016, 11, 20), "date"), (datetime(2017, 2, 1, 18, 0), "datetime")],
                ["R2", "2016-11", (date(2017, 2, 2), "date")],
                ["R3", 201611, None],
            ],
            "Other": [["APPTYPE", "D"], [1, (date(2017, 5, 1), "date")]],
        },
    )
    res = read(p)
    assert rule_ids(res) == []
    a = _sheet(res, "Appointment")
    assert rows(a) == [
        ("A1", "2017-03-05", "09:30:30", "5", "01", "30", "2.5"),
        ("A2", "2017-03-06", "23:59:59", "12", "100", "7", "3"),
        ("A3", "2017-03-07", "08:00:00", "2.5", "-1", "1000", "0.1"),
        ("A4", "2017-03-08", "10:15", "5", "1", None, None),
    ]
    r = _sheet(res, "Referral")
    assert rows(r) == [
        ("R1", "2016-11", "2017-02-01"),
        ("R2", "2016-11", "2017-02-02"),
        ("R3", "201611", None),
    ]
    # Not a table of the data set: no hints, so no padding; dates as YYYY-MM-DD.
    assert rows(_sheet(res, "Other")) == [("1", "2017-05-01")]


def test_padding_only_in_digit_codelists(tmp_path):
    p = _workbook(
        tmp_path / "a.xlsx",
        {
            "Disability": [["LPTID", "DISABILITY"], [1, 1], ["x", 0]],
            "Person": [["NHSNOSTATUS"], [0], [7], [99]],
        },
    )
    res = read(p)
    assert rows(_sheet(res, "Disability")) == [("1", "1"), ("x", "0")]  # LPTID is text without a list
    assert rows(_sheet(res, "Person")) == [("00",), ("07",), ("99",)]


def test_1904_date_system(tmp_path):
    p = _workbook(
        tmp_path / "a.xlsx",
        {
            "Appointment": [
                ["APPOINTMENT", "APPOINTMENTTIME"],
                [(date(2017, 3, 5), "date"), (time(10, 0, 1), "time")],
            ]
        },
        date_1904=True,
    )
    res = read(p)
    assert rows(_sheet(res, "Appointment")) == [("2017-03-05", "10:00:01")]


def test_time_cell_in_date_column_is_epoch_date(tmp_path):
    p = _workbook(tmp_path / "a.xlsx", {"Person": [["DOB"], [(time(12, 0), "time")]]})
    assert rows(_sheet(read(p), "Person")) == [("1899-12-30",)]
    p = _workbook(tmp_path / "b.xlsx", {"Person": [["DOB"], [(time(12, 0), "time")]]}, date_1904=True)
    assert rows(_sheet(read(p), "Person")) == [("1904-01-01",)]


def test_hidden_sheet_blank_and_duplicate_headers_and_blank_rows(tmp_path):
    p = _workbook(
        tmp_path / "a.xlsx",
        {
            "Header": [["IDBVERSION", None, " START_DATE ", "IDBVERSION"], ["1.5.05", "x", None, "y"]],
            "Person": [["LPTID"], [None], [None], ["P3"]],
        },
        hidden=("Header",),
    )
    res = read(p)
    h = _sheet(res, "Header")
    assert h.headers == ["IDBVERSION", "", "START_DATE", "IDBVERSION"]
    assert rows(h) == [("1.5.05", "x", None, "y")]
    person = _sheet(res, "Person")
    assert row_numbers(person) == [1, 2, 3]
    assert rows(person)[2] == ("P3",)


def test_data_starting_late_keeps_sheet_row_numbers(tmp_path):
    p = _workbook(
        tmp_path / "a.xlsx",
        {"Person": [["LPTID", "DOB"], [None, None], [None, None], [None, None], ["P4", "x"]]},
    )
    t = _sheet(read(p), "Person")
    assert dict(zip(row_numbers(t), rows(t), strict=True))[4] == ("P4", "x")


def test_empty_row_one_means_no_header(tmp_path):
    p = _workbook(tmp_path / "a.xlsx", {"Person": [[None, None], ["P1", "x"]], "Empty": []})
    res = read(p)
    assert _sheet(res, "Person").headers == []
    assert _sheet(res, "Empty").headers == []
    assert _sheet(res, "Empty").frame.height == 0


def test_sheet_names_as_given_all_returned(tmp_path):
    p = _workbook(tmp_path / "a.xlsx", {"person": [["LPTID"], ["P1"]], "Notes": [["x"], ["y"]]})
    res = read(p)
    assert [t.name for t in res.tables] == ["person", "Notes"]


def test_header_only_sheet(tmp_path):
    p = _workbook(tmp_path / "a.xlsx", {"Person": [["LPTID", "DOB"]]})
    t = _sheet(read(p), "Person")
    assert t.headers == ["LPTID", "DOB"]
    assert t.frame.height == 0


def test_password_protected_xlsx_is_file005(tmp_path):
    p = tmp_path / "a.xlsx"
    p.write_bytes(OLE_MAGIC + b"\0" * 4000)
    assert rule_ids(read(p)) == ["FILE005"]


@pytest.mark.parametrize("payload", [b"PK\x03\x04broken", b"plain text, not a workbook"])
def test_corrupt_xlsx_is_file005(tmp_path, payload):
    p = tmp_path / "a.xlsx"
    p.write_bytes(payload)
    assert rule_ids(read(p)) == ["FILE005"]


def test_zip_of_csv_named_xlsx_is_file005(tmp_path):
    from .helpers import make_zip

    p = make_zip(tmp_path / "a.xlsx", {"Person.csv": b"A\n1\n"})
    assert rule_ids(read(p)) == ["FILE005"]


def test_xlsx_written_by_openpyxl(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Appointment"
    ws.append(["APPTID", "APPOINTMENT", "APPTYPE"])
    ws.append(["A1", datetime(2018, 1, 31), 3])
    hidden = wb.create_sheet("Person")
    hidden.sheet_state = "hidden"
    hidden.append(["LPTID"])
    hidden.append(["P1"])
    p = tmp_path / "o.xlsx"
    wb.save(p)
    res = read(p)
    assert rows(_sheet(res, "Appointment")) == [("A1", "2018-01-31", "03")]
    assert rows(_sheet(res, "Person")) == [("P1",)]
