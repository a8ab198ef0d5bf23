"""HEADER and PROFILE stages (spec 6.1 stages 3 and 4): table presence and structure, Header rules."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from validation.dataset import DATASET
from validation.dataset.schema import ColumnType, Profile, Stage, Table
from validation.engine.common import OK, D, Finding, N, period_bounds
from validation.engine.prepare import PreparedTable, prepare_table
from validation.model import ROW, RawTable, UploadContext

LONDON = ZoneInfo("Europe/London")
LTC_PILOT_FROM = datetime(2017, 3, 3, 0, 0, tzinfo=LONDON)

# FILE014: Access data types (as mdbtools names them, normalised by ``access_type_key``) allowed per logical type.
ACCESS_COMPATIBLE: dict[ColumnType, frozenset[str]] = {
    ColumnType.TEXT: frozenset({"text", "memo"}),
    ColumnType.INTEGER: frozenset({"byte", "integer", "long integer"}),
    ColumnType.DECIMAL: frozenset({"single", "double", "decimal", "numeric", "currency"}),
    ColumnType.DATE: frozenset({"datetime"}),
    ColumnType.TIME: frozenset({"datetime", "text"}),
}
_ACCESS_ALIASES = {
    "date/time": "datetime",
    "short text": "text",
    "long text": "memo",
    "memo/hyperlink": "memo",  # mdbtools cannot tell Memo from Hyperlink; read as Memo
    "long": "long integer",
    "int": "integer",
    "float": "single",
}


def access_type_key(name: str) -> str:
    key = re.sub(r"\s*\(.*\)\s*$", "", name.strip().lower())
    return _ACCESS_ALIASES.get(key, key)


def access_compatible(ctype: ColumnType, access_type: str | None) -> bool:
    if access_type is None:
        return True
    return access_type_key(access_type) in ACCESS_COMPATIBLE[ctype]


def structure_findings(raw: RawTable, table: Table, stage: Stage) -> list[Finding]:
    """FILE012, FILE013, FILE014 for one present table."""
    out: list[Finding] = []
    headers = raw.headers
    present = set(headers)
    for col in table.columns:
        if col.name not in present:
            out.append(Finding("FILE012", stage, table.name, col.name))
    counts = Counter(h for h in headers if h)
    seen: set[str] = set()
    for i, h in enumerate(headers):
        if h and counts[h] > 1 and h not in seen:
            seen.add(h)
            out.append(Finding("FILE013", stage, table.name, h, column_order=i))
    if raw.access_types is not None:
        done: set[str] = set()
        for i, h in enumerate(headers):
            if h in table.column_names and h not in done:
                done.add(h)
                at = raw.access_types[i] if i < len(raw.access_types) else None
                if not access_compatible(table.column(h).type, at):
                    out.append(Finding("FILE014", stage, table.name, h, value=at))
    return out


def extra_column_findings(raw: RawTable, table: Table) -> list[Finding]:
    """FILE016: non-blank header names not defined for the table (one per name, header order)."""
    out: list[Finding] = []
    seen: set[str] = set()
    for i, h in enumerate(raw.headers):
        if h and h not in table.column_names and h not in seen:
            seen.add(h)
            out.append(Finding("FILE016", Stage.PROFILE, table.name, h, column_order=i))
    return out


def tables_by_name(raw_tables: list[RawTable]) -> dict[str, list[RawTable]]:
    out: dict[str, list[RawTable]] = {}
    for t in raw_tables:
        out.setdefault(t.name, []).append(t)
    return out


class HeaderOutcome:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.header: PreparedTable | None = None
        self.profile: Profile | None = None


def _value(header: PreparedTable, col: str) -> str | None:
    return header.frame.get_column(col)[0]


def header_stage(raw_tables: list[RawTable], *, skip_blank_rows: bool) -> HeaderOutcome:
    res = HeaderOutcome()
    table = DATASET.tables["Header"]
    found = tables_by_name(raw_tables).get("Header", [])
    if not found:
        res.findings.append(Finding("FILE010", Stage.HEADER, "Header"))
        return res
    if len(found) > 1:
        res.findings.append(Finding("FILE011", Stage.HEADER, "Header"))
    res.findings.extend(structure_findings(found[0], table, Stage.HEADER))
    if res.findings:
        return res
    header = prepare_table(found[0], table, skip_blank_rows=skip_blank_rows)
    if header.height != 1:
        res.findings.append(Finding("HDR010", Stage.HEADER, "Header"))
        return res
    res.header = header
    row = int(header.frame.get_column(ROW)[0])
    version = header.frame.get_column("IDBVERSION" + N)[0]
    profile = DATASET.profile_for_version(version) if version is not None else None
    if profile is None:
        res.findings.append(
            Finding("HDR020", Stage.HEADER, "Header", "IDBVERSION", row, _value(header, "IDBVERSION"))
        )
        return res
    res.profile = profile
    return res


def profile_stage(
    raw_tables: list[RawTable], profile: Profile, header: PreparedTable, ctx: UploadContext
) -> tuple[list[Finding], dict[str, RawTable]]:
    """Stage 4. Returns the findings and the raw table to use for every present table of the profile."""
    out: list[Finding] = []
    by_name = tables_by_name(raw_tables)
    chosen: dict[str, RawTable] = {"Header": by_name["Header"][0]}
    for name in profile.tables:
        if name == "Header":
            continue
        found = by_name.get(name, [])
        if not found:
            if name in profile.required_tables:
                out.append(Finding("FILE010", Stage.PROFILE, name))
            continue
        if len(found) > 1:
            out.append(Finding("FILE011", Stage.PROFILE, name))
        chosen[name] = found[0]
        out.extend(structure_findings(found[0], DATASET.tables[name], Stage.PROFILE))
    for t in raw_tables:
        if t.name not in profile.tables and not t.name.startswith("MSys"):
            out.append(Finding("FILE015", Stage.PROFILE, t.name))
    for name, raw in chosen.items():
        out.extend(extra_column_findings(raw, DATASET.tables[name]))
    out.extend(header_context_findings(header, profile, ctx))
    return out, chosen


def header_context_findings(header: PreparedTable, profile: Profile, ctx: UploadContext) -> list[Finding]:
    """HDR030-HDR080 on the single Header row."""
    out: list[Finding] = []
    f = header.frame
    row = int(f.get_column(ROW)[0])

    def hdr(rule: str, col: str) -> Finding:
        return Finding(rule, Stage.PROFILE, "Header", col, row, _value(header, col))

    if profile.idb_version == "1.5.4":
        if ctx.received_at < LTC_PILOT_FROM:
            out.append(hdr("HDR030", "IDBVERSION"))
        entry = ctx.register.get(ctx.org_code)
        if entry is None or not entry.ltc_mus_pilot:
            out.append(hdr("HDR040", "IDBVERSION"))
    org = f.get_column("ORGCODEPROVIDER" + N)[0]
    if org is None or not re.fullmatch(DATASET.formats["ORG_PROVIDER"], org):
        out.append(hdr("HDR050", "ORGCODEPROVIDER"))
    elif org != ctx.org_code.upper():
        out.append(hdr("HDR060", "ORGCODEPROVIDER"))

    start: date | None = f.get_column("START_DATE" + D)[0] if f.get_column("START_DATE" + OK)[0] else None
    end: date | None = f.get_column("END_DATE" + D)[0] if f.get_column("END_DATE" + OK)[0] else None
    bad_start = start is None or start.day != 1
    bad_end = end is None
    if start is not None and end is not None:
        bad_end = end != period_bounds(f"{start.year:04d}-{start.month:02d}")[1]
    if bad_start:
        out.append(hdr("HDR070", "START_DATE"))
    if bad_end:
        out.append(hdr("HDR070", "END_DATE"))
    rp_start, rp_end = period_bounds(ctx.period)
    if not bad_start and start != rp_start:
        out.append(hdr("HDR080", "START_DATE"))
    if not bad_end and end != rp_end:
        out.append(hdr("HDR080", "END_DATE"))
    return out
