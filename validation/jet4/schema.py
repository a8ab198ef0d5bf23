"""Table and column definitions for the Jet 4 writer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum


class AccessType(IntEnum):
    """Jet 4 column type codes (the byte stored in the table definition)."""

    BOOLEAN = 0x01  # Yes/No, kept in the row's null mask
    BYTE = 0x02
    INTEGER = 0x03  # 16-bit
    LONG = 0x04  # Long Integer, 32-bit
    CURRENCY = 0x05  # 64-bit integer of 1/10000
    SINGLE = 0x06
    DOUBLE = 0x07
    DATETIME = 0x08
    TEXT = 0x0A  # up to 255 characters
    MEMO = 0x0C  # long text


# fixed size in the row, in bytes (BOOLEAN takes no room: its value is the null-mask bit)
FIXED_SIZE: dict[AccessType, int] = {
    AccessType.BOOLEAN: 1,
    AccessType.BYTE: 1,
    AccessType.INTEGER: 2,
    AccessType.LONG: 4,
    AccessType.CURRENCY: 8,
    AccessType.SINGLE: 4,
    AccessType.DOUBLE: 8,
    AccessType.DATETIME: 8,
}

# Names the catalog index (MSysObjects.ParentIdName) can be written for: see writer.sort_key_text.
TABLE_NAME = re.compile(r"^[A-Za-z]{1,64}$")
COLUMN_NAME = re.compile(r"^[^.!`\[\]\x00-\x1f]{1,64}$")


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: AccessType
    length: int | None = None  # Text: maximum characters (1-255), default 255

    @property
    def is_fixed(self) -> bool:
        return self.type in FIXED_SIZE

    @property
    def text_length(self) -> int:
        return self.length or 255


def Text(name: str, length: int = 255) -> ColumnDef:
    if not 1 <= length <= 255:
        raise ValueError(f"Text({length}) for {name!r}: Access Text holds 1 to 255 characters")
    return ColumnDef(name, AccessType.TEXT, length)


def Memo(name: str) -> ColumnDef:
    return ColumnDef(name, AccessType.MEMO)


def Byte(name: str) -> ColumnDef:
    return ColumnDef(name, AccessType.BYTE)


def Integer(name: str) -> ColumnDef:
    return ColumnDef(name, AccessType.INTEGER)


def Long(name: str) -> ColumnDef:
    return ColumnDef(name, AccessType.LONG)


def Single(name: str) -> ColumnDef:
    return ColumnDef(name, AccessType.SINGLE)


def Double(name: str) -> ColumnDef:
    return ColumnDef(name, AccessType.DOUBLE)


def Currency(name: str) -> ColumnDef:
    return ColumnDef(name, AccessType.CURRENCY)


def DateTime(name: str) -> ColumnDef:
    return ColumnDef(name, AccessType.DATETIME)


def Boolean(name: str) -> ColumnDef:
    return ColumnDef(name, AccessType.BOOLEAN)


@dataclass(frozen=True)
class TableDef:
    name: str
    columns: tuple[ColumnDef, ...]

    def __post_init__(self) -> None:
        if not TABLE_NAME.match(self.name) or self.name.lower().startswith("msys"):
            raise ValueError(
                f"table name {self.name!r}: use 1-64 ASCII letters or spaces, starting with a letter "
                "(the catalog index is only written for such names), not MSys*"
            )
        if not 1 <= len(self.columns) <= 255:
            raise ValueError(f"table {self.name!r}: 1 to 255 columns")
        seen: set[str] = set()
        for c in self.columns:
            if not COLUMN_NAME.match(c.name):
                raise ValueError(f"column name {c.name!r} in {self.name!r} is not allowed in Access")
            if c.name.lower() in seen:
                raise ValueError(f"duplicate column {c.name!r} in {self.name!r} (Access ignores case)")
            seen.add(c.name.lower())
