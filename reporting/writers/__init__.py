"""File writers for the validation report (spec 10.1) and the pre-deadline extract (spec 10.3).

Pure Python + polars + xlsxwriter; no Django. Decisions: docs/decisions-reporting.md.
"""

from .common import (
    COUNT_FIELDS,
    COUNT_HEADERS,
    COUNT_LABELS,
    DEFAULT_REPORT_KEYS,
    REPORT_COLUMNS,
    TABLE_ORDER,
    counts_rows,
    extract_file_name,
    format_bsp_unique_id,
    report_file_name,
    submission_id,
)
from .extract import write_extract_xlsx, write_extract_zip
from .report import (
    format_received_at,
    parse_record_key,
    write_report_csv,
    write_report_json,
    write_report_xlsx,
)
from .xlsx import EXCEL_MAX_ROWS, ExcelRowLimitError

__all__ = [
    "COUNT_FIELDS",
    "COUNT_HEADERS",
    "COUNT_LABELS",
    "DEFAULT_REPORT_KEYS",
    "EXCEL_MAX_ROWS",
    "REPORT_COLUMNS",
    "TABLE_ORDER",
    "ExcelRowLimitError",
    "counts_rows",
    "extract_file_name",
    "format_bsp_unique_id",
    "format_received_at",
    "parse_record_key",
    "report_file_name",
    "submission_id",
    "write_extract_xlsx",
    "write_extract_zip",
    "write_report_csv",
    "write_report_json",
    "write_report_xlsx",
]
