"""Read-speed benchmark (not collected by pytest): a ZIP of one 1 M-row x 26-column CSV and an XLSX.

.venv/bin/python -m tests.validation.readers.bench_readers [rows] [xlsx_rows]
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from validation.readers import read_file

from .helpers import DATASET


def _csv_zip(path: Path, n: int, cols: int = 26) -> Path:
    random.seed(1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("Appointment.csv", "w") as out:
        names = ["APPTID", "APPOINTMENT", "APPOINTMENTTIME", "APPTYPE", "CONTACTDURATION"]
        names += [f"COL{i}" for i in range(cols - len(names))]
        out.write((",".join(names) + "\r\n").encode())
        buf = []
        for r in range(n):
            row = [f"A{r:08d}", "2017-03-01", "12:30", "01", "45", '"text, with comma"', "", "NULL", "3.25"]
            row += [str(random.randint(0, 27)) for _ in range(cols - len(row))]
            buf.append(",".join(row))
            if len(buf) == 10_000:
                out.write(("\r\n".join(buf) + "\r\n").encode())
                buf = []
        if buf:
            out.write(("\r\n".join(buf) + "\r\n").encode())
    return path


def _xlsx(path: Path, n: int) -> Path:
    import datetime

    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Appointment")
    dfmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["APPTID", "APPOINTMENT", "APPOINTMENTTIME", "APPTYPE", "CONTACTDURATION", "X"])
    d = datetime.datetime(2017, 3, 1)
    for r in range(1, n + 1):
        ws.write_string(r, 0, f"A{r}")
        ws.write_datetime(r, 1, d, dfmt)
        ws.write_string(r, 2, "10:30")
        ws.write_number(r, 3, 1)
        ws.write_number(r, 4, 45)
        ws.write_string(r, 5, "some text")
    wb.close()
    return path


def _measure(label: str, path: Path, name: str) -> None:
    t0 = time.perf_counter()
    res = read_file(path, file_name=name, max_upload_bytes=2**31, max_unzipped_bytes=2**32, dataset=DATASET)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    heights = [(t.name, t.frame.height, t.frame.width) for t in res.tables]
    print(f"{label}: {dt:.2f} s, peak RSS so far {rss:.0f} MiB, findings {res.findings}, tables {heights}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    nx = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    with tempfile.TemporaryDirectory() as tmp:
        z = _csv_zip(Path(tmp) / "big.zip", n)
        print(f"zip {z.stat().st_size / 2**20:.1f} MiB for {n} rows x 26 columns")
        _measure("csv zip", z, "big.zip")
        if nx:
            x = _xlsx(Path(tmp) / "big.xlsx", nx)
            print(f"xlsx {x.stat().st_size / 2**20:.1f} MiB for {nx} rows x 6 columns")
            _measure("xlsx", x, "big.xlsx")


if __name__ == "__main__":
    main()
