"""Planting rule violations into generated tables (``--inject`` and ``--error-rate``).

Each supported rule has an injector that changes (or appends) rows so that exactly that rule fires on
them. Rows are chosen per *family* (a person with everything hanging off it): once a family has been
touched by one injection no other injection uses it, so planted errors never mask each other.
Consequences the spec itself prescribes still happen and are *not* listed in the manifest: cascade
findings on the descendants of a rejected row (DIS110, REF130, APP130 …, spec 6.2 item 5), REF170 on the
referrals of a person planted with PER120 (a birth date after RP end is necessarily after every referral),
and REF120/DIS100 when a planted rule removes a person's key (PER100/PER110 keep links by renaming
children). Cascade rules themselves (x110/x120/x130) are planted by rejecting a parent with a harmless
rule; then both the parent's finding and the child's cascade finding are listed.

``count`` means occurrences: for duplicate-key rules (PER110, REF110, APP110, … and FILE023) one occurrence
is one duplicated pair and every row of the pair is listed.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import polars as pl

from ._specdata import RULES, TABLES
from .generator import Period
from .nhs import valid_nhs_numbers


class Finding(NamedTuple):
    rule_id: str
    table: str | None
    row_number: int | None  # 1-based data row (spec 1); None for findings without a row
    column: str | None


CHILDREN: dict[str, tuple[tuple[str, str], ...]] = {
    "Person": (("Disability", "LPTID"), ("Referral", "LPTID")),
    "Referral": tuple(
        (t, "SERVICEID")
        for t in (
            "Appointment",
            "AssessmentPEQ",
            "TreatmentPEQ",
            "WaitingTimePause",
            "LTCCondition",
            "MUSSymptom",
        )
    ),
    "Appointment": (("LTCAppointment", "APPTID"), ("EmploymentAdviser", "APPTID")),
}
PK = {"Person": "LPTID", "Referral": "SERVICEID", "Appointment": "APPTID"}
PARENT = {
    "Disability": ("Person", "LPTID"),
    "Referral": ("Person", "LPTID"),
    **{t: ("Referral", "SERVICEID") for t, _ in CHILDREN["Referral"]},
    "LTCAppointment": ("Appointment", "APPTID"),
    "EmploymentAdviser": ("Appointment", "APPTID"),
}

ATTENDED = pl.col("ATTENDANCE").is_in(["5", "6"])
NOT_ATTENDED = pl.col("ATTENDANCE").is_in(["2", "3", "4", "7"])
SCORED = ATTENDED & pl.col("APPTYPE").is_in(["01", "02", "03", "05"])
TREAT_ATT = ATTENDED & pl.col("APPTYPE").is_in(["02", "03", "05"])


def _d(s: str) -> date:
    return date.fromisoformat(s)


def _col_spec(table: str, column: str) -> tuple:
    for c in TABLES[table]["columns"]:
        if c[0] == column:
            return c
    raise KeyError(f"{table}.{column}")


class InjectionError(ValueError):
    pass


class Ctx:
    def __init__(self, tables: dict[str, pl.DataFrame], period: str, org: str, seed: int) -> None:
        self.t = dict(tables)
        self.rp = Period.parse(period)
        self.org = org
        self.rng = np.random.default_rng([seed, 7919])
        self.manifest: list[Finding] = []
        self.shortfall: dict[str, int] = {}
        self._serial = 0
        persons = self.t["Person"]["LPTID"]
        n = persons.len()
        self.fam: dict[str, np.ndarray] = {"Person": np.arange(n, dtype=np.int64)}
        lpt_map = dict(zip(persons.to_list(), range(n), strict=True))
        for table in ("Disability", "Referral"):
            if table in self.t:
                self.fam[table] = self._map(self.t[table]["LPTID"], lpt_map)
        sid_map = dict(
            zip(self.t["Referral"]["SERVICEID"].to_list(), self.fam["Referral"].tolist(), strict=True)
        )
        for table, _ in CHILDREN["Referral"]:
            if table in self.t:
                self.fam[table] = self._map(self.t[table]["SERVICEID"], sid_map)
        app_map = dict(
            zip(self.t["Appointment"]["APPTID"].to_list(), self.fam["Appointment"].tolist(), strict=True)
        )
        for table, _ in CHILDREN["Appointment"]:
            if table in self.t:
                self.fam[table] = self._map(self.t[table]["APPTID"], app_map)
        self.tainted = np.zeros(n + 1, dtype=bool)
        if "Header" in self.t:
            self.fam["Header"] = np.full(self.t["Header"].height, n, dtype=np.int64)

    @staticmethod
    def _map(keys: pl.Series, mapping: dict) -> np.ndarray:
        return np.array([mapping.get(k, -1) for k in keys.to_list()], dtype=np.int64)

    # ------------------------------------------------------------------------------ row choice
    def free(self, table: str) -> np.ndarray:
        fam = self.fam[table]
        return (fam >= 0) & ~self.tainted[np.maximum(fam, 0)]

    def pick(self, table: str, n: int, where: pl.Expr | None = None, rule: str = "") -> np.ndarray:
        if n <= 0 or table not in self.t:
            return np.zeros(0, dtype=np.int64)
        mask = self.free(table)
        if where is not None:
            mask &= self.t[table].select(where.fill_null(False)).to_series().to_numpy().astype(bool)
        cand = np.flatnonzero(mask)
        if cand.size < n and rule:
            self.shortfall[rule] = self.shortfall.get(rule, 0) + n - cand.size
        chosen = np.sort(self.rng.choice(cand, size=min(n, cand.size), replace=False)) if cand.size else cand
        self.taint(table, chosen)
        return chosen

    def taint(self, table: str, rows: np.ndarray) -> None:
        fam = self.fam[table][rows]
        self.tainted[fam[fam >= 0]] = True

    def new_family(self) -> int:
        self.tainted = np.append(self.tainted, True)
        return self.tainted.size - 1

    # ------------------------------------------------------------------------------ access
    def get(self, table: str, column: str, rows) -> list:
        return self.t[table][column].gather(np.asarray(rows, dtype=np.int64)).to_list()

    def set(self, table: str, column: str, rows, values) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        if not isinstance(values, list):
            values = [values] * rows.size
        df = self.t[table]
        s = df[column]
        if any(v is None for v in values):
            keep = [i for i, v in zip(rows.tolist(), values, strict=True) if v is not None]
            drop = [i for i, v in zip(rows.tolist(), values, strict=True) if v is None]
            if keep:
                s = s.scatter(keep, [v for v in values if v is not None])
            s = s.scatter(drop, pl.Series([None] * len(drop), dtype=pl.String))
        else:
            s = s.scatter(rows.tolist(), pl.Series(values, dtype=pl.String))
        self.t[table] = df.with_columns(s.alias(column))

    def append(self, table: str, records: list[dict], fams: list[int]) -> np.ndarray:
        df = self.t[table]
        start = df.height
        new = pl.DataFrame([{c: r.get(c) for c in df.columns} for r in records], schema=df.schema)
        self.t[table] = pl.concat([df, new], how="vertical")
        self.fam[table] = np.concatenate([self.fam[table], np.asarray(fams, dtype=np.int64)])
        return np.arange(start, start + len(records), dtype=np.int64)

    def copy_rows(self, table: str, rows, overrides: dict[str, list] | None = None) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        recs = self.t[table][rows.tolist()].to_dicts()
        for col, vals in (overrides or {}).items():
            for r, v in zip(recs, vals, strict=True):
                r[col] = v
        return self.append(table, recs, self.fam[table][rows].tolist())

    def rename(self, table: str, rows, new_values: list[str]) -> None:
        """Change primary keys and carry the change into the children's foreign keys."""
        col = PK[table]
        old = self.get(table, col, rows)
        self.set(table, col, rows, new_values)
        mapping = dict(zip(old, new_values, strict=True))
        for child, fk in CHILDREN.get(table, ()):
            if child in self.t:
                df = self.t[child]
                self.t[child] = df.with_columns(pl.col(fk).replace(mapping))

    def serial(self) -> int:
        self._serial += 1
        return self._serial

    def fresh_key(self, prefix: str) -> str:
        return f"{prefix}{self.serial():06d}"

    def children_of(self, table: str, keys: pl.Series | list) -> builtins.set:  # `set` is a method here
        out: builtins.set = set()
        for child, fk in CHILDREN.get(table, ()):
            if child in self.t:
                out.update(self.t[child].filter(pl.col(fk).is_in(list(keys)))[fk].to_list())
        return out

    def childless(self, table: str) -> pl.Expr:
        col = PK[table]
        used: set = set()
        for child, fk in CHILDREN.get(table, ()):
            if child in self.t:
                used.update(self.t[child][fk].drop_nulls().unique().to_list())
        return ~pl.col(col).is_in(list(used))

    def lookup(self, table: str, key: str, value: str) -> dict:
        df = self.t[table]
        return dict(zip(df[key].to_list(), df[value].to_list(), strict=True))

    def add(self, rule: str, table: str | None, rows, column: str | None) -> None:
        for r in np.atleast_1d(np.asarray(rows, dtype=np.int64)) if rows is not None else [None]:
            self.manifest.append(Finding(rule, table, None if r is None else int(r) + 1, column))

    @property
    def rp_end(self) -> date:
        return self.rp.end

    @property
    def rp_start(self) -> date:
        return self.rp.start


