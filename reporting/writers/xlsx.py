"""Streaming XLSX writer for reports and extracts: sheet XML built with vectorised polars string operations.

A small OOXML writer of its own (no per-cell Python calls): each sheet's rows are rendered 100,000 at a
time as XML text by polars expressions and streamed into the ZIP entry, so memory stays bounded and a
million findings take seconds, not minutes. Output semantics are those of the former xlsxwriter
(``constant_memory``) writer:

- every text cell is an inline string (``t="inlineStr"``), never a number, date or formula, so NHS
  numbers, codes such as ``01``, values such as ``1E5`` or ``2017-11-20`` and text such as
  ``=cmd|' /C calc'!A0`` stay literal strings; only columns declared numeric (row numbers, counts) are
  numbers; null and ``""`` leave the cell empty;
- text is escaped as OOXML requires and as xlsxwriter did: a literal ``_xHHHH_`` becomes ``_x005F_xHHHH_``,
  control characters ``_xHHHH_``, then ``&``, ``<``, ``>`` as XML entities, so Excel shows the text as it was;
- the header row is bold and frozen, with an autofilter over the written rows and set column widths;
- hyperlinks (``links``) use Excel's "Hyperlink" cell style, up to ``EXCEL_MAX_URLS`` per sheet.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, BinaryIO
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr

import polars as pl

# Excel limits.
EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, header row included
EXCEL_MAX_CELL_CHARS = 32_767  # characters per cell; longer text is cut (documented)
EXCEL_MAX_URLS = 65_530  # hyperlinks per worksheet; further cells are written as plain strings
_CHUNK_ROWS = 100_000  # rows rendered to XML at a time

TEXT = "text"
NUMBER = "number"

_BOLD, _LINK = 1, 2  # cellXfs indexes in styles.xml
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed entry times: the same content gives the same bytes
_RE_ESCAPED = re.compile("(_x[0-9a-fA-F]{4}_)")
_RE_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_CONTROL_CHARS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20))] + ["\ufffe", "\uffff"]
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def escape_text(text: str) -> str:
    """One cell's text as xlsxwriter wrote it: OOXML ``_xHHHH_`` escapes, then XML entities."""
    text = _RE_ESCAPED.sub(r"_x005F\1", text)
    text = _RE_CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped(values: pl.Series) -> pl.Series:
    """``escape_text`` over a String Series: vectorised, with the rare control characters done in Python."""
    out = values
    if values.str.contains("_x", literal=True).any():
        out = out.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F$1")
    for ch, ent in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        if values.str.contains(ch, literal=True).any():
            out = out.str.replace_all(ch, ent, literal=True)
    control = values.str.contains_any(_CONTROL_CHARS).fill_null(False)
    if control.any():
        idx = control.arg_true()
        fixed = [escape_text(v) for v in values.gather(idx).to_list()]
        out = out.scatter(idx, pl.Series(fixed, dtype=pl.String))
    return out


