"""Disability (DIS) table-specific rules.

Generic column rules (DIS010, DIS030, DIS120), the duplicate rule DIS130 and parent resolution (DIS100,
DIS110) come from ``records.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from validation.engine.registry import Check, TableView, rule
from validation.engine.sets import other_value_in_group


@rule("DIS140")
def dis140(t: TableView) -> Iterable[Check]:
    # "another row of the same LPTID has a different code": only valid codes count (6.2 item 4); the rows
    # compared are every Disability row read, whatever its own findings (6.2 item 2).
    yield t.check(
        "DISABILITY", t.code_in("DISABILITY", ("NN", "ZZ")) & other_value_in_group("LPTID", "DISABILITY")
    )
