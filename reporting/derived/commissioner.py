"""Spec 10.5 commissioner extract: column transformation and row selection over derived tables.

``commissioner_view`` is a column selection/renaming of the derived tables of :func:`derive`: identifiers
removed or replaced by the 9.3 pseudonyms in their place, ``ORGCODEPROVIDER`` first, ``ROW_NUMBER``
dropped, ``Header`` left out. ``PERSON_ID``/``PATHWAY_ID`` are looked up from the derived Person/Referral
rows; ``APPT_REF`` is not a 10.4 column, so it is taken from an ``APPT_REF`` column when the caller stored
one, otherwise computed from ``key`` (HMAC over the distinct APPTIDs of the rows in the view).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from validation.dataset import DATASET

from .constants import ROW_NUMBER
from .pseudonyms import appt_message, hmac_series

REMOVED: tuple[str, ...] = ("NHSNO", "DOB", "POSTCODE")
REPLACED: dict[str, str] = {"LPTID": "PERSON_ID", "SERVICEID": "PATHWAY_ID", "APPTID": "APPT_REF"}
EXCLUDED_TABLES: tuple[str, ...] = ("Header",)


def _empty_lookup(key_col: str, value_col: str) -> pl.DataFrame:
    return pl.DataFrame(schema={key_col: pl.String, value_col: pl.String})


def appt_refs(frame: pl.DataFrame, *, provider: str, key: bytes) -> pl.Series:
    """``APPT_REF`` (9.3) of every row of a frame with an ``APPTID`` column."""
    provider = provider.strip().upper()
    return hmac_series(frame.select(appt_message(provider)).to_series(), key).rename("APPT_REF")


def commissioner_view(
    derived_tables: Mapping[str, pl.DataFrame], *, provider: str, key: bytes | None = None
) -> dict[str, pl.DataFrame]:
    """10.5 column layout of every table except Header (rows unchanged, in the same order).

    ``key`` is needed only when a table has ``APPTID`` and no stored ``APPT_REF`` column.
    """
    provider = provider.strip().upper()
    person = derived_tables.get("Person")
    referral = derived_tables.get("Referral")
    person_ids = (
        person.select("LPTID", "PERSON_ID") if person is not None else _empty_lookup("LPTID", "PERSON_ID")
    )
    pathway_ids = (
        referral.select("SERVICEID", "PATHWAY_ID")
        if referral is not None
        else _empty_lookup("SERVICEID", "PATHWAY_ID")
    )
    lookups = {"LPTID": person_ids, "SERVICEID": pathway_ids}

    out: dict[str, pl.DataFrame] = {}
    for name, frame in derived_tables.items():
        if name in EXCLUDED_TABLES:
            continue
        f = frame
        for ident, pseudo in REPLACED.items():
            if ident not in f.columns or pseudo in f.columns:
                continue
            if ident == "APPTID":
                if key is None:
                    raise ValueError(f"{name}: APPT_REF needs the pseudonymisation key")
                f = f.with_columns(appt_refs(f, provider=provider, key=key))
            else:
                f = f.join(lookups[ident], on=ident, how="left", maintain_order="left")
        columns: list[str] = []
        for c in frame.columns:
            if c == ROW_NUMBER or c in REMOVED:
                continue
            c = REPLACED.get(c, c)
            if c not in columns:
                columns.append(c)
        out[name] = f.select(pl.lit(provider).alias("ORGCODEPROVIDER"), *columns)
    return out


def commissioner_rows(derived_tables: Mapping[str, pl.DataFrame], *, code: str) -> dict[str, pl.DataFrame]:
    """10.5 row selection: Referral rows with ``ORGCODECOMM`` == ``code``, their Person rows (and those
    persons' Disability rows) and every accepted descendant of the selected referrals. Header is dropped."""
    code = code.strip().upper()
    referral = derived_tables.get("Referral")
    if referral is None:
        return {}
    refs = referral.filter(pl.col("ORGCODECOMM") == code)
    service_ids = refs.select("SERVICEID")
    lpt_ids = refs.select("LPTID").unique()
    appt = derived_tables.get("Appointment")
    appt_ids = (
        appt.join(service_ids, on="SERVICEID", how="semi").select("APPTID")
        if appt is not None
        else pl.DataFrame(schema={"APPTID": pl.String})
    )
    out: dict[str, pl.DataFrame] = {}
    for name, frame in derived_tables.items():
        if name in EXCLUDED_TABLES:
            continue
        table = DATASET.tables.get(name)
        if name == "Referral":
            out[name] = refs
        elif name == "Person" or (table is not None and table.parent == "Person"):
            out[name] = frame.join(lpt_ids, on="LPTID", how="semi", maintain_order="left")
        elif table is not None and table.parent == "Referral":
            out[name] = frame.join(service_ids, on="SERVICEID", how="semi", maintain_order="left")
        elif table is not None and table.parent == "Appointment":
            out[name] = frame.join(appt_ids, on="APPTID", how="semi", maintain_order="left")
    return out


def commissioner_extract(
    derived_tables: Mapping[str, pl.DataFrame], *, code: str, provider: str, key: bytes | None = None
) -> dict[str, pl.DataFrame]:
    """One provider's part of the commissioner extract for ``code``: 10.5 rows in the 10.5 layout."""
    return commissioner_view(commissioner_rows(derived_tables, code=code), provider=provider, key=key)