def column_letter(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        name = chr(65 + rem) + name
    return name


def _excel_width(width: float) -> float:
    """A width in characters as xlsxwriter stored it (pixels for 7-pixel digits, then back to characters)."""
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return (pixels * 256 // 7) / 256.0


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


class _Sheet:
    def __init__(self, name: str, index: int) -> None:
        self.name = name
        self.index = index
        self.links: list[tuple[str, str]] = []  # (cell ref, url)
        self.autofilter: str | None = None


class Workbook:
    """A write-only XLSX package streamed into ``out`` (need not be seekable); sheets are written whole,
    one after another. Use through ``open_workbook``."""

    def __init__(self, out: BinaryIO) -> None:
        self._zf = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self._sheets: list[_Sheet] = []
        self._properties: dict[str, Any] = {}
        self.shared: dict[str, int] = {}  # shared string table: escaped text -> index
        self._shared_refs = 0

    def share(self, escaped: pl.Series) -> pl.Series:
        """Shared-string indexes (as text) for already escaped values; new values join the table."""
        for v in escaped.drop_nulls().unique(maintain_order=True).to_list():
            if v not in self.shared:
                self.shared[v] = len(self.shared)
        self._shared_refs += escaped.len() - escaped.null_count()
        return escaped.replace_strict(self.shared, default=None, return_dtype=pl.Int64).cast(pl.String)

    def set_properties(self, properties: Mapping[str, Any]) -> None:
        """Document properties; ``title`` and ``created`` (a datetime) are written."""
        self._properties.update(properties)

    def _entry(self, name: str, data: str | bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zf.writestr(info, data.encode() if isinstance(data, str) else data, compresslevel=1)

    def write_sheet(
        self,
        name: str,
        *,
        headers: Sequence[str],
        widths: Sequence[float],
        n_rows: int,
        body: Iterator[str],
        links: list[tuple[str, str]] | None = None,
    ) -> None:
        """One sheet: bold frozen header row, widths, autofilter over ``n_rows`` data rows, row XML from
        ``body`` (``<row>`` elements for rows 2 onwards)."""
        if (
            not name
            or len(name) > 31
            or _INVALID_SHEET_CHARS.search(name)
            or name[0] == "'"
            or name[-1] == "'"
        ):
            raise ValueError(f"invalid Excel sheet name {name!r}")
        if any(s.name.lower() == name.lower() for s in self._sheets):
            raise ValueError(f"duplicate Excel sheet name {name!r}")
        sheet = _Sheet(name, len(self._sheets))
        self._sheets.append(sheet)
        n_cols = len(headers)
        last = column_letter(max(n_cols, 1) - 1)
        ref = f"A1:{last}{n_rows + 1}"
        if n_cols:
            sheet.autofilter = ref
        selected = ' tabSelected="1"' if sheet.index == 0 else ""
        head = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
            f"<worksheet {_NS} {_NS_R}>",
            f'<dimension ref="{ref if n_cols else "A1"}"/>',
            f'<sheetViews><sheetView{selected} workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews>',
            '<sheetFormatPr defaultRowHeight="15"/>',
        ]
        if widths:
            head.append("<cols>")
            head.extend(
                f'<col min="{i + 1}" max="{i + 1}" width="{_excel_width(w):.16g}" customWidth="1"/>'
                for i, w in enumerate(widths)
            )
            head.append("</cols>")
        head.append("<sheetData>")
        if n_cols:
            cells = "".join(
                f'<c r="{column_letter(i)}1" s="{_BOLD}" t="inlineStr"><is><t xml:space="preserve">'
                f"{escape_text(h)}</t></is></c>"
                for i, h in enumerate(headers)
            )
            head.append(f'<row r="1">{cells}</row>')
        info = zipfile.ZipInfo(f"xl/worksheets/sheet{sheet.index + 1}.xml", date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        # ZIP64 when the sheet may pass 2 GiB (about 3 M cells of report text would be needed).
        with self._zf.open(info, "w", force_zip64=n_rows * max(n_cols, 1) > 2_000_000) as fh:
            fh.write("".join(head).encode())
            for part in body:
                fh.write(part.encode())
            tail = ["</sheetData>"]
            if sheet.autofilter:
                tail.append(f'<autoFilter ref="{sheet.autofilter}"/>')
            if links:
                tail.append("<hyperlinks>")
                tail.extend(
                    f'<hyperlink ref="{cell}" r:id="rId{k}"/>' for k, (cell, _) in enumerate(links, 1)
                )
                tail.append("</hyperlinks>")
            tail.append(
                '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            )
            tail.append("</worksheet>")
            fh.write("".join(tail).encode())
        if links:
            quoted: dict[str, str] = {}
            rels = "".join(
                f'<Relationship Id="rId{k}" Type="{_REL}/hyperlink" '
                f'Target={quoted.get(url) or quoted.setdefault(url, quoteattr(url))} TargetMode="External"/>'
                for k, (_, url) in enumerate(links, 1)
            )
            self._entry(
                f"xl/worksheets/_rels/sheet{sheet.index + 1}.xml.rels",
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>',
            )
        sheet.links = links or []

    def close(self) -> None:
        sheets = self._sheets
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{s.index + 1}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for s in sheets
        )
        self._entry(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + (
                '<Override PartName="/xl/sharedStrings.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                if self.shared
                else ""
            )
            + f"{overrides}</Types>",
        )
        self._entry(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
            'metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>",
        )
        created = self._properties.get("created") or datetime.now(UTC)
        if created.tzinfo is not None:
            created = created.astimezone(UTC).replace(tzinfo=None)
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        title = self._properties.get("title")
        self._entry(
            "docProps/core.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            + (f"<dc:title>{_xml_escape(str(title))}</dc:title>" if title else "")
            + f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "</cp:coreProperties>",
        )
        self._entry(
            "docProps/app.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>Microsoft Excel</Application></Properties>",
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{s.index}" hidden="1">'
            f"{_xml_escape(_quote_sheet(s.name))}!{_absolute(s.autofilter)}</definedName>"
            for s in sheets
            if s.autofilter
        )
        self._entry(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f"<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews><sheets>"
            + "".join(
                f'<sheet name={quoteattr(s.name)} sheetId="{s.index + 1}" r:id="rId{s.index + 1}"/>'
                for s in sheets
            )
            + "</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + "</workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{s.index + 1}" Type="{_REL}/worksheet" Target="worksheets/sheet{s.index + 1}.xml"/>'
            for s in sheets
        )
        n = len(sheets)
        self._entry(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PKG_REL}">{rels}'
            f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
            + (
                f'<Relationship Id="rId{n + 2}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
                if self.shared
                else ""
            )
            + "</Relationships>",
        )
        self._entry("xl/styles.xml", _STYLES)
        if self.shared:
            items = "".join(f'<si><t xml:space="preserve">{t}</t></si>' for t in self.shared)
            self._entry(
                "xl/sharedStrings.xml",
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<sst {_NS} count="{self._shared_refs}" uniqueCount="{len(self.shared)}">{items}</sst>',
            )
        self._zf.close()


def _absolute(ref: str | None) -> str:
    assert ref is not None
    a, b = ref.split(":")
    return "$" + re.sub(r"(\d)", r"$\1", a, count=1) + ":$" + re.sub(r"(\d)", r"$\1", b, count=1)


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f"<styleSheet {_NS}>"
    '<fonts count="3">'
    '<font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>'
    '<font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>'
    '<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/><family val="2"/></font>'
    "</fonts>"
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" applyNumberFormat="0" applyFill="0" applyBorder="0" '
    'applyAlignment="0" applyProtection="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="1" applyFont="1"/></cellXfs>'
    '<cellStyles count="2"><cellStyle name="Hyperlink" xfId="1" builtinId="8"/>'
    '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)


@contextmanager
def open_workbook(out: BinaryIO) -> Iterator[tuple[Workbook, Any]]:
    """A streaming workbook writing to ``out``; yields (workbook, bold header style)."""
    wb = Workbook(out)
    try:
        yield wb, _BOLD
    finally:
        wb.close()


def column_widths(frame: pl.DataFrame, headers: Sequence[str], *, cap: int = 60) -> list[float]:
    """Width per column: longest of header and data (in characters) + 2, between 8 and ``cap``."""
    if frame.height:
        lengths = frame.select(
            pl.col(c).cast(pl.String).str.len_chars().max().alias(c) for c in frame.columns
        ).row(0)
    else:
        lengths = (0,) * len(frame.columns)
    return [float(min(cap, max(8, len(h) + 2, (n or 0) + 2))) for h, n in zip(headers, lengths, strict=True)]


def write_frame_sheets(
    wb: Workbook,
    header_format: Any,
    frame: pl.DataFrame,
    *,
    sheet_name: str,
    kinds: Sequence[str],
    widths: Sequence[float] | None = None,
    max_rows: int = EXCEL_MAX_ROWS,
    split: bool = True,
    links: Mapping[int, Callable[[str], str | None]] | None = None,
) -> list[str]:
    """Write ``frame`` (header = its column names) to ``sheet_name``.

    When the frame does not fit one sheet (``max_rows`` including the header) and ``split`` is true,
    the rows continue on ``<sheet_name> (2)``, ``<sheet_name> (3)`` ... each with its own header row.
    ``links`` maps a text column position to a function giving the URL for a cell's text (or None):
    such cells become hyperlinks showing the same text, up to Excel's ``EXCEL_MAX_URLS`` per sheet;
    later cells are plain strings. Returns the sheet names written.
    """
    headers = frame.columns
    per_sheet = max_rows - 1
    if widths is None:
        widths = column_widths(frame, headers)
    text_cols = [i for i, k in enumerate(kinds) if k == TEXT]
    # Cut text cells to Excel's limit up front (vectorised) rather than per cell.
    frame = frame.with_columns(
        pl.col(headers[i]).cast(pl.String).str.slice(0, EXCEL_MAX_CELL_CHARS) for i in text_cols
    )
    url_maps = {c: _url_map(frame.get_column(headers[c]), fn) for c, fn in (links or {}).items()}

    n = frame.height
    if n > per_sheet and not split:
        raise ExcelRowLimitError(f"{sheet_name}: {n} rows do not fit one sheet ({per_sheet} data rows)")
    names: list[str] = []
    offset = 0
    part = 1
    while True:
        name = sheet_name if part == 1 else f"{sheet_name} ({part})"
        chunk = frame.slice(offset, per_sheet)
        names.append(name)
        sheet_links: list[tuple[str, str]] = []
        wb.write_sheet(
            name,
            headers=headers,
            widths=widths,
            n_rows=chunk.height,
            body=_rows_xml(wb, chunk, kinds, url_maps, sheet_links),
            links=sheet_links,
        )
        offset += per_sheet
        part += 1
        if offset >= n:
            break
    return names


def _url_map(values: pl.Series, fn: Callable[[str], str | None]) -> dict[str, str]:
    """URL per distinct non-blank text of a link column (the function is called once per distinct value)."""
    out: dict[str, str] = {}
    for v in values.drop_nulls().unique().to_list():
        url = fn(v) if v else None
        if url:
            out[v] = url
    return out


def _rows_xml(
    wb: Workbook,
    frame: pl.DataFrame,
    kinds: Sequence[str],
    url_maps: Mapping[int, dict[str, str]],
    links_out: list[tuple[str, str]],
) -> Iterator[str]:
    """``<row>`` elements for the frame's rows (sheet rows 2 onwards), ``_CHUNK_ROWS`` at a time. The
    hyperlinks given to the sheet's first ``EXCEL_MAX_URLS`` linkable cells are appended to ``links_out``.

    Text columns that repeat (few distinct values in a chunk: rule IDs, severities, messages ...) are written
    as shared strings, the others as inline strings; both are text cells to every reader."""
    budget = EXCEL_MAX_URLS
    cols = frame.columns
    for start in range(0, frame.height, _CHUNK_ROWS):
        chunk = frame.slice(start, _CHUNK_ROWS)
        first = start + 2
        rn = pl.int_range(first, first + chunk.height, eager=True).cast(pl.String)
        parts: dict[str, pl.Series] = {"__rn": rn}
        exprs: list[pl.Expr] = [pl.lit('<row r="'), pl.col("__rn"), pl.lit('">')]
        for i, (col, kind) in enumerate(zip(cols, kinds, strict=True)):
            letter = column_letter(i)
            values = chunk.get_column(col)
            key = f"__v{i}"
            if kind == NUMBER:
                parts[key] = values.cast(pl.String)
                cell = pl.concat_str(
                    [
                        pl.lit(f'<c r="{letter}'),
                        pl.col("__rn"),
                        pl.lit('"><v>'),
                        pl.col(key),
                        pl.lit("</v></c>"),
                    ]
                )
                exprs.append(pl.when(pl.col(key).is_not_null()).then(cell))
                continue
            if kind != TEXT:
                continue
            values = values.cast(pl.String)
            blank = values.is_null() | (values == "")
            shared = values.n_unique() <= max(1000, chunk.height // 20)
            escaped = _escaped(values)
            parts[key] = wb.share(escaped.clone().set(blank, None)) if shared else escaped
            style = pl.lit("")
            if i in url_maps and url_maps[i] and budget > 0:
                urls = values.replace_strict(url_maps[i], default=None, return_dtype=pl.String)
                linked = urls.is_not_null() & (urls.is_not_null().cum_sum() <= budget)
                idx = linked.arg_true()
                if idx.len():
                    refs = (letter + rn.gather(idx)).to_list()
                    links_out.extend(zip(refs, urls.gather(idx).to_list(), strict=True))
                    budget -= idx.len()
                    parts[f"__l{i}"] = linked
                    style = pl.when(pl.col(f"__l{i}")).then(pl.lit(f' s="{_LINK}"')).otherwise(pl.lit(""))
            parts[f"__b{i}"] = blank
            cell = pl.concat_str(
                [
                    pl.lit(f'<c r="{letter}'),
                    pl.col("__rn"),
                    pl.lit('"'),
                    style,
                    pl.lit(' t="s"><v>' if shared else ' t="inlineStr"><is><t xml:space="preserve">'),
                    pl.col(key),
                    pl.lit("</v></c>" if shared else "</t></is></c>"),
                ]
            )
            exprs.append(pl.when(~pl.col(f"__b{i}")).then(cell))
        exprs.append(pl.lit("</row>"))
        xml = pl.DataFrame(parts).select(pl.concat_str(exprs, ignore_nulls=True).str.join("")).item()
        yield xml


def write_rows_sheet(
    wb: Workbook,
    header_format: Any,
    *,
    sheet_name: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    kinds: Sequence[str],
    widths: Sequence[float],
) -> None:
    """A small sheet from Python rows (e.g. Counts)."""

    def body() -> Iterator[str]:
        for r, row in enumerate(rows, start=2):
            cells = []
            for c, kind in enumerate(kinds):
                v = row[c]
                ref = f"{column_letter(c)}{r}"
                if kind == TEXT and v is not None and v != "":
                    text = escape_text(str(v)[:EXCEL_MAX_CELL_CHARS])
                    cells.append(
                        f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
                    )
                elif kind == NUMBER and v is not None:
                    cells.append(f'<c r="{ref}"><v>{_number(v)}</v></c>')
            yield f'<row r="{r}">{"".join(cells)}</row>'

    wb.write_sheet(sheet_name, headers=headers, widths=widths, n_rows=len(rows), body=body())


def _number(v: Any) -> str:
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    f = float(v)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


class ExcelRowLimitError(ValueError):
    """A table has more rows than one Excel sheet holds and cannot be split."""
