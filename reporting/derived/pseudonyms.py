"""Spec 9.3 pseudonyms: keyed HMAC-SHA256 of a UTF-8 message, 64 lower-case hex digits.

The messages are built with polars expressions; the digests are computed once per **distinct** message
(``hmac.digest``, OpenSSL's one-shot HMAC) and joined back, so the Python loop runs over the unique values
only, never per row.
"""

from __future__ import annotations

import hmac

import polars as pl

from .constants import GENDER_CODES, POSTCODE_MAX, POSTCODE_RE


def pseudonym(message: str, key: bytes) -> str:
    """HMAC-SHA256 of the UTF-8 ``message`` under ``key`` as 64 lower-case hex digits (9.3)."""
    return hmac.digest(key, message.encode("utf-8"), "sha256").hex()


def hmac_series(messages: pl.Series, key: bytes) -> pl.Series:
    """Pseudonym of every message (null stays null); HMAC computed once per distinct message."""
    uniq = messages.drop_nulls().unique()
    digests = pl.Series("__digest", [pseudonym(m, key) for m in uniq.to_list()], dtype=pl.String)
    mapping = pl.DataFrame({"__msg": uniq, "__digest": digests})
    return (
        messages.rename("__msg")
        .to_frame()
        .join(mapping, on="__msg", how="left", maintain_order="left")
        .get_column("__digest")
        .rename(messages.name)
    )


def _blank_null(col: str) -> pl.Expr:
    c = pl.col(col)
    return pl.when(c.str.strip_chars() != "").then(c)


def valid_postcode(col: str = "POSTCODE") -> pl.Expr:
    """Upper-cased postcode when it passes PER150 (at most 8 characters, format POSTCODE), else null."""
    pc = _blank_null(col).str.to_uppercase()
    return pl.when((pc.str.len_chars() <= POSTCODE_MAX) & pc.str.contains(POSTCODE_RE)).then(pc)


def person_message(provider: str) -> pl.Expr:
    """9.3 ``PERSON_ID`` message: ``N|NHSNO`` or ``L|provider|LPTID|DOB|GENDER|postcode-without-spaces``."""
    nhs = _blank_null("NHSNO")
    gender = _blank_null("GENDER").str.to_uppercase()
    gender = pl.when(gender.is_in(list(GENDER_CODES))).then(gender).otherwise(pl.lit(""))
    postcode = valid_postcode().str.replace_all(" ", "", literal=True).fill_null("")
    local = pl.concat_str(
        [
            pl.lit(f"L|{provider}|"),
            pl.col("LPTID").fill_null(""),
            pl.lit("|"),
            _blank_null("DOB").fill_null(""),
            pl.lit("|"),
            gender,
            pl.lit("|"),
            postcode,
        ]
    )
    return pl.when(nhs.is_not_null()).then(pl.lit("N|") + nhs).otherwise(local)


def pathway_message(provider: str, person_id: str = "PERSON_ID") -> pl.Expr:
    """9.3 ``PATHWAY_ID`` message ``P|provider|SERVICEID|PERSON_ID`` (null when the person is unknown)."""
    return pl.concat_str([pl.lit(f"P|{provider}|"), pl.col("SERVICEID"), pl.lit("|"), pl.col(person_id)])


def appt_message(provider: str) -> pl.Expr:
    """9.3 ``APPT_REF`` message ``A|provider|APPTID``."""
    return pl.concat_str([pl.lit(f"A|{provider}|"), pl.col("APPTID")])
