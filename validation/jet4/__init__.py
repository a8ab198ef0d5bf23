"""A pure-Python Jet 4 (.mdb, Access 2000-2003) writer: tables of Text, Memo, numbers and dates, with rows.

    from validation.jet4 import TableDef, Text, Long, Double, DateTime, write_mdb

    write_mdb("out.mdb", [TableDef("People", (Text("Name", 50), Long("Age")))], {"People": [("Ann", 41)]})

See :mod:`validation.jet4.writer` for the format and what is left out.
"""

from .schema import (
    AccessType,
    Boolean,
    Byte,
    ColumnDef,
    Currency,
    DateTime,
    Double,
    Integer,
    Long,
    Memo,
    Single,
    TableDef,
    Text,
)
from .writer import Jet4Error, datetime_to_double, encode_text, write_mdb

__all__ = [
    "AccessType",
    "Boolean",
    "Byte",
    "ColumnDef",
    "Currency",
    "DateTime",
    "Double",
    "Integer",
    "Jet4Error",
    "Long",
    "Memo",
    "Single",
    "TableDef",
    "Text",
    "datetime_to_double",
    "encode_text",
    "write_mdb",
]
