"""Clean synthetic IDB generation (vectorised with numpy; one pass per table and column, never per row).

Every referral is built backwards from an anchor date inside or just before the reporting period, so all
dates are ordered by construction: REFRECDATE <= appointments <= ENDDATE (follow-ups excepted) <= RP end,
and every referral is active in the RP (open, or discharged in it).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from ._specdata import PROFILES, TABLES
from .nhs import valid_nhs_numbers

EPOCH = date(1970, 1, 1)
DEFAULT_COMMISSIONERS: tuple[str, ...] = ("00C", "01A", "02T", "03Q", "04C")
STEPPED_TO_PROVIDERS: tuple[str, ...] = ("RGD", "RY6", "NQL", "AJN")

# referral kinds
WAIT, NOTSEEN_END, ASSESSED_OPEN, SNT_END, TREAT_OPEN, TREAT_END = range(6)
KIND_P = np.array([0.12, 0.04, 0.12, 0.08, 0.40, 0.24])

# role of an appointment row
PRE, ASSESS, SLOT, FOLLOWUP = range(4)

POSTCODE_DISTRICTS = np.array(
    [
        "LS1",
        "LS2",
        "LS6",
        "LS7",
        "LS8",
        "LS9",
        "LS11",
        "LS12",
        "LS15",
        "LS17",
        "LS28",
        "BD1",
        "BD3",
        "BD7",
        "BD9",
        "WF1",
        "WF3",
        "WF10",
        "HX1",
        "HD1",
        "HD3",
        "YO1",
        "YO10",
        "YO24",
        "HU3",
        "HU5",
        "S1",
        "S2",
        "S6",
        "S10",
        "S11",
        "DN1",
        "M1",
        "M4",
        "M8",
        "M14",
        "M20",
        "M21",
        "OL1",
        "BL1",
        "WN1",
        "SK4",
        "L1",
        "L4",
        "L8",
        "L15",
        "NE1",
        "NE4",
        "NE6",
        "SR1",
        "TS1",
        "DH1",
        "B1",
        "B5",
        "B15",
        "B29",
        "CV1",
        "NG1",
        "NG7",
        "LE2",
        "DE1",
        "SW1A",
        "SW9",
        "SE1",
        "SE15",
        "E1",
        "E8",
        "N7",
        "N16",
        "NW1",
        "W2",
        "BS1",
        "BS3",
        "CF10",
        "EX1",
        "PL1",
    ],
    dtype=object,
)
INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"), dtype=object)
GP_LETTERS = np.array(list("BCDEFGHJKLMNPY"), dtype=object)

PROVDIAG = np.array(
    [
        "F32.0",
        "F32.1",
        "F32.2",
        "F33.1",
        "F41.1",
        "F41.2",
        "F41.0",
        "F40.0",
        "F40.1",
        "F40.2",
        "F42.2",
        "F43.1",
        "F43.2",
        "F45.2",
        "F41.9",
    ],
    dtype=object,
)
PROVDIAG_P = np.array(
    [0.07, 0.13, 0.05, 0.08, 0.20, 0.18, 0.05, 0.02, 0.04, 0.01, 0.04, 0.04, 0.03, 0.02, 0.04]
)
# ADSM column per PROVDIAG (index into ADSM_COLS, -1 = GAD-7 only)
ADSM_COLS = ("AGORASCOREALONE", "SOCPHOBIAINVSCORE", "PANICSCORE", "OCDSCORE", "PTSDSCORE", "HEALTHANXSCORE")
ADSM_OF_PD = np.array([-1, -1, -1, -1, -1, -1, 2, 0, 1, -1, 3, 4, -1, 5, -1])
# (caseness, max) of each ADSM column
ADSM_SCALE = ((2.3, 5.0), (19, 68), (8, 28), (40, 168), (33, 88), (18, 54))

LI_THERAPIES = np.array(["20", "22", "24", "25", "27", "21", "23", "28"], dtype=object)
LI_THERAPY_P = np.array([0.35, 0.25, 0.15, 0.05, 0.08, 0.04, 0.04, 0.04])
HI_THERAPIES = np.array(["50", "44", "51", "46", "41", "40", "42", "43", "45", "47", "48"], dtype=object)
HI_THERAPY_P = np.array([0.52, 0.14, 0.07, 0.07, 0.05, 0.04, 0.02, 0.02, 0.03, 0.02, 0.02])


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def parse(cls, period: str) -> Period:
        try:
            y, m = (int(x) for x in period.split("-"))
            start = date(y, m, 1)
        except ValueError as exc:
            raise ValueError(f"period must be YYYY-MM, got {period!r}") from exc
        return cls(start, date(y, m, calendar.monthrange(y, m)[1]))

    @property
    def start_day(self) -> int:
        return (self.start - EPOCH).days

    @property
    def end_day(self) -> int:
        return (self.end - EPOCH).days


# --------------------------------------------------------------------------------------------- helpers


def _choice(rng: np.random.Generator, codes, p, n: int) -> np.ndarray:
    codes = np.asarray(codes, dtype=object)
    p = np.asarray(p, dtype=float)
    return codes[rng.choice(codes.size, size=n, p=p / p.sum())]


def _blank(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = values.astype(object, copy=True)
    out[mask] = None
    return out


def _str(values) -> pl.Series:
    if isinstance(values, pl.Series):
        return values.cast(pl.String)
    return pl.Series(np.asarray(values, dtype=object).tolist(), dtype=pl.String, strict=False)


def _masked(s: pl.Series, keep: np.ndarray | None) -> pl.Series:
    if keep is None:
        return s
    return pl.select(pl.when(pl.Series(keep, dtype=pl.Boolean)).then(s)).to_series()


def _ints(values: np.ndarray, keep: np.ndarray | None = None) -> pl.Series:
    return _masked(pl.Series(np.asarray(values, dtype=np.int64)).cast(pl.String), keep)


def _hundredths(values: np.ndarray, keep: np.ndarray | None = None) -> pl.Series:
    """Decimal text with two places from integer hundredths (``230`` -> ``2.30``)."""
    h = pl.Series(np.asarray(values, dtype=np.int64))
    s = pl.select(
        pl.concat_str([(h // 100).cast(pl.String), pl.lit("."), (h % 100).cast(pl.String).str.zfill(2)])
    ).to_series()
    return _masked(s, keep)


def _dates(days: np.ndarray, keep: np.ndarray | None = None) -> pl.Series:
    return _masked(pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date).cast(pl.String), keep)


def _times(minutes: np.ndarray, keep: np.ndarray | None = None) -> pl.Series:
    m = pl.Series(np.asarray(minutes, dtype=np.int64))
    s = pl.select(
        pl.concat_str(
            [
                (m // 60).cast(pl.String).str.zfill(2),
                pl.lit(":"),
                (m % 60).cast(pl.String).str.zfill(2),
                pl.lit(":00"),
            ]
        )
    ).to_series()
    return _masked(s, keep)


def _ids(prefix: str, numbers: np.ndarray, width: int = 7) -> pl.Series:
    s = pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return pl.select(pl.concat_str([pl.lit(prefix), s])).to_series()


def _year_month(days: np.ndarray, months_back: np.ndarray) -> pl.Series:
    d = pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)
    total = d.dt.year().cast(pl.Int64) * 12 + d.dt.month().cast(pl.Int64) - 1 - pl.Series(months_back)
    return pl.select(
        pl.concat_str(
            [(total // 12).cast(pl.String), pl.lit("-"), (total % 12 + 1).cast(pl.String).str.zfill(2)]
        )
    ).to_series()


def _frame(table: str, cols: Mapping[str, object], n: int) -> pl.DataFrame:
    """Frame with every column of ``table`` in spec order, all String; absent columns are blank."""
    out = {}
    for spec in TABLES[table]["columns"]:
        name = spec[0]
        v = cols.get(name)
        out[name] = pl.Series(name, [None] * n, dtype=pl.String) if v is None else _str(v).alias(name)
    return pl.DataFrame(out)


def _group_starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)


def _pos_in_group(counts: np.ndarray) -> np.ndarray:
    starts = _group_starts(counts)
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


def _uniform_int(rng: np.random.Generator, low, high) -> np.ndarray:
    """Uniform integers in [low, high] (arrays allowed; high >= low)."""
    low = np.asarray(low, dtype=np.int64)
    high = np.asarray(high, dtype=np.int64)
    return low + np.floor(rng.random(np.broadcast(low, high).shape) * (high - low + 1)).astype(np.int64)


# ------------------------------------------------------------------------------------------ generator


def generate_clean(
    *,
    org: str,
    period: str,
    persons: int,
    profile: str = "P15STD",
    with_ea: bool = False,
    seed: int = 0,
    commissioners: tuple[str, ...] = DEFAULT_COMMISSIONERS,
) -> dict[str, pl.DataFrame]:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {sorted(PROFILES)}")
    if persons < 1:
        raise ValueError("persons must be at least 1")
    rp = Period.parse(period)
    s0, e0 = rp.start_day, rp.end_day
    ndays = e0 - s0 + 1

    def rng_for(step: int) -> np.random.Generator:
        return np.random.default_rng([seed, step])

    tables: dict[str, pl.DataFrame] = {}
    tables["Header"] = _frame(
        "Header",
        {
            "IDBVERSION": np.array([PROFILES[profile]["idb_version"]], dtype=object),
            "ORGCODEPROVIDER": np.array([org.upper()], dtype=object),
            "START_DATE": np.array([rp.start.isoformat()], dtype=object),
            "END_DATE": np.array([rp.end.isoformat()], dtype=object),
        },
        1,
    )

    # ------------------------------------------------------------------------------------- Person
    rng = rng_for(1)
    P = persons
    width = max(7, len(str(P * 3)))
    lptid = _ids("P", np.arange(1, P + 1), width)
    nhs = valid_nhs_numbers(rng, P)
    status = _choice(rng, ["01", "02"], [0.97, 0.03], P)
    age = np.clip(np.round(rng.gamma(6.0, 6.5, P) + 16), 16, 89).astype(np.int64)
    dob = s0 - age * 365 - np.floor(age / 4).astype(np.int64) - rng.integers(1, 365, P)
    # exact age at RP start must stay within 16..90
    dob = np.minimum(dob, s0 - 16 * 366)
    district = POSTCODE_DISTRICTS[rng.integers(0, POSTCODE_DISTRICTS.size, P)]
    inward = (
        rng.integers(0, 10, P).astype(str).astype(object)
        + INWARD_LETTERS[rng.integers(0, INWARD_LETTERS.size, P)]
        + INWARD_LETTERS[rng.integers(0, INWARD_LETTERS.size, P)]
    )
    postcode = district + " " + inward
    postcode[rng.random(P) < 0.02] = "ZZ99 3VZ"
    n_gp = max(20, P // 1500)
    gp_pool = GP_LETTERS[rng.integers(0, GP_LETTERS.size, n_gp)] + np.char.zfill(
        rng.integers(1, 99_999, n_gp).astype(str), 5
    ).astype(object)
    gmpc = gp_pool[rng.integers(0, n_gp, P)]
    gender = _choice(rng, ["1", "2", "9", "X"], [0.33, 0.655, 0.005, 0.01], P)
    ethnic = _choice(
        rng,
        ["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z", "99"],
        [72, 1, 5, 1, 0.5, 1, 1, 2.5, 2.5, 1, 1, 1.5, 2, 0.5, 0.5, 1, 4, 2],
        P,
    )
    religion = _blank(
        _choice(
            rng,
            ["C1", "L1", "G1", "D1", "I1", "F1", "B1", "K1", "M1", "N1", "A1", "H1", "J1", "E1"],
            [40, 30, 5, 2, 1, 0.5, 0.5, 2, 8, 10, 0.1, 0.3, 0.05, 0.05],
            P,
        ),
        rng.random(P) < 0.15,
    )
    sexor = _blank(
        _choice(rng, ["1", "2", "3", "4", "U", "Z", "9"], [85, 3, 3, 0.5, 1, 3, 4.5], P), rng.random(P) < 0.2
    )
    baf = _blank(_choice(rng, ["02", "03", "05", "UU", "ZZ"], [2, 85, 1, 10, 2], P), rng.random(P) < 0.3)
    ltc = _choice(rng, ["Y", "N", "U", "Z"], [0.3, 0.6, 0.05, 0.05], P)
    ltc = _blank(ltc, rng.random(P) < 0.1)
    tables["Person"] = _frame(
        "Person",
        {
            "LPTID": lptid,
            "NHSNO": pl.Series(nhs).cast(pl.String),
            "NHSNOSTATUS": status,
            "DOB": _dates(dob),
            "POSTCODE": postcode,
            "GENDER": gender,
            "GMPC": gmpc,
            "ETHNICITY": ethnic,
            "RELIGION": religion,
            "SEXUALORIENTATION": sexor,
            "BAFINDICATOR": baf,
            "LTCONDITION": ltc,
        },
        P,
    )

    # ----------------------------------------------------------------------------------- Disability
    rng = rng_for(2)
    dis_kind = rng.choice(4, size=P, p=[0.75, 0.10, 0.02, 0.13])  # none, NN, ZZ, codes
    dis_n = np.where(
        dis_kind == 3, rng.choice([1, 2, 3], size=P, p=[0.7, 0.22, 0.08]), (dis_kind > 0).astype(int)
    )
    dis_codes = np.array(["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "XX"], dtype=object)
    order = np.argsort(rng.random((P, dis_codes.size)), axis=1)  # a random permutation of codes per person
    owner = np.repeat(np.arange(P), dis_n)
    k = _pos_in_group(dis_n)
    code = dis_codes[order[owner, k]]
    code = np.where(dis_kind[owner] == 1, "NN", np.where(dis_kind[owner] == 2, "ZZ", code)).astype(object)
    tables["Disability"] = _frame(
        "Disability", {"LPTID": lptid.gather(owner), "DISABILITY": code}, owner.size
    )

    # ------------------------------------------------------------------------------------- Referral
    rng = rng_for(3)
    n_ref = rng.choice([1, 2], size=P, p=[0.82, 0.18])
    R = int(n_ref.sum())
    rperson = np.repeat(np.arange(P), n_ref)
    kind = rng.choice(6, size=R, p=KIND_P)
    discharged = np.isin(kind, [NOTSEEN_END, SNT_END, TREAT_END])
    enddate = s0 + rng.integers(0, ndays, R)
    treated = np.isin(kind, [TREAT_OPEN, TREAT_END])
    assessed = np.isin(kind, [ASSESSED_OPEN, SNT_END, TREAT_OPEN, TREAT_END])
    anchor = np.select(
        [kind == TREAT_END, kind == TREAT_OPEN, kind == SNT_END, kind == ASSESSED_OPEN, kind == NOTSEEN_END],
        [
            enddate - rng.integers(0, 11, R),
            e0 - rng.integers(0, 21, R),
            enddate - rng.integers(0, 31, R),
            e0 - rng.integers(0, 76, R),
            enddate - rng.integers(0, 22, R),
        ],
        default=e0 - rng.integers(0, 51, R),
    )
    n_pre = np.select(
        [kind == WAIT, kind == NOTSEEN_END],
        [rng.choice([0, 1], size=R, p=[0.7, 0.3]), rng.choice([0, 1, 2], size=R, p=[0.3, 0.5, 0.2])],
        default=rng.choice([0, 1], size=R, p=[0.9, 0.1]),
    )
    has_assess = assessed.astype(np.int64)
    n_slots = np.select(
        [kind == TREAT_END, kind == TREAT_OPEN],
        [np.minimum(20, 2 + rng.poisson(7, R)), np.minimum(20, 1 + rng.poisson(5, R))],
        default=0,
    )
    planned = np.where(kind == TREAT_OPEN, n_slots + 1 + rng.poisson(3, R), np.maximum(n_slots, 1))
    n_main = n_pre + has_assess + n_slots
    step_hi = rng.random(R) < 0.4
    endcode = np.select(
        [kind == NOTSEEN_END, kind == SNT_END, kind == TREAT_END],
        [
            np.full(R, "50", dtype=object),
            _choice(
                rng, ["10", "11", "12", "13", "14", "16", "17", "95"], [8, 15, 25, 12, 20, 15, 0.5, 4.5], R
            ),
            _choice(rng, ["46", "47", "48", "49", "96"], [62, 22, 10, 0.5, 5.5], R),
        ],
        default=None,
    ).astype(object)
    has_fu = (kind == TREAT_END) & (endcode != "49") & (rng.random(R) < 0.15)
    fu_date = enddate + rng.integers(14, 43, R)
    has_fu &= fu_date <= e0

    # ------------------------------------------------------------------------- appointment skeleton
    rng = rng_for(4)
    A = int(n_main.sum())
    aref = np.repeat(np.arange(R), n_main)
    pos = _pos_in_group(n_main)
    pre_r = n_pre[aref]
    role = np.where(pos < pre_r, PRE, np.where((pos == pre_r) & (has_assess[aref] == 1), ASSESS, SLOT))
    slot = pos - pre_r - has_assess[aref]  # index among treatment slots (valid where role == SLOT)
    last_main = pos == n_main[aref] - 1
    interval = rng.choice([7, 7, 7, 7, 14, 14, 10, 21, 5], size=A) + rng.integers(-1, 2, A)
    gap = np.select(
        [role == PRE, role == ASSESS],
        [rng.integers(5, 15, A), 7 + np.floor(rng.gamma(2.0, 12.0, A)).astype(np.int64)],
        default=interval,
    )
    gap = np.where(last_main, 0, gap)
    cs = np.cumsum(gap)
    ends = _group_starts(n_main) + n_main - 1
    suffix = cs[ends[aref]] - cs + gap
    adate = anchor[aref] - suffix

    first_main = np.full(R, 0, dtype=np.int64)
    has_main = n_main > 0
    first_main[has_main] = adate[_group_starts(n_main)[has_main]]
    refrec = np.where(
        has_main, first_main - rng.integers(0, 36, R), anchor - rng.integers(0, 20, R) * (kind != WAIT)
    )
    refrec = np.minimum(refrec, e0)

    # attendance
    n_slots_a = n_slots[aref]
    forced = (role == ASSESS) | ((role == SLOT) & ((slot == 0) | (slot == n_slots_a - 1)))
    att_general = _choice(rng, ["5", "6", "3", "2", "4", "7"], [80, 4, 7, 5, 3, 1], A)
    att_forced = _choice(rng, ["5", "6"], [95, 5], A)
    att_pre = _choice(rng, ["3", "2", "4", "7"], [50, 25, 20, 5], A)
    attendance = np.where(role == PRE, att_pre, np.where(forced, att_forced, att_general)).astype(object)
    apptype = np.where(role == PRE, "01", "02").astype(object)
    apptype[role == ASSESS] = np.where(
        treated[aref[role == ASSESS]] & (rng.random(int((role == ASSESS).sum())) < 0.05), "03", "01"
    )
    mid_slot = (role == SLOT) & ~forced
    r = rng.random(A)
    apptype[mid_slot & (r < 0.06)] = "05"
    apptype[mid_slot & (r >= 0.06) & (r < 0.08)] = "04"

    # follow-ups appended after the main appointments of their referral
    fu_ref = np.flatnonzero(has_fu)
    F = fu_ref.size
    aref = np.concatenate([aref, fu_ref])
    order = np.argsort(aref, kind="stable")
    aref = aref[order]
    role = np.concatenate([role, np.full(F, FOLLOWUP)])[order]
    slot = np.concatenate([slot, np.zeros(F, dtype=np.int64)])[order]
    adate = np.concatenate([adate, fu_date[fu_ref]])[order]
    attendance = np.concatenate([attendance, _choice(rng, ["5", "3", "2"], [85, 10, 5], F)])[order]
    apptype = np.concatenate([apptype, np.full(F, "06", dtype=object)])[order]
    A = aref.size
    attended = np.isin(attendance, ["5", "6"])
    is_slot = role == SLOT

    # --------------------------------------------------------------------------- referral columns
    rng = rng_for(5)
    pd_idx = rng.choice(PROVDIAG.size, size=R, p=PROVDIAG_P / PROVDIAG_P.sum())
    pd_keep = np.select(
        [treated, kind == ASSESSED_OPEN, kind == SNT_END],
        [True, rng.random(R) < 0.9, rng.random(R) < 0.8],
        False,
    )
    adsm = np.where(pd_keep, ADSM_OF_PD[pd_idx], -1)
    source = _choice(
        rng,
        ["A1", "B1", "A3", "B2", "H2", "M6", "M7", "D2", "C1", "G4", "N1", "N2", "P1", "M2", "A2", "A4"],
        [45, 33, 3, 1, 3, 2, 3, 1, 1, 2, 1.5, 1.5, 1, 1, 0.5, 0.5],
        R,
    )
    optin = np.minimum(refrec + rng.integers(0, 15, R), np.where(has_main, first_main, e0))
    optin = np.maximum(np.minimum(optin, e0), refrec)
    serreq = np.where(assessed, "Y", None).astype(object)
    serreq[(kind == SNT_END) & np.isin(endcode, ["10", "11"])] = "N"
    serreq[assessed & (rng.random(R) < 0.1)] = None
    onset_keep = rng.random(R) < 0.4
    recur = _blank(_choice(rng, ["Y", "N", "U", "Z"], [40, 45, 10, 5], R), rng.random(R) < 0.5)
    cluster = _blank(
        _choice(rng, ["01", "02", "03", "04", "00", "07"], [30, 35, 20, 8, 4, 3], R), rng.random(R) < 0.7
    )
    stepto = _blank(
        np.asarray(STEPPED_TO_PROVIDERS, dtype=object)[rng.integers(0, len(STEPPED_TO_PROVIDERS), R)],
        rng.random(R) >= 0.02,
    )
    comm_p = np.linspace(2.0, 1.0, len(commissioners))
    width_r = max(7, len(str(R)))
    serviceid = _ids("R", np.arange(1, R + 1), width_r)
    tables["Referral"] = _frame(
        "Referral",
        {
            "SERVICEID": serviceid,
            "LPTID": lptid.gather(rperson),
            "ORGCODECOMM": _choice(rng, list(commissioners), comm_p, R),
            "REFRECDATE": _dates(refrec),
            "SOURCEREFERRAL": source,
            "OPTINDATE": _dates(optin, rng.random(R) < 0.15),
            "SERREQACCIND": serreq,
            "PROVDIAG": _blank(PROVDIAG[pd_idx], ~pd_keep),
            "ONSETDATE": _masked(_year_month(refrec, rng.integers(0, 37, R)), onset_keep),
            "RECURIND": recur,
            "CARECLUSTER": cluster,
            "ORGCODEPROVIDSTEPTO": stepto,
            "ENDDATE": _dates(enddate, discharged),
            "ENDCODE": endcode,
        },
        R,
    )

    # ------------------------------------------------------------------------ appointment columns
    rng = rng_for(6)
    minutes = 480 + 15 * rng.integers(0, 44, A)
    hi = step_hi[aref]
    step = np.where(role == SLOT, np.where(hi, "02", "01"), "01").astype(object)
    step[(role == FOLLOWUP)] = np.where(hi[role == FOLLOWUP], "02", "01")
    step = _blank(step, rng.random(A) < 0.03)
    prole = np.where(
        hi & (role != PRE) & (role != ASSESS),
        _choice(rng, ["02", "03", "04", "08"], [60, 15, 15, 10], A),
        _choice(rng, ["01", "07"], [85, 15], A),
    ).astype(object)
    prole[role == ASSESS] = _choice(rng, ["01", "02"], [70, 30], int((role == ASSESS).sum()))
    cancellation = np.where(attendance == "2", _choice(rng, ["Y", "N"], [70, 30], A), None).astype(object)
    contact = np.select(
        [role == ASSESS, role == FOLLOWUP, hi],
        [rng.integers(40, 61, A), rng.integers(20, 31, A), rng.integers(45, 61, A)],
        default=rng.integers(25, 41, A),
    )
    consmed = _choice(rng, ["01", "02", "03", "98", "05"], [45, 45, 7, 2, 1], A)
    ffcomm = np.where(
        consmed == "01", _choice(rng, ["01", "02", "05", "03"], [85, 10, 4, 1], A), None
    ).astype(object)

    r_ther1 = np.where(
        step_hi,
        _choice(rng, HI_THERAPIES, HI_THERAPY_P, R),
        _choice(rng, LI_THERAPIES, LI_THERAPY_P, R),
    ).astype(object)
    # a second, different therapy of the same intensity for some referrals
    nxt = {
        **dict(zip(LI_THERAPIES.tolist(), np.roll(LI_THERAPIES, -1).tolist(), strict=True)),
        **dict(zip(HI_THERAPIES.tolist(), np.roll(HI_THERAPIES, -1).tolist(), strict=True)),
    }
    r_ther2 = (
        pl.Series(r_ther1.astype(str)).replace_strict(nxt, return_dtype=pl.String).to_numpy().astype(object)
    )
    r_ther2[rng.random(R) >= 0.1] = None
    treat_att = attended & np.isin(apptype, ["02", "03", "05"])
    ther1 = np.where(treat_att, r_ther1[aref], None).astype(object)
    ther2 = np.where(treat_att, r_ther2[aref], None).astype(object)

    emp = _choice(
        rng, ["01", "02", "03", "04", "05", "06", "07", "08", "ZZ"], [55, 10, 7, 10, 5, 4, 1, 7, 1], R
    )
    emp_rec = attended & ((role == ASSESS) | (rng.random(A) < 0.3))
    empstatus = np.where(emp_rec, emp[aref], None).astype(object)
    esi = np.where(emp_rec, _choice(rng, ["Y", "N", "NA"], [8, 80, 12], A), None).astype(object)
    esref_keep = (esi == "Y") & (rng.random(A) < 0.5)
    psychmed = np.where(
        attended & (role == ASSESS), _choice(rng, ["01", "02", "03", "UU", "ZZ"], [35, 5, 55, 4, 1], A), None
    ).astype(object)
    sspind = np.where(
        attended & (role == ASSESS) & (emp[aref] == "01"), _choice(rng, ["Y", "N", "U"], [10, 85, 5], A), None
    ).astype(object)

    # scores: a trajectory per referral from a baseline towards a final value
    base_phq = np.clip(np.round(rng.normal(16, 5, R)), 0, 27)
    base_gad = np.clip(np.round(0.7 * base_phq + rng.normal(3, 3, R)), 0, 21)
    imp = np.clip(rng.normal(0.5, 0.3, R), -0.3, 1.0)
    t = np.select(
        [role == SLOT, role == FOLLOWUP], [(slot + 1) / planned[aref], np.ones(A)], default=np.zeros(A)
    ).clip(0, 1)
    fu_relapse = np.where(role == FOLLOWUP, rng.normal(1.0, 1.5, A), 0.0)
    scored = attended & np.isin(apptype, ["01", "02", "03", "05", "06"])

    def trajectory(base: np.ndarray, top: float, noise: float) -> np.ndarray:
        b = base[aref]
        v = b - b * imp[aref] * t + rng.normal(0, noise, A) + fu_relapse * top / 27
        return np.clip(np.round(v), 0, top)

    phq = trajectory(base_phq, 27, 1.3)
    gad = trajectory(base_gad, 21, 1.1)
    wsas_keep = scored & (rng.random(A) < 0.6)
    wsas_base = np.clip(np.round(base_phq / 27 * 8 + rng.normal(0, 1, R)), 0, 8)
    wsas = {}
    for col in ("WSASWSCORE", "WSASHMSCORE", "WSASSLASCORE", "WSASPLASCORE", "WSASRSCORE"):
        v = trajectory(np.clip(wsas_base + rng.integers(-1, 2, R), 0, 8), 8, 0.8)
        if col == "WSASWSCORE":
            v = np.where(np.isin(emp[aref], ["01"]), v, 9)
        wsas[col] = _ints(v, wsas_keep)
    adsm_cols: dict[str, pl.Series] = {}
    for j, col in enumerate(ADSM_COLS):
        cas, top = ADSM_SCALE[j]
        keep = scored & (adsm[aref] == j)
        if col == "AGORASCOREALONE":
            base = np.clip(cas * rng.uniform(1.05, 1.9, R), 1.0, 5.0)
            v = base[aref] - (base[aref] - 1.0) * imp[aref].clip(0, 1) * t + rng.normal(0, 0.08, A)
            alone = np.clip(np.round(v * 100), 100, 500)
            acc = np.clip(alone - rng.integers(20, 80, A), 100, 500)
            adsm_cols[col] = _hundredths(alone, keep)
            adsm_cols["AGORASCOREACC"] = _hundredths(acc, keep)
        else:
            base = np.clip(np.round(cas * rng.uniform(1.05, 1.8, R)), 0, top)
            adsm_cols[col] = _ints(trajectory(base, top, max(1.0, top / 40)), keep)
    gad_pd = np.asarray(PROVDIAG[pd_idx] == "F41.1") & pd_keep
    pswq_keep = scored & gad_pd[aref]
    pswq = np.clip(np.round(rng.normal(62, 8, R)[aref] * (1 - 0.4 * imp[aref] * t)), 16, 80)
    phobia_keep = attended & (role == ASSESS) & (rng.random(A) < 0.7)
    width_a = max(7, len(str(A)))
    apptid = _ids("A", np.arange(1, A + 1), width_a)
    tables["Appointment"] = _frame(
        "Appointment",
        {
            "APPTID": apptid,
            "SERVICEID": serviceid.gather(aref),
            "APPOINTMENT": _dates(adate),
            "APPOINTMENTTIME": _times(minutes, rng.random(A) >= 0.02),
            "STEPINTENSITY": step,
            "PRIMARYROLE": prole,
            "ATTENDANCE": attendance,
            "CANCELLATION": cancellation,
            "CONTACTDURATION": _ints(contact, attended),
            "APPTYPE": apptype,
            "CONSMEDIUM": consmed,
            "FFCOMM": ffcomm,
            "THERTYPE1": ther1,
            "THERTYPE2": ther2,
            "EMPSTATUS": empstatus,
            "EMPSUPPORTIND": esi,
            "EMPSUPPORTREFERRAL": _dates(adate, esref_keep),
            "PSYCHMED": psychmed,
            "SSPIND": sspind,
            "PHQ9_SCORE": _ints(phq, scored),
            "GAD7SCORE": _ints(gad, scored),
            **wsas,
            **adsm_cols,
            "AGORASCORE": _ints(rng.integers(0, 9, A), phobia_keep),
            "SOCPHOBIASCORE": _ints(rng.integers(0, 9, A), phobia_keep),
            "SPECPHOBIASCORE": _ints(rng.integers(0, 9, A), phobia_keep),
            "GENANXSCORE": _ints(pswq, pswq_keep),
        },
        A,
    )

    # ---------------------------------------------------------------------------- questionnaires
    rng = rng_for(7)
    assess_rows = np.flatnonzero((role == ASSESS) & attended)
    apq_rows = assess_rows[rng.random(assess_rows.size) < 0.35]
    Q = apq_rows.size
    tables["AssessmentPEQ"] = _frame(
        "AssessmentPEQ",
        {
            "SERVICEID": serviceid.gather(aref[apq_rows]),
            "ASSESSPEQDATE": _dates(adate[apq_rows]),
            "ASSESSPEQTIME": _times(np.minimum(minutes[apq_rows] + 60, 23 * 60 + 45)),
            "ASSESSMENT1": _blank(_choice(rng, ["Y", "N", "X"], [80, 15, 5], Q), rng.random(Q) < 0.05),
            "ASSESSMENT2": _blank(_choice(rng, ["Y", "N", "X"], [45, 45, 10], Q), rng.random(Q) < 0.05),
            "ASSESSMENT3": _blank(_choice(rng, ["Y", "N", "X"], [60, 15, 25], Q), rng.random(Q) < 0.05),
            "SATISFACTION": _ints(
                rng.choice(5, size=Q, p=[0.02, 0.03, 0.1, 0.35, 0.5]), rng.random(Q) >= 0.05
            ),
        },
        Q,
    )
    # treatment PEQ at the last (and for longer courses also the first) treatment slot; both are attended
    last_slot = is_slot & (slot == n_slots[aref] - 1)
    first_slot = is_slot & (slot == 0) & (n_slots[aref] >= 4)
    tq_ref = rng.random(R) < 0.25
    tq_second = rng.random(R) < 0.3
    tpq_rows = np.flatnonzero((last_slot & tq_ref[aref]) | (first_slot & tq_ref[aref] & tq_second[aref]))
    T = tpq_rows.size
    tpq = {
        "SERVICEID": serviceid.gather(aref[tpq_rows]),
        "TREATPEQDATE": _dates(adate[tpq_rows]),
        "TREATPEQTIME": _times(np.minimum(minutes[tpq_rows] + 60, 23 * 60 + 45)),
    }
    for i in range(1, 6):
        tpq[f"TREATMENT{i}"] = _ints(
            rng.choice(5, size=T, p=[0.02, 0.03, 0.1, 0.3, 0.55]), (rng.random(T) >= 0.04) | (i == 1)
        )
    tables["TreatmentPEQ"] = _frame("TreatmentPEQ", tpq, T)

    # ------------------------------------------------------------------------------------- pauses
    rng = rng_for(8)
    first_treat = np.full(R, e0 + 1, dtype=np.int64)
    slot0 = np.flatnonzero(is_slot & (slot == 0))
    first_treat[aref[slot0]] = adate[slot0]
    window_end = np.minimum(first_treat - 1, e0)
    room = window_end - refrec
    has_p = (room >= 20) & (rng.random(R) < 0.06)
    p1_start = refrec + _uniform_int(rng, 1, np.maximum(room // 3, 1))
    p1_end = np.minimum(p1_start + _uniform_int(rng, 3, np.maximum(room // 3, 3)), window_end)
    p2_start = p1_end + _uniform_int(rng, 1, 10)
    has_p2 = has_p & (rng.random(R) < 0.3) & (p2_start + 2 <= window_end)
    p2_end = np.minimum(p2_start + _uniform_int(rng, 2, 20), window_end)
    open_ok = np.isin(kind, [WAIT, ASSESSED_OPEN]) & (rng.random(R) < 0.2)
    r1 = np.flatnonzero(has_p)
    r2 = np.flatnonzero(has_p2)
    p_ref = np.concatenate([r1, r2])
    p_num = np.concatenate([np.ones(r1.size, dtype=np.int64), np.full(r2.size, 2)])
    p_start = np.concatenate([p1_start[r1], p2_start[r2]])
    p_end = np.concatenate([p1_end[r1], p2_end[r2]])
    p_last = np.concatenate([~has_p2[r1], np.ones(r2.size, dtype=bool)])
    p_open = np.concatenate([open_ok[r1], open_ok[r2]]) & p_last
    o = np.lexsort((p_num, p_ref))
    p_ref, p_num, p_start, p_end, p_open = p_ref[o], p_num[o], p_start[o], p_end[o], p_open[o]
    W = p_ref.size
    tables["WaitingTimePause"] = _frame(
        "WaitingTimePause",
        {
            "SERVICEID": serviceid.gather(p_ref),
            "PAUSEID": _ids("PS", p_num, 2),
            "PAUSESTARTDATE": _dates(p_start),
            "PAUSEENDDATE": _dates(p_end, ~p_open),
            "PAUSEREASON": _choice(rng, ["01", "02", "03"], [40, 45, 15], W),
        },
        W,
    )

    # ------------------------------------------------------------------------ LTC/MUS pilot tables
    if profile == "P15LTC":
        rng = rng_for(9)
        p_ltc = np.asarray(ltc, dtype=object)[rperson]
        ltc_codes = np.array(
            ["10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "96"], dtype=object
        )
        ltc_n = np.where(p_ltc == "Y", rng.choice([1, 2], size=R, p=[0.75, 0.25]), 0)
        none97 = (p_ltc == "N") & (rng.random(R) < 0.4)
        ltc_n = np.where(none97, 1, ltc_n)
        lorder = np.argsort(rng.random((R, ltc_codes.size)), axis=1)
        lref = np.repeat(np.arange(R), ltc_n)
        lcode = ltc_codes[lorder[lref, _pos_in_group(ltc_n)]]
        lcode = np.where(none97[lref], "97", lcode).astype(object)
        tables["LTCCondition"] = _frame(
            "LTCCondition", {"SERVICEID": serviceid.gather(lref), "LTCCODE": lcode}, lref.size
        )
        mus_codes = np.array(["01", "02", "03", "04", "05", "06", "96"], dtype=object)
        mus_n = np.where(rng.random(R) < 0.08, rng.choice([1, 2], size=R, p=[0.8, 0.2]), 0)
        morder = np.argsort(rng.random((R, mus_codes.size)), axis=1)
        mref = np.repeat(np.arange(R), mus_n)
        mcode = mus_codes[morder[mref, _pos_in_group(mus_n)]]
        tables["MUSSymptom"] = _frame(
            "MUSSymptom", {"SERVICEID": serviceid.gather(mref), "MUSCODE": mcode}, mref.size
        )
        ibs = np.zeros(R, dtype=bool)
        ibs[mref[mcode == "01"]] = True
        with_ltc = ((ltc_n > 0) & ~none97) | (mus_n > 0)
        la_rows = np.flatnonzero(with_ltc[aref])
        L = la_rows.size
        la_att = attended[la_rows]
        base15 = np.clip(np.round(rng.normal(14, 5, R)), 0, 30)
        phq15 = np.clip(np.round(base15[aref[la_rows]] * (1 - 0.5 * imp[aref[la_rows]] * t[la_rows])), 0, 30)
        ibss = np.clip(
            np.round(rng.normal(300, 80, R)[aref[la_rows]] * (1 - 0.5 * imp[aref[la_rows]] * t[la_rows])),
            0,
            500,
        )
        tables["LTCAppointment"] = _frame(
            "LTCAppointment",
            {
                "APPTID": apptid.gather(la_rows),
                "LTCSERVICEIND": _choice(rng, ["Y", "N"], [80, 20], L),
                "PHQ15SCORE": _ints(phq15, la_att & (rng.random(L) < 0.7)),
                "IBSSSSCORE": _ints(ibss, la_att & ibs[aref[la_rows]]),
            },
            L,
        )

    # ----------------------------------------------------------------------- Employment adviser
    if with_ea:
        rng = rng_for(10)
        ea_ref = rng.random(R) < 0.06
        ea_rows = np.flatnonzero(ea_ref[aref] & attended & (role != PRE) & (rng.random(A) < 0.7))
        E = ea_rows.size
        e_emp = emp[aref[ea_rows]]
        employed = e_emp == "01"
        hours = np.where(
            employed, _choice(rng, ["01", "02", "03", "04", "97", "99"], [55, 25, 8, 3, 5, 4], E), "98"
        )
        hours = _blank(hours.astype(object), rng.random(E) < 0.1)
        sick = np.where(employed, _choice(rng, ["Y", "N", "Z", "X"], [25, 70, 3, 2], E), "8").astype(object)
        benefit = _choice(rng, ["Y", "N", "U"], [35, 55, 10], E)
        ea = {
            "APPTID": apptid.gather(ea_rows),
            "EASESSIONIND": _choice(rng, ["Y", "N"], [60, 40], E),
            "WEEKHOURSWORKED": hours,
            "SICKABSENCEIND": sick,
            "BENEFITRECIND": benefit,
        }
        for col, py in (
            ("JSAIND", 0.2),
            ("ESAIND", 0.35),
            ("UCIND", 0.3),
            ("PIPIND", 0.15),
            ("OTHERBENEFITIND", 0.1),
        ):
            yes_no = np.where(rng.random(E) < py, "Y", "N").astype(object)
            v = np.select(
                [benefit == "Y", benefit == "N"], [yes_no, np.full(E, "N", dtype=object)], "U"
            ).astype(object)
            ea[col] = _blank(v, rng.random(E) < 0.1)
        ea["EMPSUPPORTDISCHDATE"] = _dates(adate[ea_rows], rng.random(E) < 0.1)
        tables["EmploymentAdviser"] = _frame("EmploymentAdviser", ea, E)

    wanted = list(PROFILES[profile]["required"]) + (["EmploymentAdviser"] if with_ea else [])
    return {name: tables[name] for name in wanted}
