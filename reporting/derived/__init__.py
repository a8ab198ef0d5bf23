"""Spec section 9 derived items and the 10.5 commissioner view, as pure polars (no Django).

Public API::

    derive(tables, *, period, provider, key) -> dict[str, pl.DataFrame]
    derive_iter(tables, *, period, provider, key) -> Iterator[(table, frame)]; derived_table_order(tables)
    commissioner_view(derived_tables, *, provider, key=None) -> dict[str, pl.DataFrame]
    commissioner_rows(derived_tables, *, code) -> dict[str, pl.DataFrame]
    commissioner_extract(derived_tables, *, code, provider, key=None) -> dict[str, pl.DataFrame]
    pseudonym(message, key) -> str; appt_refs(frame, *, provider, key) -> pl.Series
    DERIVED_COLUMNS, THRESHOLDS
"""

from .commissioner import appt_refs, commissioner_extract, commissioner_rows, commissioner_view
from .constants import DERIVED_COLUMNS, THRESHOLDS, Threshold
from .items import derive, derive_iter, derived_table_order, period_bounds
from .pseudonyms import hmac_series, pseudonym

__all__ = [
    "DERIVED_COLUMNS",
    "THRESHOLDS",
    "Threshold",
    "appt_refs",
    "commissioner_extract",
    "commissioner_rows",
    "commissioner_view",
    "derive",
    "derive_iter",
    "derived_table_order",
    "hmac_series",
    "period_bounds",
    "pseudonym",
]