Injector = Callable[[Ctx, int, str | None], None]
REGISTRY: dict[str, tuple[Injector, tuple[str, ...]]] = {}


def register(rule: str, columns: tuple[str, ...] = ()):
    def deco(fn: Injector) -> Injector:
        REGISTRY[rule] = (fn, columns)
        return fn

    return deco


def _per_column(count: int, columns: tuple[str, ...], forced: str | None) -> dict[str, int]:
    if forced:
        return {forced: count}
    out: dict[str, int] = {}
    for i in range(count):
        c = columns[i % len(columns)]
        out[c] = out.get(c, 0) + 1
    return out


# --------------------------------------------------------------------------- generic row rules


def _generic(
    rule: str,
    table: str,
    columns: tuple[str, ...],
    value: Callable[[Ctx, str, np.ndarray], list | str | None],
    where: dict[str, Callable[[Ctx], pl.Expr | None]] | None = None,
    fix: dict[str, Callable[[Ctx, np.ndarray], None]] | None = None,
    report: str | None = None,
) -> None:
    """Register an injector that sets ``value`` into a column on rows matching ``where``."""

    def inj(ctx: Ctx, count: int, forced: str | None) -> None:
        for col, n in _per_column(count, columns, forced).items():
            w = (where or {}).get(col) or (where or {}).get("*")
            rows = ctx.pick(table, n, w(ctx) if w else None, rule)
            if rows.size == 0:
                continue
            ctx.set(table, col, rows, value(ctx, col, rows))
            f = (fix or {}).get(col) or (fix or {}).get("*")
            if f:
                f(ctx, rows)
            ctx.add(rule, table, rows, report or col)

    register(rule, columns)(inj)


def _blank(ctx: Ctx, col: str, rows: np.ndarray) -> None:
    return None


def _overlong_value(table: str):
    def v(ctx: Ctx, col: str, rows: np.ndarray) -> list:
        n = _col_spec(table, col)[2]
        cur = ctx.get(table, col, rows)
        return [((c or "9") + "9" * n)[: n + 1] for c in cur]

    return v


def _bad_number(table: str):
    def v(ctx: Ctx, col: str, rows: np.ndarray) -> str:
        spec = _col_spec(table, col)
        return "1.234" if spec[1] == "decimal" else "1.5"

    return v


def _bad_date(table: str):
    def v(ctx: Ctx, col: str, rows: np.ndarray) -> str:
        spec = _col_spec(table, col)
        return "24:00" if spec[1] == "time" else f"{ctx.rp_end.year}-02-30"

    return v


def _after_end(days: int = 3):
    def v(ctx: Ctx, col: str, rows: np.ndarray) -> str:
        return (ctx.rp_end + timedelta(days=days)).isoformat()

    return v


def _const(x):
    return lambda ctx, col, rows: x


def _w(expr: pl.Expr):
    return lambda ctx: expr


def _childless(table: str):
    return lambda ctx: ctx.childless(table)


# ---------------------------------------------------------------------------------- Header


def _header(rule: str, column: str, value) -> None:
    def inj(ctx: Ctx, count: int, forced: str | None) -> None:
        ctx.set("Header", column, [0], value(ctx) if callable(value) else value)
        ctx.add(rule, "Header", [0], column)

    register(rule, (column,))(inj)


_header("HDR020", "IDBVERSION", "1.5.0")
_header("HDR050", "ORGCODEPROVIDER", "AB-1")
_header("HDR060", "ORGCODEPROVIDER", lambda ctx: "ZZZ99" if ctx.org.upper() != "ZZZ99" else "ZZZ98")
_header("HDR070", "START_DATE", lambda ctx: (ctx.rp_start + timedelta(days=1)).isoformat())


@register("HDR010")
def _hdr010(ctx: Ctx, count: int, forced: str | None) -> None:
    ctx.copy_rows("Header", [0] * max(1, count))
    ctx.add("HDR010", "Header", None, None)


@register("HDR080", ("START_DATE", "END_DATE"))
def _hdr080(ctx: Ctx, count: int, forced: str | None) -> None:
    prev_end = ctx.rp_start - timedelta(days=1)
    ctx.set("Header", "START_DATE", [0], prev_end.replace(day=1).isoformat())
    ctx.set("Header", "END_DATE", [0], prev_end.isoformat())
    ctx.add("HDR080", "Header", [0], "START_DATE")
    ctx.add("HDR080", "Header", [0], "END_DATE")


# ---------------------------------------------------------------------------------- Person


@register("PER010", ("LPTID",))
def _per010(ctx: Ctx, count: int, forced: str | None) -> None:
    # a new person row with a blank LPTID (blanking an existing one would orphan its referrals)
    src = ctx.pick("Person", count, rule="PER010")
    nhs = _fresh_nhs(ctx, src.size)
    rows = ctx.copy_rows("Person", src, {"LPTID": [None] * src.size, "NHSNO": nhs})
    ctx.add("PER010", "Person", rows, "LPTID")


def _fresh_nhs(ctx: Ctx, n: int) -> list[str]:
    used = set(ctx.t["Person"]["NHSNO"].drop_nulls().to_list())
    out: list[str] = []
    while len(out) < n:
        for x in valid_nhs_numbers(ctx.rng, n * 2 + 8, low=998_000_000).tolist():
            s = str(x)
            if s not in used:
                used.add(s)
                out.append(s)
    return out[:n]


def _per020_fix(ctx: Ctx, rows: np.ndarray) -> None:
    ctx.set("Person", "NHSNOSTATUS", rows, "03")  # status "trace required" so that PER140 stays quiet


_generic(
    "PER020",
    "Person",
    ("NHSNO", "NHSNOSTATUS", "DOB", "POSTCODE", "GENDER", "GMPC", "ETHNICITY"),
    _blank,
    fix={"NHSNO": _per020_fix},
)
_generic(
    "PER030",
    "Person",
    ("NHSNOSTATUS", "GENDER", "ETHNICITY", "RELIGION", "SEXUALORIENTATION", "BAFINDICATOR", "LTCONDITION"),
    _overlong_value("Person"),
)
_generic("PER050", "Person", ("DOB",), _bad_date("Person"))


