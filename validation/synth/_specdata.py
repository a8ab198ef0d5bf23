"""The data set in the plain shapes the generator uses, read from the one definition (validation.dataset)."""

from __future__ import annotations

from validation.dataset import DATASET

# table -> prefix, parent, fk, key, columns (name, type, length, precision, scale, M/R/O, codelist, format, range)
TABLES: dict[str, dict] = {
    name: {
        "prefix": t.prefix,
        "parent": t.parent,
        "fk": t.fk,
        "key": tuple(t.row_key),
        "columns": tuple(
            (
                c.name,
                c.type.value,
                c.length,
                c.precision,
                c.scale,
                c.obligation.value,
                c.codelist,
                c.format,
                tuple(c.range) if c.range else None,
            )
            for c in t.columns
        ),
    }
    for name, t in DATASET.tables.items()
}
CODELISTS: dict[str, tuple[str, ...]] = {name: tuple(cl.codes) for name, cl in DATASET.codelists.items()}
CODE_ATTRIBUTES: dict[str, dict[str, dict[str, str]]] = {
    name: dict(cl.attributes) for name, cl in DATASET.codelists.items() if cl.attributes
}
PROFILES: dict[str, dict] = {
    pid: {
        "idb_version": p.idb_version,
        "required": tuple(p.required_tables),
        "optional": tuple(p.optional_tables),
    }
    for pid, p in DATASET.profiles.items()
}
# rule id -> severity, stage, table, columns, report ('first' or 'each')
RULES: dict[str, tuple] = {
    rid: (r.severity.value, r.stage_label, r.table, tuple(r.columns), "each" if r.each else "first")
    for rid, r in DATASET.rules.items()
}
FORMATS: dict[str, str] = dict(DATASET.formats)
