"""Deterministic synthetic IAPT v1.5 IDB generator (demo and test data; never real patients).

Public API: :func:`generate_idb`, :func:`generate_idb_with_manifest`, :func:`write_csvzip`, :func:`write_xlsx`,
:data:`SUPPORTED_RULES`.
"""

from __future__ import annotations

import polars as pl

from .generator import DEFAULT_COMMISSIONERS, generate_clean
from .inject import SPRINKLE_RULES, SUPPORTED_RULES, Finding, inject_errors
from .nhs import is_valid_nhs_number
from .writers import write_csvzip, write_xlsx

__all__ = [
    "DEFAULT_COMMISSIONERS",
    "SPRINKLE_RULES",
    "SUPPORTED_RULES",
    "Finding",
    "generate_idb",
    "generate_idb_with_manifest",
    "is_valid_nhs_number",
    "write_csvzip",
    "write_xlsx",
]


def generate_idb_with_manifest(
    *,
    org: str,
    period: str,
    persons: int,
    profile: str = "P15STD",
    with_ea: bool = False,
    seed: int = 0,
    error_rate: float = 0.0,
    inject: dict[str, int] | None = None,
    commissioners: tuple[str, ...] = DEFAULT_COMMISSIONERS,
) -> tuple[dict[str, pl.DataFrame], list[Finding]]:
    """Generate the tables of one IDB and the list of findings deliberately planted in it.

    ``inject`` maps a rule ID (optionally ``RULE@COLUMN`` to pick the column of an ``[each]`` rule) to the
    number of occurrences to plant; ``error_rate`` plants about that fraction of data rows' worth of errors
    spread over :data:`SPRINKLE_RULES`. The manifest lists ``Finding(rule_id, table, row_number, column)``
    (row numbers 1-based as in spec 1; ``None`` for file-level findings without a row).
    """
    tables = generate_clean(
        org=org,
        period=period,
        persons=persons,
        profile=profile,
        with_ea=with_ea,
        seed=seed,
        commissioners=tuple(commissioners),
    )
    if not inject and not error_rate:
        return tables, []
    return inject_errors(
        tables, period=period, org=org, seed=seed, inject=inject or {}, error_rate=error_rate
    )


def generate_idb(
    *,
    org: str,
    period: str,
    persons: int,
    profile: str = "P15STD",
    with_ea: bool = False,
    seed: int = 0,
    error_rate: float = 0.0,
    inject: dict[str, int] | None = None,
    commissioners: tuple[str, ...] = DEFAULT_COMMISSIONERS,
) -> dict[str, pl.DataFrame]:
    """Generate one IDB as ``{table name: String DataFrame}`` with columns in spec 3.5 order."""
    tables, _ = generate_idb_with_manifest(
        org=org,
        period=period,
        persons=persons,
        profile=profile,
        with_ea=with_ea,
        seed=seed,
        error_rate=error_rate,
        inject=inject,
        commissioners=commissioners,
    )
    return tables