@register("PER100", ("LPTID",))
def _per100(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Person", count, rule="PER100")
    ctx.rename("Person", rows, [f"P {v}"[:20] for v in ctx.get("Person", "LPTID", rows)])
    ctx.add("PER100", "Person", rows, "LPTID")


@register("PER110", ("LPTID",))
def _per110(ctx: Ctx, count: int, forced: str | None) -> None:
    # an exact copy of a person row: same LPTID and NHSNO (so FILE023 does not fire)
    rows = ctx.pick("Person", count, rule="PER110")
    new = ctx.copy_rows("Person", rows)
    ctx.add("PER110", "Person", np.concatenate([rows, new]), "LPTID")


_generic(
    "PER120",
    "Person",
    ("DOB",),
    lambda ctx, col, rows: (ctx.rp_end + timedelta(days=10)).isoformat(),
    fix={"DOB": lambda ctx, rows: _clear_onset_of_person(ctx, rows)},
)


def _clear_onset_of_person(ctx: Ctx, rows: np.ndarray) -> None:
    lpt = set(ctx.get("Person", "LPTID", rows))
    ref = ctx.t["Referral"]
    idx = np.flatnonzero(ref["LPTID"].is_in(list(lpt)).to_numpy())
    ctx.set("Referral", "ONSETDATE", idx, None)


_generic(
    "PER130",
    "Person",
    ("DOB",),
    lambda ctx, col, rows: ctx.rp_start.replace(year=ctx.rp_start.year - 121).isoformat(),
)
_generic(
    "PER140",
    "Person",
    ("NHSNOSTATUS",),
    _const("07"),
    where={"NHSNOSTATUS": _w(pl.col("NHSNO").is_not_null())},
)
_generic(
    "PER150",
    "Person",
    ("POSTCODE",),
    lambda ctx, col, rows: [p.replace(" ", "") for p in ctx.get("Person", col, rows)],
    where={"POSTCODE": _w(pl.col("POSTCODE").is_not_null())},
)
_generic("PER160", "Person", ("GMPC",), _const("B86-1"))
_BAD_CODES = {
    "NHSNOSTATUS": "08",
    "GENDER": "3",
    "ETHNICITY": "Q",
    "RELIGION": "Z9",
    "SEXUALORIENTATION": "5",
    "BAFINDICATOR": "01",
    "LTCONDITION": "X",
    "DISABILITY": "11",
    "SOURCEREFERRAL": "N4",
    "SERREQACCIND": "X",
    "RECURIND": "X",
    "CARECLUSTER": "22",
    "ENDCODE": "15",
    "ATTENDANCE": "1",
    "APPTYPE": "07",
    "STEPINTENSITY": "04",
    "PRIMARYROLE": "09",
    "CANCELLATION": "X",
    "CONSMEDIUM": "07",
    "FFCOMM": "07",
    "THERTYPE1": "30",
    "THERTYPE2": "30",
    "EMPSTATUS": "09",
    "EMPSUPPORTIND": "X",
    "PSYCHMED": "04",
    "SSPIND": "X",
    "ASSESSMENT1": "Z",
    "ASSESSMENT2": "Z",
    "ASSESSMENT3": "Z",
    "PAUSEREASON": "04",
    "LTCCODE": "21",
    "MUSCODE": "07",
    "LTCSERVICEIND": "X",
    "EASESSIONIND": "X",
    "WEEKHOURSWORKED": "05",
    "SICKABSENCEIND": "9",
    "BENEFITRECIND": "X",
    "JSAIND": "X",
    "ESAIND": "X",
    "UCIND": "X",
    "PIPIND": "X",
    "OTHERBENEFITIND": "X",
}


def _bad_code(ctx: Ctx, col: str, rows: np.ndarray) -> str:
    return _BAD_CODES[col]


_generic(
    "PER170",
    "Person",
    ("NHSNOSTATUS", "GENDER", "ETHNICITY", "RELIGION", "SEXUALORIENTATION", "BAFINDICATOR", "LTCONDITION"),
    _bad_code,
    where={"NHSNOSTATUS": _w(pl.col("NHSNO").is_not_null())},
)


@register("PER180", ("LPTID",))
def _per180(ctx: Ctx, count: int, forced: str | None) -> None:
    src = ctx.pick("Person", count, rule="PER180")
    nhs = _fresh_nhs(ctx, src.size)
    rows = ctx.copy_rows("Person", src, {"LPTID": [ctx.fresh_key("PN") for _ in src], "NHSNO": nhs})
    ctx.add("PER180", "Person", rows, "LPTID")


# ------------------------------------------------------------------------- generic table rules


def _dup(rule: str, table: str, column: str, where: Callable[[Ctx], pl.Expr] | None = None) -> None:
    @register(rule, (column,))
    def inj(ctx: Ctx, count: int, forced: str | None) -> None:
        rows = ctx.pick(table, count, where(ctx) if where else None, rule)
        new = ctx.copy_rows(table, rows)
        ctx.add(rule, table, np.concatenate([rows, new]), column)


def _orphan(
    rule: str, table: str, fk: str, prefix: str, where: Callable[[Ctx], pl.Expr] | None = None
) -> None:
    @register(rule, (fk,))
    def inj(ctx: Ctx, count: int, forced: str | None) -> None:
        rows = ctx.pick(table, count, where(ctx) if where else None, rule)
        over: dict[str, list] = {fk: [ctx.fresh_key(prefix) for _ in rows]}
        if table in PK:  # a copy with a new key pointing at no parent, so the real parent keeps its child
            over[PK[table]] = [ctx.fresh_key(PK[table][0] + "N") for _ in rows]
            new = ctx.copy_rows(table, rows, over)
        else:
            ctx.set(table, fk, rows, over[fk])
            new = rows
        ctx.add(rule, table, new, fk)


def _parent_reject(ctx: Ctx, parent: str, rows: np.ndarray) -> None:
    """Reject parent rows with a rule that nothing else reads."""
    if parent == "Person":
        ctx.set("Person", "DOB", rows, f"{ctx.rp_end.year}-02-30")
        ctx.add("PER050", "Person", rows, "DOB")
    elif parent == "Referral":
        ctx.set("Referral", "ORGCODECOMM", rows, "0-0C")
        ctx.add("REF140", "Referral", rows, "ORGCODECOMM")
    elif parent == "Appointment":
        ctx.set("Appointment", "APPOINTMENTTIME", rows, "25:61")
        ctx.add("APP050", "Appointment", rows, "APPOINTMENTTIME")


def _cascade(rule: str, table: str) -> None:
    parent, fk = PARENT[table]

    @register(rule, (fk,))
    def inj(ctx: Ctx, count: int, forced: str | None) -> None:
        if table not in ctx.t:
            return
        counts = ctx.t[table].group_by(fk).len()
        one = counts.filter(pl.col("len") == 1)[fk].to_list()
        prow = ctx.pick(parent, count, pl.col(PK[parent]).is_in(one))
        if prow.size < count:  # fall back to parents with more children
            more = counts[fk].to_list()
            prow = np.concatenate(
                [prow, ctx.pick(parent, count - prow.size, pl.col(PK[parent]).is_in(more), rule)]
            )
        _parent_reject(ctx, parent, prow)
        keys = ctx.get(parent, PK[parent], prow)
        child_rows = np.flatnonzero(ctx.t[table][fk].is_in(keys).to_numpy())
        ctx.add(rule, table, child_rows, fk)


# ------------------------------------------------------------------------------- Disability

_generic("DIS010", "Disability", ("DISABILITY", "LPTID"), _blank)
_generic("DIS030", "Disability", ("DISABILITY", "LPTID"), _overlong_value("Disability"))
_orphan("DIS100", "Disability", "LPTID", "PX")
_cascade("DIS110", "Disability")
_generic("DIS120", "Disability", ("DISABILITY",), _bad_code)


@register("DIS130", ("DISABILITY",))
def _dis130(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Disability", count, rule="DIS130")
    new = ctx.copy_rows("Disability", rows)  # later copy is rejected, the first kept
    ctx.add("DIS130", "Disability", new, "DISABILITY")


@register("DIS140", ("DISABILITY",))
def _dis140(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Disability", count, ~pl.col("DISABILITY").is_in(["NN", "ZZ"]), "DIS140")
    new = ctx.copy_rows("Disability", rows, {"DISABILITY": ["NN"] * rows.size})
    ctx.add("DIS140", "Disability", new, "DISABILITY")


# --------------------------------------------------------------------------------- Referral

_DISCHARGED = pl.col("ENDDATE").is_not_null() & pl.col("ENDCODE").is_not_null()


def _childless_ref(ctx: Ctx) -> pl.Expr:
    return ctx.childless("Referral")


_generic(
    "REF010",
    "Referral",
    ("ORGCODECOMM", "REFRECDATE", "LPTID", "SERVICEID"),
    _blank,
    where={"SERVICEID": _childless_ref, "LPTID": _childless_ref},
)
_generic("REF020", "Referral", ("SOURCEREFERRAL",), _blank)
_generic(
    "REF030",
    "Referral",
    ("SOURCEREFERRAL", "SERREQACCIND", "RECURIND", "CARECLUSTER", "ENDCODE"),
    _overlong_value("Referral"),
    where={"ENDCODE": _w(_DISCHARGED)},
)
_generic(
    "REF050",
    "Referral",
    ("REFRECDATE", "OPTINDATE", "ENDDATE"),
    _bad_date("Referral"),
    where={"ENDDATE": _w(_DISCHARGED)},
)


@register("REF100", ("SERVICEID",))
def _ref100(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Referral", count, rule="REF100")
    ctx.rename("Referral", rows, [f"R {v}"[:20] for v in ctx.get("Referral", "SERVICEID", rows)])
    ctx.add("REF100", "Referral", rows, "SERVICEID")


_dup("REF110", "Referral", "SERVICEID", _childless_ref)
_orphan("REF120", "Referral", "LPTID", "PX", _childless_ref)
_cascade("REF130", "Referral")
_generic("REF140", "Referral", ("ORGCODECOMM",), _const("0-0C"))
_generic("REF150", "Referral", ("ORGCODECOMM",), _const("ZZZ99"))
_generic(
    "REF160",
    "Referral",
    ("REFRECDATE", "OPTINDATE", "ENDDATE"),
    _after_end(),
    where={
        "REFRECDATE": lambda ctx: (
            _childless_ref(ctx) & pl.col("ENDDATE").is_null() & pl.col("OPTINDATE").is_null()
        ),
        "ENDDATE": _w(_DISCHARGED),
    },
    fix={"REFRECDATE": lambda ctx, rows: ctx.set("Referral", "ONSETDATE", rows, None)},
)


@register("REF170", ("REFRECDATE",))
def _ref170(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Referral", count, pl.col("OPTINDATE").is_null(), "REF170")
    dob = ctx.lookup("Person", "LPTID", "DOB")
    vals = [(_d(dob[lpt]) - timedelta(days=30)).isoformat() for lpt in ctx.get("Referral", "LPTID", rows)]
    ctx.set("Referral", "REFRECDATE", rows, vals)
    ctx.set("Referral", "ONSETDATE", rows, None)
    ctx.add("REF170", "Referral", rows, "REFRECDATE")


_generic(
    "REF180",
    "Referral",
    ("SOURCEREFERRAL", "SERREQACCIND", "RECURIND", "CARECLUSTER", "ENDCODE"),
    _bad_code,
    where={"ENDCODE": _w(_DISCHARGED)},
)


@register("REF190", ("OPTINDATE",))
def _ref190(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Referral", count, rule="REF190")
    vals = [(_d(v) - timedelta(days=3)).isoformat() for v in ctx.get("Referral", "REFRECDATE", rows)]
    ctx.set("Referral", "OPTINDATE", rows, vals)
    ctx.add("REF190", "Referral", rows, "OPTINDATE")


_generic(
    "REF200",
    "Referral",
    ("PROVDIAG",),
    _const("F4X.1"),
)
_generic("REF210", "Referral", ("ONSETDATE",), _const("2017-13"))


@register("REF220", ("ONSETDATE",))
def _ref220(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Referral", count, rule="REF220")
    vals = []
    for v in ctx.get("Referral", "REFRECDATE", rows):
        d = _d(v)
        y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        vals.append(f"{y:04d}-{m:02d}")
    ctx.set("Referral", "ONSETDATE", rows, vals)
    ctx.add("REF220", "Referral", rows, "ONSETDATE")


_generic("REF230", "Referral", ("ORGCODEPROVIDSTEPTO",), _const("R-1"))


@register("REF240", ("ENDDATE",))
def _ref240(ctx: Ctx, count: int, forced: str | None) -> None:
    start = ctx.rp_start + timedelta(days=1)
    rows = ctx.pick(
        "Referral",
        count,
        _childless_ref(ctx) & (pl.col("REFRECDATE") >= start.isoformat()) & pl.col("OPTINDATE").is_null(),
        "REF240",
    )
    vals = [(_d(v) - timedelta(days=1)).isoformat() for v in ctx.get("Referral", "REFRECDATE", rows)]
    ctx.set("Referral", "ENDDATE", rows, vals)
    ctx.set("Referral", "ENDCODE", rows, "50")
    ctx.add("REF240", "Referral", rows, "ENDDATE")


@register("REF250", ("ENDDATE",))
def _ref250(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick(
        "Referral",
        count,
        _childless_ref(ctx)
        & (pl.col("REFRECDATE") < (ctx.rp_start - timedelta(days=1)).isoformat())
        & (pl.col("OPTINDATE").is_null() | (pl.col("OPTINDATE") < ctx.rp_start.isoformat())),
        "REF250",
    )
    ctx.set("Referral", "ENDDATE", rows, (ctx.rp_start - timedelta(days=1)).isoformat())
    ctx.set("Referral", "ENDCODE", rows, "50")
    ctx.add("REF250", "Referral", rows, "ENDDATE")


_generic("REF260", "Referral", ("ENDCODE",), _blank, where={"ENDCODE": _w(_DISCHARGED)}, report="ENDDATE")


@register("REF270", ("ENDCODE",))
def _ref270(ctx: Ctx, count: int, forced: str | None) -> None:
    att = set(ctx.t["Appointment"].filter(ATTENDED)["SERVICEID"].to_list())
    rows = ctx.pick("Referral", count, _DISCHARGED & pl.col("SERVICEID").is_in(list(att)), "REF270")
    ctx.set("Referral", "ENDCODE", rows, "50")
    ctx.set("Referral", "PROVDIAG", rows, None)  # keep it looking "not assessed"
    ctx.add("REF270", "Referral", rows, "ENDCODE")


_generic(
    "REF280",
    "Referral",
    ("PROVDIAG",),
    _blank,
    where={"PROVDIAG": _w(pl.col("ENDCODE").is_in(["46", "47", "48", "49", "96"]))},
)

# ------------------------------------------------------------------------------ Appointment


def _app_childless(ctx: Ctx) -> pl.Expr:
    return ctx.childless("Appointment")


_generic(
    "APP010",
    "Appointment",
    ("APPOINTMENT", "ATTENDANCE", "APPTYPE", "SERVICEID", "APPTID"),
    _blank,
    where={"APPTID": _app_childless, "ATTENDANCE": _w(pl.col("CANCELLATION").is_null())},
)
_generic("APP020", "Appointment", ("CONSMEDIUM",), _blank)
_generic(
    "APP030",
    "Appointment",
    (
        "STEPINTENSITY",
        "PRIMARYROLE",
        "ATTENDANCE",
        "CANCELLATION",
        "APPTYPE",
        "CONSMEDIUM",
        "FFCOMM",
        "THERTYPE1",
        "EMPSTATUS",
        "EMPSUPPORTIND",
        "PSYCHMED",
        "SSPIND",
    ),
    _overlong_value("Appointment"),
    where={
        "CANCELLATION": _w(pl.col("ATTENDANCE") == "2"),
        "ATTENDANCE": _w(pl.col("CANCELLATION").is_null()),
        "FFCOMM": _w(pl.col("CONSMEDIUM") == "01"),
        "THERTYPE1": _w(TREAT_ATT & pl.col("THERTYPE2").is_null()),
        "EMPSUPPORTIND": _w(pl.col("EMPSUPPORTREFERRAL").is_null()),
    },
)
_APP_NUM = (
    "CONTACTDURATION",
    "PHQ9_SCORE",
    "GAD7SCORE",
    "WSASWSCORE",
    "WSASHMSCORE",
    "WSASSLASCORE",
    "WSASPLASCORE",
    "WSASRSCORE",
    "AGORASCOREACC",
    "AGORASCOREALONE",
    "AGORASCORE",
    "SOCPHOBIASCORE",
    "SPECPHOBIASCORE",
    "GENANXSCORE",
    "HEALTHANXSCORE",
    "OCDSCORE",
    "PANICSCORE",
    "PTSDSCORE",
    "SOCPHOBIAINVSCORE",
)
_generic("APP040", "Appointment", _APP_NUM, _bad_number("Appointment"), where={"*": _w(ATTENDED)})
_generic(
    "APP050",
    "Appointment",
    ("APPOINTMENT", "APPOINTMENTTIME", "EMPSUPPORTREFERRAL"),
    _bad_date("Appointment"),
    where={"EMPSUPPORTREFERRAL": _w(pl.col("EMPSUPPORTIND") == "Y")},
)


@register("APP100", ("APPTID",))
def _app100(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Appointment", count, rule="APP100")
    ctx.rename("Appointment", rows, [f"A {v}"[:20] for v in ctx.get("Appointment", "APPTID", rows)])
    ctx.add("APP100", "Appointment", rows, "APPTID")


_dup("APP110", "Appointment", "APPTID", lambda ctx: _app_childless(ctx) & NOT_ATTENDED)
_orphan("APP120", "Appointment", "SERVICEID", "RX", lambda ctx: _app_childless(ctx))
_cascade("APP130", "Appointment")


def _open_last_appt(ctx: Ctx) -> pl.Expr:
    ref = ctx.t["Referral"].filter(pl.col("ENDDATE").is_null())["SERVICEID"].to_list()
    app = ctx.t["Appointment"]
    last = (
        app.with_row_index("__i")
        .filter(pl.col("SERVICEID").is_in(ref))
        .group_by("SERVICEID")
        .agg(pl.col("__i").sort_by("APPOINTMENT").last())["__i"]
        .to_list()
    )
    return pl.int_range(pl.len()).is_in(last)


_generic(
    "APP140",
    "Appointment",
    ("APPOINTMENT", "EMPSUPPORTREFERRAL"),
    _after_end(),
    where={
        "APPOINTMENT": lambda ctx: _open_last_appt(ctx) & _app_childless(ctx),
        "EMPSUPPORTREFERRAL": _w(pl.col("EMPSUPPORTIND") == "Y"),
    },
)


@register("APP150", ("APPOINTMENT",))
def _app150(ctx: Ctx, count: int, forced: str | None) -> None:
    app = ctx.t["Appointment"]
    firsts = (
        app.with_row_index("__i")
        .group_by("SERVICEID")
        .agg(pl.col("__i").sort_by("APPOINTMENT").first())["__i"]
    ).to_list()
    rows = ctx.pick("Appointment", count, pl.int_range(pl.len()).is_in(firsts), "APP150")
    rec = ctx.lookup("Referral", "SERVICEID", "REFRECDATE")
    vals = [(_d(rec[s]) - timedelta(days=1)).isoformat() for s in ctx.get("Appointment", "SERVICEID", rows)]
    ctx.set("Appointment", "APPOINTMENT", rows, vals)
    ctx.set("Appointment", "EMPSUPPORTREFERRAL", rows, None)
    ctx.add("APP150", "Appointment", rows, "APPOINTMENT")


@register("APP160", ("APPOINTMENT",))
def _app160(ctx: Ctx, count: int, forced: str | None) -> None:
    ref = ctx.t["Referral"].filter(
        pl.col("ENDDATE").is_not_null() & (pl.col("ENDDATE") < ctx.rp_end.isoformat())
    )["SERVICEID"]
    rows = ctx.pick(
        "Appointment",
        count,
        pl.col("SERVICEID").is_in(ref.to_list()) & (pl.col("APPTYPE") != "06") & NOT_ATTENDED,
        "APP160",
    )
    end = ctx.lookup("Referral", "SERVICEID", "ENDDATE")
    vals = [(_d(end[s]) + timedelta(days=1)).isoformat() for s in ctx.get("Appointment", "SERVICEID", rows)]
    ctx.set("Appointment", "APPOINTMENT", rows, vals)
    ctx.add("APP160", "Appointment", rows, "APPOINTMENT")


_generic(
    "APP170",
    "Appointment",
    ("ATTENDANCE", "APPTYPE"),
    _bad_code,
    where={"ATTENDANCE": _w(pl.col("CANCELLATION").is_null())},
)
_generic(
    "APP180",
    "Appointment",
    (
        "STEPINTENSITY",
        "PRIMARYROLE",
        "CANCELLATION",
        "CONSMEDIUM",
        "FFCOMM",
        "THERTYPE1",
        "THERTYPE2",
        "EMPSTATUS",
        "EMPSUPPORTIND",
        "PSYCHMED",
        "SSPIND",
    ),
    _bad_code,
    where={
        "CANCELLATION": _w(pl.col("ATTENDANCE") == "2"),
        "FFCOMM": _w(pl.col("CONSMEDIUM") == "01"),
        "THERTYPE1": _w(TREAT_ATT & pl.col("THERTYPE2").is_null()),
        "THERTYPE2": _w(TREAT_ATT & pl.col("THERTYPE1").is_not_null() & pl.col("THERTYPE3").is_null()),
        "EMPSUPPORTIND": _w(pl.col("EMPSUPPORTREFERRAL").is_null()),
    },
)
_generic(
    "APP190", "Appointment", ("FFCOMM",), _const("01"), where={"FFCOMM": _w(pl.col("CONSMEDIUM") == "02")}
)
_generic(
    "APP200",
    "Appointment",
    ("CANCELLATION",),
    _blank,
    where={"CANCELLATION": _w(pl.col("ATTENDANCE") == "2")},
)


@register("APP210", ("THERTYPE2",))
def _app210(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Appointment", count, TREAT_ATT & pl.col("THERTYPE1").is_not_null(), "APP210")
    ctx.set("Appointment", "THERTYPE2", rows, ctx.get("Appointment", "THERTYPE1", rows))
    ctx.add("APP210", "Appointment", rows, "THERTYPE2")


@register("APP220", ("THERTYPE1",))
def _app220(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Appointment", count, TREAT_ATT, "APP220")
    for c in ("THERTYPE1", "THERTYPE2", "THERTYPE3", "THERTYPE4"):
        ctx.set("Appointment", c, rows, None)
    ctx.add("APP220", "Appointment", rows, "THERTYPE1")


_NON_ATT_VALUES = {
    "THERTYPE1": "50",
    "PHQ9_SCORE": "12",
    "GAD7SCORE": "9",
    "WSASHMSCORE": "4",
    "OCDSCORE": "30",
}
_generic(
    "APP230",
    "Appointment",
    tuple(_NON_ATT_VALUES),
    lambda ctx, col, rows: _NON_ATT_VALUES[col],
    where={"*": _w(NOT_ATTENDED)},
)
_OUT_OF_RANGE = {
    "PHQ9_SCORE": "28",
    "GAD7SCORE": "22",
    "WSASWSCORE": "10",
    "WSASHMSCORE": "9",
    "WSASSLASCORE": "9",
    "WSASPLASCORE": "9",
    "WSASRSCORE": "9",
    "AGORASCOREACC": "5.50",
    "AGORASCOREALONE": "0.50",
    "AGORASCORE": "9",
    "SOCPHOBIASCORE": "9",
    "SPECPHOBIASCORE": "9",
    "GENANXSCORE": "15",
    "HEALTHANXSCORE": "55",
    "OCDSCORE": "169",
    "PANICSCORE": "29",
    "PTSDSCORE": "89",
    "SOCPHOBIAINVSCORE": "69",
}
_generic(
    "APP240",
    "Appointment",
    tuple(_OUT_OF_RANGE),
    lambda ctx, col, rows: _OUT_OF_RANGE[col],
    where={"*": _w(ATTENDED)},
)
_generic("APP250", "Appointment", ("PHQ9_SCORE", "GAD7SCORE"), _blank, where={"*": _w(SCORED)})


@register("APP260", ("APPOINTMENT",))
def _app260(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Appointment", count, ATTENDED & pl.col("APPTYPE").is_in(["04", "06"]).not_(), "APP260")
    new = ctx.copy_rows("Appointment", rows, {"APPTID": [ctx.fresh_key("AD") for _ in rows]})
    ctx.add("APP260", "Appointment", new, "APPOINTMENT")


@register("APP270", ("EMPSUPPORTREFERRAL",))
def _app270(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Appointment", count, pl.col("EMPSUPPORTIND") == "N", "APP270")
    ctx.set("Appointment", "EMPSUPPORTREFERRAL", rows, ctx.get("Appointment", "APPOINTMENT", rows))
    ctx.add("APP270", "Appointment", rows, "EMPSUPPORTREFERRAL")


_generic("APP280", "Appointment", ("CONTACTDURATION",), _const("500"), where={"*": _w(ATTENDED)})

# ------------------------------------------------------------------ questionnaires and pauses


def _peq_rules(prefix: str, table: str, date_col: str, time_col: str, answers: tuple[str, ...]) -> None:
    _generic(f"{prefix}010", table, ("SERVICEID", date_col), _blank)
    if prefix == "APQ":
        _generic(
            "APQ030",
            table,
            ("ASSESSMENT1", "ASSESSMENT2", "ASSESSMENT3", "SERVICEID"),
            _overlong_value(table),
        )
        _generic("APQ040", table, ("SATISFACTION",), _const("3.5"))
        _generic("APQ150", table, ("ASSESSMENT1", "ASSESSMENT2", "ASSESSMENT3"), _bad_code)
        _generic("APQ160", table, ("SATISFACTION",), _const("5"))
    else:
        _generic("TPQ030", table, ("SERVICEID",), _overlong_value(table))
        _generic("TPQ040", table, answers, _const("3.0"))
        _generic("TPQ150", table, answers, _const("5"))

        @register("TPQ160", ("TREATMENT1",))
        def _tpq160(ctx: Ctx, count: int, forced: str | None) -> None:
            rows = ctx.pick(table, count, rule="TPQ160")
            for c in answers:
                ctx.set(table, c, rows, None)
            ctx.add("TPQ160", table, rows, "TREATMENT1")

    _generic(f"{prefix}050", table, (date_col, time_col), _bad_date(table))
    _dup(f"{prefix}100", table, "SERVICEID")
    _orphan(f"{prefix}110", table, "SERVICEID", "RX")
    _cascade(f"{prefix}120", table)
    _generic(f"{prefix}130", table, (date_col,), _after_end())

    @register(f"{prefix}140", (date_col,))
    def _before(ctx: Ctx, count: int, forced: str | None) -> None:
        rule = f"{prefix}140"
        rows = ctx.pick(table, count, rule=rule)
        rec = ctx.lookup("Referral", "SERVICEID", "REFRECDATE")
        vals = [(_d(rec[s]) - timedelta(days=2)).isoformat() for s in ctx.get(table, "SERVICEID", rows)]
        ctx.set(table, date_col, rows, vals)
        ctx.add(rule, table, rows, date_col)


_peq_rules("APQ", "AssessmentPEQ", "ASSESSPEQDATE", "ASSESSPEQTIME", ())
_peq_rules("TPQ", "TreatmentPEQ", "TREATPEQDATE", "TREATPEQTIME", tuple(f"TREATMENT{i}" for i in range(1, 6)))

_generic("WTP010", "WaitingTimePause", ("PAUSESTARTDATE", "PAUSEID", "SERVICEID"), _blank)
_generic("WTP020", "WaitingTimePause", ("PAUSEREASON",), _blank)
_generic("WTP030", "WaitingTimePause", ("PAUSEREASON", "PAUSEID"), _overlong_value("WaitingTimePause"))
_generic(
    "WTP050",
    "WaitingTimePause",
    ("PAUSESTARTDATE", "PAUSEENDDATE"),
    _bad_date("WaitingTimePause"),
    where={"PAUSEENDDATE": _w(pl.col("PAUSEENDDATE").is_not_null())},
)
_generic("WTP100", "WaitingTimePause", ("PAUSEID",), _const("P 1"))


@register("WTP110", ("PAUSEID",))
def _wtp110(ctx: Ctx, count: int, forced: str | None) -> None:
    # the second pause of a referral takes the first pause's PAUSEID (dates do not overlap)
    rows = ctx.pick("WaitingTimePause", count, pl.col("PAUSEID") == "PS02", "WTP110")
    ctx.set("WaitingTimePause", "PAUSEID", rows, "PS01")
    sids = ctx.get("WaitingTimePause", "SERVICEID", rows)
    firsts = np.flatnonzero(
        (
            ctx.t["WaitingTimePause"]["SERVICEID"].is_in(sids)
            & (ctx.t["WaitingTimePause"]["PAUSEID"] == "PS01")
        ).to_numpy()
    )
    ctx.add("WTP110", "WaitingTimePause", np.sort(firsts), "PAUSEID")


_orphan("WTP120", "WaitingTimePause", "SERVICEID", "RX")
_cascade("WTP130", "WaitingTimePause")


def _last_pause(ctx: Ctx) -> pl.Expr:
    df = ctx.t["WaitingTimePause"]
    last = df.with_row_index("__i").group_by("SERVICEID").agg(pl.col("__i").max())["__i"].to_list()
    return pl.int_range(pl.len()).is_in(last)


@register("WTP140", ("PAUSEENDDATE", "PAUSESTARTDATE"))
def _wtp140(ctx: Ctx, count: int, forced: str | None) -> None:
    for col, n in _per_column(count, ("PAUSEENDDATE", "PAUSESTARTDATE"), forced).items():
        rows = ctx.pick("WaitingTimePause", n, _last_pause(ctx), "WTP140")
        ctx.set("WaitingTimePause", col, rows, (ctx.rp_end + timedelta(days=3)).isoformat())
        if col == "PAUSESTARTDATE":
            ctx.set("WaitingTimePause", "PAUSEENDDATE", rows, None)
        ctx.add("WTP140", "WaitingTimePause", rows, col)


@register("WTP150", ("PAUSESTARTDATE",))
def _wtp150(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("WaitingTimePause", count, pl.col("PAUSEID") == "PS01", "WTP150")
    rec = ctx.lookup("Referral", "SERVICEID", "REFRECDATE")
    vals = [
        (_d(rec[s]) - timedelta(days=2)).isoformat() for s in ctx.get("WaitingTimePause", "SERVICEID", rows)
    ]
    ctx.set("WaitingTimePause", "PAUSESTARTDATE", rows, vals)
    ctx.add("WTP150", "WaitingTimePause", rows, "PAUSESTARTDATE")


@register("WTP160", ("PAUSEENDDATE",))
def _wtp160(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("WaitingTimePause", count, pl.col("PAUSEENDDATE").is_not_null(), "WTP160")
    vals = [
        (_d(v) - timedelta(days=1)).isoformat() for v in ctx.get("WaitingTimePause", "PAUSESTARTDATE", rows)
    ]
    ctx.set("WaitingTimePause", "PAUSEENDDATE", rows, vals)
    ctx.add("WTP160", "WaitingTimePause", rows, "PAUSEENDDATE")


_generic("WTP170", "WaitingTimePause", ("PAUSEREASON",), _bad_code)


@register("WTP180", ("PAUSESTARTDATE",))
def _wtp180(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick(
        "WaitingTimePause", count, _last_pause(ctx) & pl.col("PAUSEENDDATE").is_not_null(), "WTP180"
    )
    new = ctx.copy_rows("WaitingTimePause", rows, {"PAUSEID": ["PS09"] * rows.size})
    ctx.add("WTP180", "WaitingTimePause", new, "PAUSESTARTDATE")


# ---------------------------------------------------------------------------- LTC/MUS pilot

_generic("LTC010", "LTCCondition", ("LTCCODE", "SERVICEID"), _blank)
_generic("LTC030", "LTCCondition", ("LTCCODE", "SERVICEID"), _overlong_value("LTCCondition"))
_orphan("LTC100", "LTCCondition", "SERVICEID", "RX")
_cascade("LTC110", "LTCCondition")
_generic("LTC120", "LTCCondition", ("LTCCODE",), _bad_code)


@register("LTC130", ("LTCCODE",))
def _ltc130(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("LTCCondition", count, rule="LTC130")
    ctx.add("LTC130", "LTCCondition", ctx.copy_rows("LTCCondition", rows), "LTCCODE")


@register("LTC140", ("LTCCODE",))
def _ltc140(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("LTCCondition", count, ~pl.col("LTCCODE").is_in(["97", "98", "99"]), "LTC140")
    ctx.add(
        "LTC140",
        "LTCCondition",
        ctx.copy_rows("LTCCondition", rows, {"LTCCODE": ["99"] * rows.size}),
        "LTCCODE",
    )


_generic("MUS010", "MUSSymptom", ("MUSCODE", "SERVICEID"), _blank)
_generic("MUS030", "MUSSymptom", ("MUSCODE", "SERVICEID"), _overlong_value("MUSSymptom"))
_orphan("MUS100", "MUSSymptom", "SERVICEID", "RX")
_cascade("MUS110", "MUSSymptom")
_generic("MUS120", "MUSSymptom", ("MUSCODE",), _bad_code)


@register("MUS130", ("MUSCODE",))
def _mus130(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("MUSSymptom", count, rule="MUS130")
    ctx.add("MUS130", "MUSSymptom", ctx.copy_rows("MUSSymptom", rows), "MUSCODE")


def _parent_attended(ctx: Ctx, attended: bool) -> pl.Expr:
    app = ctx.t["Appointment"].filter(ATTENDED if attended else NOT_ATTENDED)["APPTID"].to_list()
    return pl.col("APPTID").is_in(app)


_generic("LTA010", "LTCAppointment", ("LTCSERVICEIND", "APPTID"), _blank)
_generic("LTA030", "LTCAppointment", ("LTCSERVICEIND",), _overlong_value("LTCAppointment"))
_generic(
    "LTA040",
    "LTCAppointment",
    ("PHQ15SCORE", "IBSSSSCORE"),
    _const("1.5"),
    where={"*": lambda c: _parent_attended(c, True)},
)
_dup("LTA100", "LTCAppointment", "APPTID")
_orphan("LTA110", "LTCAppointment", "APPTID", "AX")
_cascade("LTA120", "LTCAppointment")
_generic("LTA130", "LTCAppointment", ("LTCSERVICEIND",), _bad_code)
_generic(
    "LTA140",
    "LTCAppointment",
    ("PHQ15SCORE", "IBSSSSCORE"),
    lambda ctx, col, rows: "31" if col == "PHQ15SCORE" else "501",
    where={"*": lambda c: _parent_attended(c, True)},
)
_generic(
    "LTA150",
    "LTCAppointment",
    ("PHQ15SCORE", "IBSSSSCORE"),
    lambda ctx, col, rows: "12" if col == "PHQ15SCORE" else "250",
    where={"*": lambda c: _parent_attended(c, False)},
)

_EA_CODED = (
    "EASESSIONIND",
    "WEEKHOURSWORKED",
    "SICKABSENCEIND",
    "BENEFITRECIND",
    "JSAIND",
    "ESAIND",
    "UCIND",
    "PIPIND",
    "OTHERBENEFITIND",
)
_BENEFITS = ("JSAIND", "ESAIND", "UCIND", "PIPIND", "OTHERBENEFITIND")
_generic("EA010", "EmploymentAdviser", ("EASESSIONIND", "APPTID"), _blank)
_generic(
    "EA030",
    "EmploymentAdviser",
    _EA_CODED,
    _overlong_value("EmploymentAdviser"),
    where={"BENEFITRECIND": _w(pl.col("BENEFITRECIND") != "N")},
)
_generic("EA050", "EmploymentAdviser", ("EMPSUPPORTDISCHDATE",), _bad_date("EmploymentAdviser"))
_dup("EA100", "EmploymentAdviser", "APPTID")
_orphan("EA110", "EmploymentAdviser", "APPTID", "AX")
_cascade("EA120", "EmploymentAdviser")
_generic(
    "EA150",
    "EmploymentAdviser",
    _EA_CODED,
    _bad_code,
    where={"BENEFITRECIND": _w(pl.col("BENEFITRECIND") != "N")},
)


@register("EA160", _BENEFITS)
def _ea160(ctx: Ctx, count: int, forced: str | None) -> None:
    for col, n in _per_column(count, _BENEFITS, forced).items():
        rows = ctx.pick("EmploymentAdviser", n, pl.col("BENEFITRECIND") == "N", "EA160")
        for c in _BENEFITS:
            ctx.set("EmploymentAdviser", c, rows, "Y" if c == col else "N")
        ctx.add("EA160", "EmploymentAdviser", rows, col)


@register("EA170", ("WEEKHOURSWORKED",))
def _ea170(ctx: Ctx, count: int, forced: str | None) -> None:
    app = ctx.t["Appointment"].filter(pl.col("EMPSTATUS").is_not_null() & (pl.col("EMPSTATUS") != "01"))
    rows = ctx.pick("EmploymentAdviser", count, pl.col("APPTID").is_in(app["APPTID"].to_list()), "EA170")
    ctx.set("EmploymentAdviser", "WEEKHOURSWORKED", rows, "02")
    ctx.add("EA170", "EmploymentAdviser", rows, "WEEKHOURSWORKED")


_generic("EA180", "EmploymentAdviser", ("EMPSUPPORTDISCHDATE",), _after_end())

# ------------------------------------------------------------------------------ file rules


@register("FILE022", ("NHSNO",))
def _file022(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Person", count, pl.col("NHSNO").is_not_null(), "FILE022")
    bad = []
    for v in ctx.get("Person", "NHSNO", rows):
        bad.append(v[:9] + str((int(v[9]) + 1) % 10))  # wrong check digit
    ctx.set("Person", "NHSNO", rows, bad)
    ctx.add("FILE022", "Person", rows, "NHSNO")


@register("FILE023", ("NHSNO",))
def _file023(ctx: Ctx, count: int, forced: str | None) -> None:
    rows = ctx.pick("Person", 2 * count, pl.col("NHSNO").is_not_null(), "FILE023")
    a, b = rows[0::2], rows[1::2]
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    ctx.set("Person", "NHSNO", b, ctx.get("Person", "NHSNO", a))
    ctx.add("FILE023", "Person", np.sort(np.concatenate([a, b])), "NHSNO")


def _file021(ctx: Ctx) -> None:
    """Nothing active in the RP: every referral ended before it, each with a follow-up (06) inside it."""
    shift = (ctx.rp_end - ctx.rp_start).days + 32
    for table, df in list(ctx.t.items()):
        if table in ("Header", "Person"):
            continue
        dcols = [c[0] for c in TABLES[table]["columns"] if c[1] == "date"]
        ctx.t[table] = df.with_columns(
            [
                (pl.col(c).str.to_date("%Y-%m-%d", strict=False) - pl.duration(days=shift)).cast(pl.String)
                for c in dcols
            ]
        )
    ref = ctx.t["Referral"]
    attended = ctx.t["Appointment"].filter(ATTENDED)["SERVICEID"].unique().to_list()
    new_end = (ctx.rp_start - timedelta(days=31)).isoformat()
    ctx.t["Referral"] = ref.with_columns(
        pl.when(pl.col("ENDCODE").is_null())
        .then(
            pl.when(pl.col("PROVDIAG").is_not_null())
            .then(pl.lit("46"))
            .when(pl.col("SERVICEID").is_in(attended))
            .then(pl.lit("12"))
            .otherwise(pl.lit("50"))
        )
        .otherwise(pl.col("ENDCODE"))
        .alias("ENDCODE"),
        pl.col("ENDDATE").fill_null(pl.lit(new_end)),
        pl.lit(None, dtype=pl.String).alias("ONSETDATE"),
    )
    ref = ctx.t["Referral"]
    n = ref.height
    days = (ctx.rp_end - ctx.rp_start).days + 1
    offs = ctx.rng.integers(0, days, n)
    app = ctx.t["Appointment"]
    not_seen = (ref["ENDCODE"] == "50").fill_null(False).to_list()  # keep REF270 quiet: a DNA, not a visit
    fu = pl.DataFrame(
        {
            "APPTID": [f"AF{i:07d}" for i in range(1, n + 1)],
            "SERVICEID": ref["SERVICEID"],
            "APPOINTMENT": [(ctx.rp_start + timedelta(days=int(o))).isoformat() for o in offs],
            "APPOINTMENTTIME": ["10:00:00"] * n,
            "ATTENDANCE": ["3" if x else "5" for x in not_seen],
            "APPTYPE": ["06"] * n,
            "CONSMEDIUM": ["02"] * n,
            "CONTACTDURATION": [None if x else "20" for x in not_seen],
        }
    )
    fu = fu.select(
        [pl.col(c) if c in fu.columns else pl.lit(None, dtype=pl.String).alias(c) for c in app.columns]
    )
    ctx.t["Appointment"] = pl.concat([app, fu])
    ctx.fam["Appointment"] = np.concatenate([ctx.fam["Appointment"], ctx.fam["Referral"]])
    ctx.add("FILE021", "Referral", None, "REFRECDATE")


# structural rules applied last: (rule, default targets)
_DROP_TABLES = ("WaitingTimePause", "TreatmentPEQ", "AssessmentPEQ", "Disability", "Appointment")
_DROP_COLUMNS = (
    ("Appointment", "SSPIND"),
    ("Person", "RELIGION"),
    ("Referral", "CARECLUSTER"),
    ("Disability", "DISABILITY"),
)


def _structural(ctx: Ctx, rule: str, count: int) -> None:
    if rule == "FILE010":
        for name in _DROP_TABLES[: max(1, count)]:
            ctx.t.pop(name, None)
            ctx.manifest = [f for f in ctx.manifest if f.table != name]
            ctx.add("FILE010", name, None, None)
    elif rule == "FILE012":
        for table, col in _DROP_COLUMNS[: max(1, count)]:
            ctx.t[table] = ctx.t[table].drop(col)
            ctx.manifest = [f for f in ctx.manifest if not (f.table == table and f.column == col)]
            ctx.add("FILE012", table, None, col)
    elif rule == "FILE015":
        for i in range(max(1, count)):
            name = "Notes" if i == 0 else f"Notes{i + 1}"
            ctx.t[name] = pl.DataFrame({"NOTE": ["synthetic file"]})
            ctx.add("FILE015", name, None, None)
    elif rule == "FILE016":
        tables = [t for t in ("Person", "Referral", "Appointment", "Header") if t in ctx.t]
        for i in range(max(1, count)):
            table = tables[i % len(tables)]
            col = "COMMENTS" if i < len(tables) else f"COMMENTS{i // len(tables) + 1}"
            ctx.t[table] = ctx.t[table].with_columns(pl.lit(None, dtype=pl.String).alias(col))
            ctx.add("FILE016", table, None, col)
    elif rule == "FILE020":
        for name in list(ctx.t):
            if name != "Header" and name in TABLES:
                ctx.t[name] = ctx.t[name].clear()
        ctx.manifest = [f for f in ctx.manifest if f.table == "Header"]
        ctx.add("FILE020", "Person", None, None)
        ctx.add("FILE020", "Referral", None, None)


STRUCTURAL = ("FILE010", "FILE012", "FILE015", "FILE016", "FILE020")
SUPPORTED_RULES: tuple[str, ...] = tuple(
    r for r in RULES if r in REGISTRY or r in STRUCTURAL or r == "FILE021"
)
# rules used by --error-rate: row-level, cheap, and harmless to the rest of the file
_NOT_SPRINKLED = ("PER010", "PER180", "REF240", "REF250", "APP140", "APP150", "APP160")
SPRINKLE_RULES: tuple[str, ...] = tuple(
    r
    for r in SUPPORTED_RULES
    if not r.startswith(("FILE", "HDR"))
    and r not in _NOT_SPRINKLED
    and (
        not r.endswith(("110", "120", "130"))
        or r in ("PER110", "PER120", "PER130", "REF110", "REF120", "APP110")
    )
)


def _table_present(ctx: Ctx, rule: str) -> bool:
    table = RULES[rule][2]
    return table is None or table in ctx.t


def inject_errors(
    tables: dict[str, pl.DataFrame],
    *,
    period: str,
    org: str,
    seed: int,
    inject: dict[str, int],
    error_rate: float = 0.0,
) -> tuple[dict[str, pl.DataFrame], list[Finding]]:
    ctx = Ctx(tables, period, org, seed)
    plan: dict[tuple[str, str | None], int] = {}
    for key, count in inject.items():
        rule, _, column = key.partition("@")
        rule = rule.strip().upper()
        if rule not in SUPPORTED_RULES:
            raise InjectionError(f"rule {rule} cannot be injected; supported: {', '.join(SUPPORTED_RULES)}")
        if column and column not in REGISTRY.get(rule, (None, ()))[1]:
            raise InjectionError(f"{rule} cannot be planted on column {column}")
        plan[(rule, column or None)] = plan.get((rule, column or None), 0) + int(count)
    if error_rate:
        if not 0 <= error_rate <= 1:
            raise InjectionError("error_rate must be between 0 and 1")
        n_rows = sum(df.height for name, df in tables.items() if name != "Header")
        rules = [r for r in SPRINKLE_RULES if _table_present(ctx, r)]
        counts = ctx.rng.multinomial(round(error_rate * n_rows), np.full(len(rules), 1 / len(rules)))
        for r, c in zip(rules, counts, strict=True):
            if c:
                plan[(r, None)] = plan.get((r, None), 0) + int(c)

    order = {r: i for i, r in enumerate(RULES)}
    items = sorted(plan.items(), key=lambda kv: (order[kv[0][0]], kv[0][1] or ""))
    if any(r == "FILE021" for (r, _), _c in items):
        _file021(ctx)
    for (rule, col), count in items:
        if rule in STRUCTURAL or rule == "FILE021" or count <= 0:
            continue
        if not _table_present(ctx, rule):
            raise InjectionError(f"{rule} needs table {RULES[rule][2]}, which this profile/option set lacks")
        REGISTRY[rule][0](ctx, count, col)
    for (rule, _col), count in items:
        if rule in STRUCTURAL:
            _structural(ctx, rule, count)
    ctx.manifest.sort(
        key=lambda f: (order.get(f.rule_id, 10**6), f.table or "", f.row_number or 0, f.column or "")
    )
    return ctx.t, ctx.manifest
