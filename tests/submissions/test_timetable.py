from datetime import date, datetime, timedelta

import pytest

from submissions.timetable import LONDON, add_months, default_window, default_window_for, period_bounds

# Spec 8.3: window, opens, closes (deadline day), primary, refresh.
SPEC_WINDOWS = """
W201705 2017-05-02 2017-05-25 2017-04 2017-03
W201706 2017-06-01 2017-06-26 2017-05 2017-04
W201707 2017-07-03 2017-07-26 2017-06 2017-05
W201708 2017-08-01 2017-08-24 2017-07 2017-06
W201709 2017-09-01 2017-09-26 2017-08 2017-07
W201710 2017-10-06 2017-10-25 2017-09 2017-08
W201711 2017-11-01 2017-11-24 2017-10 2017-09
W201712 2017-12-01 2017-12-28 2017-11 2017-10
W201801 2018-01-02 2018-01-25 2017-12 2017-11
W201802 2018-02-01 2018-02-26 2018-01 2017-12
W201803 2018-03-01 2018-03-26 2018-02 2018-01
W201804 2018-04-03 2018-04-26 2018-03 2018-02
W201805 2018-05-01 2018-05-25 2018-04 2018-03
W201806 2018-06-01 2018-06-26 2018-05 2018-04
W201807 2018-07-02 2018-07-25 2018-06 2018-05
W201808 2018-08-01 2018-08-24 2018-07 2018-06
W201809 2018-09-03 2018-09-26 2018-08 2018-07
W201810 2018-10-01 2018-10-24 2018-09 2018-08
W201811 2018-11-01 2018-11-26 2018-10 2018-09
W201812 2018-12-03 2018-12-28 2018-11 2018-10
W201901 2019-01-02 2019-01-25 2018-12 2018-11
W201902 2019-02-01 2019-02-26 2019-01 2018-12
W201903 2019-03-01 2019-03-26 2019-02 2019-01
W201904 2019-04-01 2019-04-26 2019-03 2019-02
W201905 2019-05-01 2019-05-28 2019-04 2019-03
"""


@pytest.mark.parametrize("line", SPEC_WINDOWS.strip().splitlines(), ids=lambda s: s.split()[0])
def test_default_rule_reproduces_the_spec_timetable(line: str) -> None:
    code, opens, closes, primary, refresh = line.split()
    month = f"{code[1:5]}-{code[5:]}"
    w = default_window(month)
    assert w.code == code
    assert w.opens_on == date.fromisoformat(opens)
    assert w.closes_on == date.fromisoformat(closes)
    assert (w.primary_rp, w.refresh_rp) == (primary, refresh)


def test_closes_at_is_midnight_after_the_deadline_day_in_london_time() -> None:
    w = default_window("2017-05")  # BST in force
    assert w.closes_at == datetime(2017, 5, 26, 0, 0, tzinfo=LONDON)
    assert w.closes_at.utcoffset() == timedelta(hours=1)
    assert default_window("2017-12").closes_at.utcoffset() == timedelta(0)


def test_window_for_a_period_and_type() -> None:
    assert default_window_for("2017-09", "Primary").code == "W201710"
    assert default_window_for("2017-08", "Refresh").code == "W201710"


def test_period_helpers() -> None:
    assert add_months("2017-12", 1) == "2018-01"
    assert add_months("2018-01", -2) == "2017-11"
    assert period_bounds("2016-02") == (date(2016, 2, 1), date(2016, 2, 29))
