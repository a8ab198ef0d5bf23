"""Interim commissioner extract: a provider's accepted rows for one commissioner code, de-identified.

Issue 5 replaces the identifiers with the spec's pseudonyms (PERSON_ID, PATHWAY_ID, APPT_REF, 10.5);
until then local identifiers are replaced by keyed hashes and direct identifiers are removed, so a
commissioner never receives NHS numbers, dates of birth or postcodes.
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

REMOVED = ("NHSNO", "DOB", "POSTCODE")
HASHED = ("LPTID", "SERVICEID", "APPTID")


def _pseudo(col: str, key: bytes) -> pl.Expr:
    def h(v: str | None) -> str | None:
        return None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:20]

    return pl.col(col).map_elements(h, return_dtype=pl.String).alias(col)


def commissioner_subset(
    accepted: dict[str, pl.DataFrame], *, code: str, provider: str
) -> dict[str, pl.DataFrame]:
    referrals = accepted.get("Referral")
    if referrals is None:
        return {}
    refs = referrals.filter(pl.col("ORGCODECOMM") == code)
    service_ids = refs.select("SERVICEID")
    lpt_ids = refs.select("LPTID").unique()
    out: dict[str, pl.DataFrame] = {}
    appt_ids = None
    for table, frame in accepted.items():
        if table == "Header":
            continue
        if table == "Referral":
            sub = refs
        elif "SERVICEID" in frame.columns:
            sub = frame.join(service_ids, on="SERVICEID", how="semi")
        elif table in ("Person", "Disability"):
            sub = frame.join(lpt_ids, on="LPTID", how="semi")
        elif "APPTID" in frame.columns:
            if appt_ids is None:
                appts = accepted.get("Appointment")
                appt_ids = (
                    appts.join(service_ids, on="SERVICEID", how="semi").select("APPTID")
                    if appts is not None
                    else pl.DataFrame({"APPTID": []}, schema={"APPTID": pl.String})
                )
            sub = frame.join(appt_ids, on="APPTID", how="semi")
        else:
            continue
        out[table] = sub
    return out


def deidentify(tables: dict[str, pl.DataFrame], *, key: bytes, provider: str) -> dict[str, pl.DataFrame]:
    result = {}
    for table, frame in tables.items():
        frame = frame.drop([c for c in REMOVED if c in frame.columns] + ["ROW_NUMBER"], strict=False)
        frame = frame.with_columns([_pseudo(c, key) for c in HASHED if c in frame.columns])
        result[table] = frame.select(pl.lit(provider).alias("ORGCODEPROVIDER"), pl.all())
    return result
