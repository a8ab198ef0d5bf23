"""The rule catalogue as users read it (spec 6.3, 6.4): each rule with its condition in plain words,
what its severity means, its columns and an example of a failing value with how to fix it.

Pure Python over the data-set definition; no Django. Examples and fixes are generated from the kind of
rule where the rule is generic (x010 mandatory, x020 required, x030 length, x040 number, x050 date or
time, code-list, range, duplicate, orphan and cascade rules) and come from ``reporting.rule_help`` for
the table-specific rules (x100+ and the FILE/HDR rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from validation.dataset import DATASET
from validation.dataset.schema import Column, ColumnType, DataSet, RuleSpec, Severity

from .rule_help import RULE_HELP

# Spec 6.3, in words a provider can act on.
SEVERITY_MEANINGS: dict[str, str] = {
    Severity.FILE_REJECT: "The whole submission is rejected: nothing is loaded and it never becomes live.",
    Severity.GROUP_REJECT: (
        "The row and, by cascade, all its descendants are rejected (duplicate key, orphan, or rejected parent)."
    ),
    Severity.RECORD_REJECT: "The row is rejected; its descendants are rejected by cascade.",
    Severity.WARNING: "The row (or file) is loaded; the finding is reported so the data can be improved.",
}

# NHS.UK tag colour per severity (nhsuk-tag modifiers).
SEVERITY_TAGS: dict[str, str] = {
    Severity.FILE_REJECT: "nhsuk-tag--red",
    Severity.GROUP_REJECT: "nhsuk-tag--orange",
    Severity.RECORD_REJECT: "nhsuk-tag--yellow",
    Severity.WARNING: "nhsuk-tag--grey",
}

OBLIGATION_LABELS = {"M": "Mandatory", "R": "Required", "O": "Optional"}


class RuleKind(StrEnum):
    MANDATORY = "mandatory"  # x010
    REQUIRED = "required"  # x020
    LENGTH = "length"  # x030
    NUMBER = "number"  # x040
    DATE = "date"  # x050
    CODELIST = "codelist"
    RANGE = "range"
    DUPLICATE = "duplicate"
    ORPHAN = "orphan"
    CASCADE = "cascade"
    SPECIFIC = "specific"  # hand-written help (rule_help.RULE_HELP)


# Spec 6.2 items 4 and 5 name these rules; code-list and range rules are listed in 6.4 / 5.31.
DUPLICATE_RULES = frozenset(
    {
        "PER110",
        "REF110",
        "APP110",
        "APQ100",
        "TPQ100",
        "WTP110",
        "LTA100",
        "EA100",
        "DIS130",
        "LTC130",
        "MUS130",
    }
)
ORPHAN_RULES = frozenset(
    {"DIS100", "REF120", "APP120", "APQ110", "TPQ110", "WTP120", "LTC100", "MUS100", "LTA110", "EA110"}
)
CASCADE_RULES = frozenset(
    {"DIS110", "REF130", "APP130", "APQ120", "TPQ120", "WTP130", "LTC110", "MUS110", "LTA120", "EA120"}
)
CODELIST_RULES = frozenset(
    {
        "PER170",
        "DIS120",
        "REF180",
        "APP170",
        "APP180",
        "APQ150",
        "WTP170",
        "LTC120",
        "MUS120",
        "LTA130",
        "EA150",
    }
)
RANGE_RULES = frozenset({"APP240", "APQ160", "TPQ150", "LTA140"})
_GENERIC_SUFFIX = {
    "010": RuleKind.MANDATORY,
    "020": RuleKind.REQUIRED,
    "030": RuleKind.LENGTH,
    "040": RuleKind.NUMBER,
    "050": RuleKind.DATE,
}


def rule_kind(rule: RuleSpec) -> RuleKind:
    if rule.id.startswith(("FILE", "HDR")):
        return RuleKind.SPECIFIC
    if rule.id in DUPLICATE_RULES:
        return RuleKind.DUPLICATE
    if rule.id in ORPHAN_RULES:
        return RuleKind.ORPHAN
    if rule.id in CASCADE_RULES:
        return RuleKind.CASCADE
    if rule.id in CODELIST_RULES:
        return RuleKind.CODELIST
    if rule.id in RANGE_RULES:
        return RuleKind.RANGE
    return _GENERIC_SUFFIX.get(rule.id[-3:], RuleKind.SPECIFIC)


# ------------------------------------------------------------------------------------- columns


def type_label(col: Column) -> str:
    if col.type is ColumnType.TEXT:
        return f"text({col.length})"
    if col.type is ColumnType.INTEGER:
        return f"integer({col.length})"
    if col.type is ColumnType.DECIMAL:
        return f"decimal({col.precision},{col.scale})"
    return str(col.type)


def column_rules_label(col: Column) -> str:
    """The spec 3.5 "Code list / format / range" cell, e.g. "Gender" or "format ID" or "range 0-27"."""
    parts: list[str] = []
    if col.codelist:
        parts.append(col.codelist)
    if col.format:
        parts.append(f"format {col.format}")
    if col.range:
        parts.append(f"range {col.range[0]}-{col.range[1]}")
    return " / ".join(parts)


@dataclass(frozen=True)
class ColumnInfo:
    table: str
    name: str
    type: str
    obligation: str
    obligation_label: str
    rules: str
    key: str
    description: str


def column_info(table: str, col: Column) -> ColumnInfo:
    return ColumnInfo(
        table=table,
        name=col.name,
        type=type_label(col),
        obligation=str(col.obligation),
        obligation_label=OBLIGATION_LABELS[str(col.obligation)],
        rules=column_rules_label(col),
        key=col.key or "",
        description=col.description,
    )


# ------------------------------------------------------------------------------------- help


@dataclass(frozen=True)
class CodeListInfo:
    name: str
    title: str
    columns: tuple[str, ...]
    codes: tuple[tuple[str, str, str], ...]  # (code, meaning, DQ kind)


@dataclass(frozen=True)
class RuleHelp:
    example: str
    fix: str
    code_lists: tuple[CodeListInfo, ...] = ()
    ranges: tuple[tuple[str, str, str], ...] = ()  # (column, low, high)


@dataclass(frozen=True)
class RuleEntry:
    rule: RuleSpec
    kind: RuleKind
    severity_meaning: str
    severity_tag: str
    columns: tuple[ColumnInfo, ...]
    help: RuleHelp
    table_label: str = field(default="")


def _columns(rule: RuleSpec, dataset: DataSet) -> list[Column]:
    table = dataset.tables.get(rule.table or "")
    if table is None:
        return []
    out = []
    for name in rule.columns:
        try:
            out.append(table.column(name))
        except KeyError:
            continue
    return out


def _too_long(col: Column) -> str:
    n = (col.length or 1) + 1
    if col.format == "ID" or col.key:
        return ("P" + "0" * n)[:n]
    return "X" * n


def _bad_number(col: Column) -> str:
    if col.type is ColumnType.DECIMAL:
        return "1." + "5" * ((col.scale or 0) + 1)
    return "12a"


def _invalid_code(col: Column, dataset: DataSet) -> str:
    codes = set(dataset.codelists[col.codelist].codes) if col.codelist else set()
    width = min(col.length or 2, 2)
    for ch in "QJ8765":
        candidate = ch * width
        if candidate not in codes:
            return candidate
    return "?" * width  # pragma: no cover - every list misses "QQ"


def _code_list_info(cols: list[Column], dataset: DataSet) -> tuple[CodeListInfo, ...]:
    by_list: dict[str, list[str]] = {}
    for col in cols:
        if col.codelist:
            by_list.setdefault(col.codelist, []).append(col.name)
    infos = []
    for name, col_names in by_list.items():
        cl = dataset.codelists[name]
        codes = tuple(
            (code, meaning, "default" if code in cl.defaults else "other" if code in cl.others else "valid")
            for code, meaning in cl.codes.items()
        )
        infos.append(CodeListInfo(name=name, title=cl.title, columns=tuple(col_names), codes=codes))
    return tuple(infos)


def _out_of_range(col: Column) -> str:
    assert col.range is not None
    high = col.range[1]
    if col.type is ColumnType.DECIMAL:
        return f"{float(high) + 0.5:.2f}"
    return str(int(high) + 1)


def _a(word: str) -> str:
    """ "a Person row" / "an Appointment row"."""
    return f"an {word}" if word[:1].upper() in "AEIOU" else f"a {word}"


def _an(word: str) -> str:
    """ "A Person row" / "An Appointment row" at the start of a sentence."""
    text = _a(word)
    return text[0].upper() + text[1:]


def _plain_columns(cols: list[Column]) -> str:
    names = [c.name for c in cols]
    if len(names) <= 1:
        return names[0] if names else "the column"
    return ", ".join(names[:-1]) + " or " + names[-1]


def generic_help(rule: RuleSpec, kind: RuleKind, dataset: DataSet = DATASET) -> RuleHelp | None:
    """Example and fix generated from the kind of rule; None for SPECIFIC rules."""
    cols = _columns(rule, dataset)
    first = cols[0] if cols else None
    table = rule.table or "the table"
    parent = dataset.tables[table].parent if table in dataset.tables else None
    fk = dataset.tables[table].fk if table in dataset.tables else None
    if kind is RuleKind.MANDATORY and first is not None:
        return RuleHelp(
            example=f"{_an(table)} row whose {first.name} is empty (or only spaces).",
            fix=f"Every {table} row must hold a value in {_plain_columns(cols)}. "
            "Fill in the missing item in your system and send the file again.",
        )
    if kind is RuleKind.REQUIRED and first is not None:
        codes = _code_list_info(cols, dataset)
        defaults = dataset.codelists[first.codelist].defaults if first.codelist else ()
        tip = (
            f" If the value really is not known, use a 'not known' or 'not stated' code ({', '.join(defaults)})."
            if defaults
            else ""
        )
        return RuleHelp(
            example=f"{_an(table)} row whose {first.name} is empty.",
            fix=f"The row is loaded, but {first.name} should be recorded.{tip}",
            code_lists=codes,
        )
    if kind is RuleKind.LENGTH and first is not None:
        value = _too_long(first)
        return RuleHelp(
            example=f"{first.name} = '{value}' ({len(value)} characters; {type_label(first)} allows "
            f"{first.length}).",
            fix="Shorten the value to the column's maximum length (see the columns below). Codes must be "
            "sent exactly as listed, without extra characters or descriptions.",
        )
    if kind is RuleKind.NUMBER and first is not None:
        value = _bad_number(first)
        return RuleHelp(
            example=f"{first.name} = '{value}' ({type_label(first)}).",
            fix="Send a plain unsigned number: digits only, no sign, letters, spaces or thousands separators; "
            "for decimals use '.' and no more decimal places than the column allows.",
        )
    if kind is RuleKind.DATE and first is not None:
        is_time = first.type is ColumnType.TIME
        value = "25:00" if is_time else "2017-02-30"
        return RuleHelp(
            example=f"{first.name} = '{value}' ({'no such time' if is_time else 'no such date'}).",
            fix="Send times as HH:MM or HH:MM:SS (24-hour clock)."
            if is_time
            else "Send dates as YYYY-MM-DD (e.g. 2017-11-30). The date must exist and be 1890-01-01 or later; "
            "times use HH:MM or HH:MM:SS.",
        )
    if kind is RuleKind.CODELIST and first is not None:
        value = _invalid_code(first, dataset)
        return RuleHelp(
            example=f"{first.name} = '{value}', which is not in the {first.codelist} code list.",
            fix="Use one of the codes listed below (compared after trimming and upper-casing). Map local "
            "codes to the national codes in your system's extract."
            + (
                " This code list rejects the row when the code is wrong."
                if rule.severity is not Severity.WARNING
                else " The row is still loaded, but the value counts as invalid in the data quality summary."
            ),
            code_lists=_code_list_info(cols, dataset),
        )
    if kind is RuleKind.RANGE and first is not None:
        ranges = tuple((c.name, c.range[0], c.range[1]) for c in cols if c.range)
        return RuleHelp(
            example=f"{first.name} = '{_out_of_range(first)}' (valid range {first.range[0]}-{first.range[1]})."
            if first.range
            else f"{first.name} outside its range.",
            fix="Check the score was transcribed correctly (for example a total entered in an item column). "
            "The row is loaded but the score is ignored by derivations.",
            ranges=ranges,
        )
    if kind is RuleKind.DUPLICATE:
        key = " and ".join(rule.columns) or "the row key"
        if rule.severity is Severity.GROUP_REJECT:
            return RuleHelp(
                example=f"Two {table} rows with the same {key}.",
                fix="Each row needs its own key. The portal cannot tell which copy is right, so every copy is "
                "rejected: remove the duplicate or give the rows distinct identifiers, then send the file again.",
            )
        return RuleHelp(
            example=f"Two {table} rows with the same {key}.",
            fix="The first row is kept and the later copies are rejected. Remove the repeated rows from the "
            "extract.",
        )
    if kind is RuleKind.ORPHAN:
        return RuleHelp(
            example=f"{_an(table)} row whose {fk or rule.columns[0]} is not found in the {parent} table.",
            fix=f"Include the {parent} row this {table} row belongs to (with exactly the same identifier, "
            "including upper and lower case), or remove the row.",
        )
    if kind is RuleKind.CASCADE:
        return RuleHelp(
            example=f"{_an(table)} row whose {parent} row was rejected (for example by a duplicate key or a "
            "mandatory item left blank).",
            fix=f"Nothing is wrong with this row itself: fix the findings of its {parent} row (see the same "
            "report) and this row will be accepted with it.",
        )
    return None


def rule_help(rule_id: str, dataset: DataSet = DATASET) -> RuleHelp:
    rule = dataset.rules[rule_id]
    kind = rule_kind(rule)
    if rule_id in RULE_HELP:
        example, fix = RULE_HELP[rule_id]
        generated = generic_help(rule, kind, dataset) if kind is not RuleKind.SPECIFIC else None
        cols = _columns(rule, dataset)
        return RuleHelp(
            example=example,
            fix=fix,
            code_lists=generated.code_lists if generated else _code_list_info(cols, dataset),
            ranges=generated.ranges if generated else tuple((c.name, *c.range) for c in cols if c.range),  # type: ignore[misc]
        )
    generated = generic_help(rule, kind, dataset)
    if generated is None:
        raise KeyError(f"no help text for {rule_id}")
    return generated


def rule_entry(rule_id: str, dataset: DataSet = DATASET) -> RuleEntry:
    rule = dataset.rules[rule_id]
    cols = _columns(rule, dataset)
    return RuleEntry(
        rule=rule,
        kind=rule_kind(rule),
        severity_meaning=SEVERITY_MEANINGS[rule.severity],
        severity_tag=SEVERITY_TAGS[rule.severity],
        columns=tuple(column_info(rule.table or "", c) for c in cols),
        help=rule_help(rule_id, dataset),
        table_label=rule.table or "File level",
    )


# ------------------------------------------------------------------------------------- list


FILE_LEVEL = "-"  # filter value for rules without a table


def rule_rows(*, table: str = "", severity: str = "", dataset: DataSet = DATASET) -> list[RuleSpec]:
    """Catalogue rules in catalogue order, filtered by table (``FILE_LEVEL`` = no table) and severity."""
    out = []
    for rule in dataset.rules.values():
        if table == FILE_LEVEL and rule.table:
            continue
        if table and table != FILE_LEVEL and rule.table != table:
            continue
        if severity and rule.severity != severity:
            continue
        out.append(rule)
    return out


def table_choices(dataset: DataSet = DATASET) -> list[tuple[str, str]]:
    return [("", "All tables"), (FILE_LEVEL, "File level (no table)")] + [(t, t) for t in dataset.tables]


def severity_choices() -> list[tuple[str, str]]:
    return [("", "All severities")] + [(s.value, s.value) for s in Severity]
