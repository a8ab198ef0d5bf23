"""Calendar arithmetic for the submission timetable (spec 8.1). No database access.

The default generation rule: a window opens on the first working day of its month and closes on the
18th working day (``closes_at`` is 00:00 Europe/London on the day after). Working days are
Monday-Friday except bank holidays in England and Wales. The October 2017 window keeps the one known
real date, 2017-10-06.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

# Bank holidays in England and Wales (GOV.UK). Administrators extend this list as years are announced.
BANK_HOLIDAYS_ENGLAND_WALES: frozenset[date] = frozenset(
    date.fromisoformat(d)
    for d in (  # noqa: SIM905 - one line per year reads better than a 100-item list
        "2016-01-01 2016-03-25 2016-03-28 2016-05-02 2016-05-30 2016-08-29 2016-12-26 2016-12-27 "
        "2017-01-02 2017-04-14 2017-04-17 2017-05-01 2017-05-29 2017-08-28 2017-12-25 2017-12-26 "
        "2018-01-01 2018-03-30 2018-04-02 2018-05-07 2018-05-28 2018-08-27 2018-12-25 2018-12-26 "
        "2019-01-01 2019-04-19 2019-04-22 2019-05-06 2019-05-27 2019-08-26 2019-12-25 2019-12-26 "
        "2020-01-01 2020-04-10 2020-04-13 2020-05-08 2020-05-25 2020-08-31 2020-12-25 2020-12-28 "
        "2021-01-01 2021-04-02 2021-04-05 2021-05-03 2021-05-31 2021-08-30 2021-12-27 2021-12-28 "
        "2022-01-03 2022-04-15 2022-04-18 2022-05-02 2022-06-02 2022-06-03 2022-08-29 2022-09-19 "
        "2022-12-26 2022-12-27 "
        "2023-01-02 2023-04-07 2023-04-10 2023-05-01 2023-05-08 2023-05-29 2023-08-28 2023-12-25 "
        "2023-12-26 "
        "2024-01-01 2024-03-29 2024-04-01 2024-05-06 2024-05-27 2024-08-26 2024-12-25 2024-12-26 "
        "2025-01-01 2025-04-18 2025-04-21 2025-05-05 2025-05-26 2025-08-25 2025-12-25 2025-12-26 "
        "2026-01-01 2026-04-03 2026-04-06 2026-05-04 2026-05-25 2026-08-31 2026-12-25 2026-12-28 "
        "2027-01-01 2027-03-26 2027-03-29 2027-05-03 2027-05-31 2027-08-30 2027-12-27 2027-12-28"
    ).split()
)

# Known real opening dates that override the default rule (spec 8.1).
FIXED_OPEN_DATES: dict[str, date] = {"2017-10": date(2017, 10, 6)}


@dataclass(frozen=True)
class WindowDates:
    month: str  # YYYY-MM of the window
    opens_on: date
    closes_on: date  # last day on which uploads are accepted (deadline 23:59:59)
    primary_rp: str
    refresh_rp: str

    @property
    def opens_at(self) -> datetime:
        return local_midnight(self.opens_on)

    @property
    def closes_at(self) -> datetime:
        return local_midnight(self.closes_on + timedelta(days=1))

    @property
    def code(self) -> str:
        return "W" + self.month.replace("-", "")


def local_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=LONDON)


def parse_period(period: str) -> tuple[int, int]:
    """'2017-11' -> (2017, 11); ValueError otherwise."""
    if len(period) != 7 or period[4] != "-":
        raise ValueError(f"Reporting period must be YYYY-MM, not {period!r}.")
    year, month = int(period[:4]), int(period[5:])
    if not 1 <= month <= 12:
        raise ValueError(f"Reporting period must be YYYY-MM, not {period!r}.")
    return year, month


def add_months(period: str, n: int) -> str:
    year, month = parse_period(period)
    idx = year * 12 + (month - 1) + n
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def period_bounds(period: str) -> tuple[date, date]:
    year, month = parse_period(period)
    start = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, nxt - timedelta(days=1)


def is_working_day(d: date, holidays: frozenset[date] = BANK_HOLIDAYS_ENGLAND_WALES) -> bool:
    return d.weekday() < 5 and d not in holidays


def nth_working_day(month: str, n: int, holidays: frozenset[date] = BANK_HOLIDAYS_ENGLAND_WALES) -> date:
    d, _ = period_bounds(month)
    count = 0
    while True:
        if is_working_day(d, holidays):
            count += 1
            if count == n:
                return d
        d += timedelta(days=1)


def default_window(month: str, holidays: frozenset[date] = BANK_HOLIDAYS_ENGLAND_WALES) -> WindowDates:
    """The window of calendar month ``month`` under the default rule of spec 8.1."""
    opens = FIXED_OPEN_DATES.get(month) or nth_working_day(month, 1, holidays)
    return WindowDates(
        month=month,
        opens_on=opens,
        closes_on=nth_working_day(month, 18, holidays),
        primary_rp=add_months(month, -1),
        refresh_rp=add_months(month, -2),
    )


def default_window_for(period: str, window_type: str) -> WindowDates:
    """The default-rule window that offers ``period`` as ``window_type`` (Primary or Refresh)."""
    offset = 1 if window_type == "Primary" else 2
    return default_window(add_months(period, offset))
