"""Benchmark of issue #4: a realistic 1 M-row submission, read floor vs engine, report, load, end to end.

    .venv/bin/python -m tests.bench.run [--rows 1000000] [--json out.json] [--skip-e2e] [--skip-upload]
                                        [--scaling 100000,300000] [--report-findings 1000000]

Every measured step runs in a fresh Python subprocess (``python -m tests.bench.run --step ...``); the
parent reads that child's own peak RSS and CPU time from ``os.wait4`` (the worker and web process of the
end-to-end and upload steps are measured through ``/proc/<pid>/status``). Steps, on the same files:

1. ``floor``: extract the ZIP entries and read every table with polars as String columns, nothing else;
2. ``engine``: ``validation.api.validate_file`` - READ stage, every rule, cascades, outcome and counts;
3. ``report``: the validation report (CSV, XLSX) for those findings; ``report_scaled`` the same writers on
   ``--report-findings`` findings (the real ones repeated), to show the writers' rate;
4. ``load``: ``reporting.loading.accepted_rows_load`` (PostgreSQL COPY) of the accepted rows into a
   scratch database (``pending`` when that module is not importable);
5. ``e2e``: a real Celery worker (``--pool solo``, so its own RSS is the task's) on that PostgreSQL
   database and Redis: from ``services.submission_receive`` (upload stored, task queued) to a final status;
6. ``frictionless``: frictionless validating the Appointment table (first ``--frictionless-rows`` rows,
   the same column constraints), scaled to the submission's row count; skipped when not installed;
7. ``upload``: a 500 MB upload streamed through the web process (gunicorn, the API with a bearer token):
   growth of that process's peak RSS.

``--scaling`` repeats floor and engine at smaller sizes and reports bytes of peak RSS per row.
Generated files are cached under ``var/bench/`` (deterministic: same rows, same seed, same file).
Needs PostgreSQL (``BENCH_PG``, default ``postgres://postgres@127.0.0.1:5432/test``; a scratch database
``iapt_bench_<pid>`` is created and dropped) and Redis (``BENCH_REDIS``, default
``redis://127.0.0.1:6379/0``) for steps 4, 5 and 7.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from tests.workers import start_worker

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "var" / "bench"
ORG, PERIOD = "TSTP1", "2017-11"
COMMISSIONERS = ("00C", "01A", "02T", "03Q", "04C")  # the generator's defaults
ROWS_PER_PERSON = 9.73  # generate_idb: ~9.73 rows over all tables per person (P15STD)
SEED = 1
ERROR_RATE = 0.01
UPLOAD_BYTES = 500 * 1000 * 1000
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")


# ================================================================================================ helpers
def cpu_self() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def proc_status(pid: int, key: str) -> int:
    """VmRSS / VmHWM of a process in bytes (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCPU:
    """CPU seconds of the PostgreSQL backends serving database ``dbname`` (on this host), sampled every
    0.2 s from /proc while running: a backend that exits between two samples loses at most 0.2 s."""

    def __init__(self, dbname: str) -> None:
        import threading

        self.dbname = dbname
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmd.startswith(b"postgres: ") and f" {self.dbname} ".encode() in cmd:
                pid = int(entry.name)
                self.seen[pid] = max(self.seen.get(pid, 0.0), proc_cpu(pid))

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self) -> BackendCPU:
        self._sample()
        self.start = dict(self.seen)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def seconds(self) -> float:
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.seen.items())


def worker_phases(log_path: Path) -> dict[str, Any]:
    """The last ``Submission <id> phases {json}`` line the worker logged (``submissions.phases``)."""
    found: dict[str, Any] = {}
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return found
    for line in text.splitlines():
        if " phases {" in line:
            with contextlib.suppress(ValueError):
                found = json.loads(line[line.index(" phases {") + len(" phases ") :])
    return found


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def submission_file(rows: int) -> Path:
    """The generated submission for ``rows`` rows (cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"idb-{rows}-s{SEED}-e{ERROR_RATE}.zip"
    if not path.exists():
        from validation.synth import generate_idb, write_csvzip

        persons = max(10, round(rows / ROWS_PER_PERSON))
        t = time.perf_counter()
        tables = generate_idb(org=ORG, period=PERIOD, persons=persons, seed=SEED, error_rate=ERROR_RATE)
        tmp = path.with_suffix(".tmp")
        write_csvzip(tables, tmp)
        tmp.rename(path)
        shape = {k: v.height for k, v in tables.items()}
        print(
            f"generated {path.name}: {sum(shape.values()):,} rows {shape} in {time.perf_counter() - t:.1f} s"
        )
    return path


def upload_context():  # type: ignore[no-untyped-def]
    from datetime import UTC, date, datetime

    from validation.model import OrganisationRegister, RegisterEntry, UploadContext

    entries = {ORG: RegisterEntry(ORG, "Bench provider", "PROVIDER")}
    entries |= {c: RegisterEntry(c, c, "COMMISSIONER") for c in COMMISSIONERS}
    return UploadContext(
        org_code=ORG,
        period=PERIOD,
        window_type="Primary",
        received_at=datetime(2017, 12, 5, 14, 3, 27, tzinfo=UTC),
        window_opens_on=date(2017, 12, 1),
        register=OrganisationRegister(entries),
        file_name="idb.zip",
    )


# ================================================================================================ steps
# Each runs in its own process and returns a dict; "seconds" is the timed part.
def step_floor(args: argparse.Namespace) -> dict[str, Any]:
    import polars as pl

    t, c = time.perf_counter(), cpu_self()
    rows = 0
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp, zipfile.ZipFile(args.file) as zf:
        for info in zf.infolist():
            dest = Path(tmp) / info.filename
            with zf.open(info) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
            frame = pl.read_csv(dest, has_header=False, infer_schema=False, raise_if_empty=False)
            rows += max(frame.height - 1, 0)
            del frame
            dest.unlink()
    return {"seconds": time.perf_counter() - t, "cpu": cpu_self() - c, "rows": rows}


def step_engine(args: argparse.Namespace) -> dict[str, Any]:
    from validation.api import validate_file

    ctx = upload_context()
    t, c = time.perf_counter(), cpu_self()
    result = validate_file(args.file, ctx=ctx, file_name="idb.zip")
    seconds, cpu = time.perf_counter() - t, cpu_self() - c
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result.findings.write_parquet(out / "findings.parquet")
    for table, frame in result.accepted.items():
        frame.write_parquet(out / f"accepted-{table}.parquet")
    counts = {t: c.as_dict() for t, c in (result.counts or {}).items()}
    (out / "counts.json").write_text(json.dumps(counts))
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": sum(c["read"] for t, c in counts.items() if t != "Header"),
        "outcome": str(result.outcome),
        "findings": result.findings.height,
        "rules_with_findings": len(result.findings_by_rule),
        "accepted_rows": sum(f.height for f in result.accepted.values()),
    }


def _write_reports(findings, counts, out: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from reporting.writers import write_report_csv, write_report_xlsx

    res: dict[str, Any] = {"findings": findings.height}
    for kind in ("csv", "xlsx"):
        path = out / f"report.{kind}"
        t, c = time.perf_counter(), cpu_self()
        with path.open("wb") as fh:
            if kind == "csv":
                write_report_csv(findings, submission_id=f"{ORG}-0000001", out=fh)
            else:
                write_report_xlsx(
                    findings,
                    counts,
                    submission_id=f"{ORG}-0000001",
                    out=fh,
                    base_url="https://portal.example",
                )
        res[f"{kind}_seconds"] = time.perf_counter() - t
        res[f"{kind}_cpu"] = cpu_self() - c
        res[f"{kind}_bytes"] = path.stat().st_size
        path.unlink()
    res["seconds"] = res["csv_seconds"] + res["xlsx_seconds"]
    res["cpu"] = res["csv_cpu"] + res["xlsx_cpu"]
    return res


def _counts(out: Path):  # type: ignore[no-untyped-def]
    from validation.model import TableCounts

    raw = json.loads((out / "counts.json").read_text())
    return {t: TableCounts(**{k: v for k, v in c.items()}) for t, c in raw.items()}


def step_report(args: argparse.Namespace) -> dict[str, Any]:
    import polars as pl

    out = Path(args.out_dir)
    findings = pl.read_parquet(out / "findings.parquet")
    return _write_reports(findings, _counts(out), out)


def step_report_scaled(args: argparse.Namespace) -> dict[str, Any]:
    import polars as pl

    out = Path(args.out_dir)
    base = pl.read_parquet(out / "findings.parquet")
    n = args.report_findings
    findings = pl.concat([base] * (n // max(base.height, 1) + 1)).head(n) if base.height else base
    return _write_reports(findings, _counts(out), out)


def _django(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


def _fixtures():  # type: ignore[no-untyped-def]
    """Provider, commissioners, a submitter and a window open now for 2017-11 Primary (idempotent)."""
    from portal.models import Role, User
    from tests.factories import CommissionerFactory, OrganisationFactory, UserFactory, WindowFactory

    org = OrganisationFactory(code=ORG, name="Bench provider")
    for code in COMMISSIONERS:
        CommissionerFactory(code=code, name=f"Commissioner {code}")
    user = User.objects.filter(username="bench_submitter").first() or UserFactory(
        username="bench_submitter", organisation=org, role=Role.PROVIDER_SUBMITTER
    )
    from submissions.models import Window

    if not Window.objects.filter(code="WBENCH").exists():
        WindowFactory(code="WBENCH", primary_rp=PERIOD, refresh_rp="2017-10")
    return user


def step_load(args: argparse.Namespace) -> dict[str, Any]:
    import polars as pl

    _django(args.db)
    try:
        from reporting.loading import accepted_rows_load
    except Exception as exc:  # another engineer is building it
        return {"pending": f"reporting.loading.accepted_rows_load not importable: {exc}"}
    from django.utils import timezone

    from submissions.models import Status, Submission

    user = _fixtures()
    sub = Submission.objects.create(
        organisation=user.organisation,
        bsp_unique_id=(Submission.objects.filter(organisation=user.organisation).count() + 1000),
        period=PERIOD,
        window_type="Primary",
        received_at=timezone.now(),
        original_name="idb.zip",
        size=1,
        status=Status.VALIDATING,
    )
    out = Path(args.out_dir)
    frames = {p.stem.split("-", 1)[1]: pl.read_parquet(p) for p in sorted(out.glob("accepted-*.parquet"))}
    frames.pop("Header", None)
    t, c = time.perf_counter(), cpu_self()
    loaded = accepted_rows_load(submission_id=sub.pk, frames=frames)
    return {"seconds": time.perf_counter() - t, "cpu": cpu_self() - c, "rows": sum(loaded.values())}


def step_e2e_submit(args: argparse.Namespace) -> dict[str, Any]:
    """Store the upload and queue the task as the web process does, then wait for the final status."""
    _django(args.db)
    from django.core.files import File
    from django.utils import timezone

    from submissions import services
    from submissions.models import FINAL_STATUSES, Submission
    from submissions.uploads import HashedUpload

    user = _fixtures()
    size = Path(args.file).stat().st_size
    with open(args.file, "rb") as fh:
        upload = File(fh, name="idb.zip")
        upload.__class__ = type("BenchUpload", (File,), {})
        for k, v in {"sha256": uuid.uuid4().hex, "received_size": size, "oversized": False}.items():
            setattr(upload, k, v)
        upload.received_at = timezone.now()
        assert HashedUpload  # the attributes above are the ones the hashing handler sets
        t0 = time.perf_counter()
        sub = services.submission_receive(user=user, upload=upload, period=PERIOD, window_type="Primary")
    stored = time.perf_counter()
    deadline = stored + args.timeout
    status = sub.status
    while time.perf_counter() < deadline:
        status = Submission.objects.values_list("status", flat=True).get(pk=sub.pk)
        if status in FINAL_STATUSES:
            break
        time.sleep(0.1)
    done = time.perf_counter()
    sub.refresh_from_db()
    return {
        "seconds": done - stored,
        "store_seconds": stored - t0,
        "status": status,
        "error": sub.error_message,
        "final": status in FINAL_STATUSES,
        "total_records": sub.total_records,
    }


def step_upload_token(args: argparse.Namespace) -> dict[str, Any]:
    _django(args.db)
    from portal.api_tokens import api_token_create

    user = _fixtures()
    created = api_token_create(user=user, name=f"bench-{uuid.uuid4().hex[:6]}", scopes=["read", "submit"])
    return {"token": created.secret}


def step_frictionless(args: argparse.Namespace) -> dict[str, Any]:
    try:
        import frictionless
    except ImportError:
        return {"skipped": "frictionless is not installed (pip install frictionless)"}
    from validation.dataset import DATASET
    from validation.dataset.schema import ColumnType

    table = DATASET.tables["Appointment"]
    fields: list[dict[str, Any]] = []
    for col in table.columns:
        cons: dict[str, Any] = {}
        if col.obligation.value == "M":
            cons["required"] = True
        if col.type is ColumnType.TEXT:
            field: dict[str, Any] = {"name": col.name, "type": "string"}
            if col.length:
                cons["maxLength"] = col.length
            if col.codelist:
                cons["enum"] = sorted(DATASET.codelists[col.codelist].codes)
            elif col.format and col.format in DATASET.formats and col.format != "NHSNO":
                cons["pattern"] = DATASET.formats[col.format].lstrip("^").rstrip("$")
        elif col.type in (ColumnType.INTEGER, ColumnType.DECIMAL):
            field = {"name": col.name, "type": "integer" if col.type is ColumnType.INTEGER else "number"}
            if col.range:
                cons["minimum"], cons["maximum"] = (float(x) for x in col.range)
                if col.type is ColumnType.INTEGER:
                    cons["minimum"], cons["maximum"] = int(cons["minimum"]), int(cons["maximum"])
        elif col.type is ColumnType.DATE:
            field = {"name": col.name, "type": "date", "format": "%Y-%m-%d"}
        else:
            field = {"name": col.name, "type": "string", "constraints": {}}
            cons["pattern"] = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?"
        field["constraints"] = cons
        fields.append(field)
    with tempfile.TemporaryDirectory(prefix="bench-fl-") as tmp, zipfile.ZipFile(args.file) as zf:
        path = Path(tmp) / "Appointment.csv"
        with zf.open("Appointment.csv") as src, path.open("wb") as out:
            for i, line in enumerate(src):
                if i > args.frictionless_rows:
                    break
                out.write(line)
        # The table's own key rule too (APP110: an APPTID occurring twice), which the engine also checks;
        # the cross-table rules (parents, cascades) have no frictionless counterpart on one table.
        schema = frictionless.Schema.from_descriptor(
            {"fields": fields, "missingValues": [""], "primaryKey": list(table.row_key)}
        )
        resource = frictionless.Resource(path=path.name, basepath=tmp, schema=schema)
        t, c = time.perf_counter(), cpu_self()
        report = frictionless.validate(resource, limit_errors=10**9)
        seconds, cpu = time.perf_counter() - t, cpu_self() - c
        errors: dict[str, int] = {}
        for task in report.tasks:
            for err in task.errors:
                errors[err.type] = errors.get(err.type, 0) + 1
        if any(k in errors for k in ("resource-error", "schema-error", "source-error", "scheme-error")):
            return {"failed": f"frictionless could not validate: {errors}"}
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": args.frictionless_rows,
        "errors": errors,
        "version": frictionless.__version__,
    }


STEPS = {
    "floor": step_floor,
    "engine": step_engine,
    "report": step_report,
    "report_scaled": step_report_scaled,
    "load": step_load,
    "e2e_submit": step_e2e_submit,
    "upload_token": step_upload_token,
    "frictionless": step_frictionless,
}


# ================================================================================================ parent
def run_step(name: str, args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """Run one step in a fresh interpreter; add its peak RSS and CPU time (os.wait4 of that child)."""
    cmd = [sys.executable, "-m", "tests.bench.run", "--step", name]
    for k, v in extra.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    with tempfile.NamedTemporaryFile(prefix="bench-", suffix=".json", delete=False) as fh:
        result_path = fh.name
    cmd += ["--result", result_path]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **getattr(args, "child_env", {})})
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        res = json.loads(Path(result_path).read_text() or "{}")
    except (OSError, ValueError):
        res = {}
    Path(result_path).unlink(missing_ok=True)
    if proc.returncode != 0:
        res.setdefault("failed", f"exit status {proc.returncode}")
    # Peak RSS of the step's process: its own VmHWM (ru_maxrss from wait4 would include the parent's
    # high-water mark inherited through fork, before exec).
    res["peak_rss"] = res.pop("vm_hwm", None) or usage.ru_maxrss * 1024
    res["process_cpu"] = usage.ru_utime + usage.ru_stime
    return res


class Scratch:
    """A scratch PostgreSQL database with the portal's migrations, dropped at the end."""

    def __init__(self) -> None:
        self.name = f"iapt_bench_{os.getpid()}"
        base = PG.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"
        self.ok = False

    def _admin(self, sql: str) -> None:
        import psycopg2

        conn = psycopg2.connect(PG)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.close()

    def __enter__(self) -> Scratch:
        try:
            self._admin(f'CREATE DATABASE "{self.name}"')
            env = {**os.environ, "DATABASE_URL": self.url}
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "-v", "0"],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=600,
            )
            self.ok = True
        except Exception as exc:
            print(f"PostgreSQL scratch database unavailable ({exc}); steps 4, 5 and 7 skipped")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except Exception as e:
            print(f"could not drop {self.name}: {e}")


def e2e(args: argparse.Namespace, db: Scratch, file: Path) -> dict[str, Any]:
    media = Path(tempfile.mkdtemp(prefix="bench-media-"))
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "CELERY_BROKER_URL": REDIS,
        "PORTAL_MEDIA_ROOT": str(media),
        "CELERY_QUEUE": queue,
        "PHASES_RESET_PEAK": "1",  # per-phase peaks in the worker's phase log (submissions.phases)
    }
    log_path = CACHE / "e2e-worker.log"
    log_path.unlink(missing_ok=True)  # start_worker appends; the phase line read below must be this run's
    worker = start_worker(
        queue=queue, log_path=log_path, media_root=str(media), env=env, database=db.url, pool="solo"
    ).proc
    try:
        time.sleep(4)  # let the worker connect before the task is queued
        idle = proc_status(worker.pid, "VmRSS")
        cpu0 = proc_cpu(worker.pid)
        args.child_env = {"CELERY_BROKER_URL": REDIS, "PORTAL_MEDIA_ROOT": str(media), "CELERY_QUEUE": queue}
        with BackendCPU(db.name) as pg:
            res = run_step("e2e_submit", args, file=file, db=db.url, timeout=args.e2e_timeout)
        res["postgres_cpu"] = pg.seconds
        args.child_env = {}
        res["worker_peak_rss"] = proc_status(worker.pid, "VmHWM")
        res["worker_cpu"] = res["cpu"] = proc_cpu(worker.pid) - cpu0
        res["worker_idle_rss"] = idle
        # The phase line is written just after the final status is committed: give it a moment.
        for _ in range(50):
            res["phases"] = worker_phases(log_path)
            if res["phases"] or not res.get("final"):
                break
            time.sleep(0.1)
        # The worker resets its high-water mark per phase: the run's peak is the phase log's total.
        logged_peak = (res["phases"].get("total") or {}).get("peak_mb", 0) * 2**20
        res["worker_peak_rss"] = max(res["worker_peak_rss"], logged_peak)
        res["submit_process_peak_rss"] = res.pop("peak_rss")
        res["peak_rss"] = res["worker_peak_rss"]
        return res
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        shutil.rmtree(media, ignore_errors=True)


def upload(args: argparse.Namespace, db: Scratch) -> dict[str, Any]:
    """Stream a 500 MB multipart upload through gunicorn (1 sync worker) and watch that worker's RSS."""
    import http.client

    token = run_step("upload_token", args, db=db.url).get("token")
    if not token:
        return {"skipped": "no API token (portal.api_tokens unavailable)"}
    media = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    port = 18000 + os.getpid() % 1000
    env = {**os.environ, "DATABASE_URL": db.url, "CELERY_BROKER_URL": REDIS, "PORTAL_MEDIA_ROOT": str(media),
           "FILE_UPLOAD_TEMP_DIR": str(media / "tmp"), "CELERY_QUEUE": f"bench-nowhere-{uuid.uuid4().hex[:6]}",
           "API_UPLOAD_RATE": "1000/hour"}  # fmt: skip
    log = (CACHE / "upload-web.log").open("wb")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "600"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                c.request("GET", "/api/v1/windows/", headers=auth)  # warm-up: imports, first queries
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.3)
        kids = children(web.pid)
        wpid = kids[0] if kids else web.pid
        before = proc_status(wpid, "VmRSS")
        hwm_before = proc_status(wpid, "VmHWM")
        boundary = uuid.uuid4().hex
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in {"period": PERIOD, "window_type": "Primary"}.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        )
        tail = f"\r\n--{boundary}--\r\n".encode()
        block = os.urandom(1024 * 1024)

        def body():  # type: ignore[no-untyped-def]
            yield head.encode()
            sent = 0
            while sent < UPLOAD_BYTES:
                n = min(len(block), UPLOAD_BYTES - sent)
                yield block[:n]
                sent += n
            yield tail

        length = len(head.encode()) + UPLOAD_BYTES + len(tail)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        t = time.perf_counter()
        c.request(
            "POST",
            "/api/v1/submissions/",
            body=body(),
            headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}",
                     "Content-Length": str(length)},
        )  # fmt: skip
        resp = c.getresponse()
        payload = resp.read()
        seconds = time.perf_counter() - t
        peak = proc_status(wpid, "VmHWM")
        return {
            "seconds": seconds,
            "http_status": resp.status,
            "response": payload[:300].decode(errors="replace"),
            "bytes": UPLOAD_BYTES,
            "rss_before": before,
            "peak_rss": peak,
            "growth": peak - max(before, hwm_before if hwm_before < before else before),
        }
    finally:
        web.terminate()
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()
        log.close()
        shutil.rmtree(media, ignore_errors=True)


def mb(n: float | None) -> str:
    return "" if not n else f"{n / 2**20:,.0f} MB"


def table(results: dict[str, Any], rows: int) -> str:
    lines = [f"{'step':44s} {'seconds':>9s} {'CPU s':>8s} {'rows/s':>12s} {'peak RSS':>10s}"]

    def line(label: str, r: dict[str, Any] | None, n: int | None = None) -> None:
        if not r:
            return
        if "skipped" in r or "pending" in r or "failed" in r:
            lines.append(f"{label:44s} {r.get('skipped') or r.get('pending') or r.get('failed')}")
            return
        s = r["seconds"]
        rate = f"{n / s:,.0f}" if n and s else ""
        cpu = f"{r['cpu']:.2f}" if "cpu" in r else ""
        lines.append(f"{label:44s} {s:9.2f} {cpu:>8s} {rate:>12s} {mb(r.get('peak_rss')):>10s}")

    line("1. read floor (unzip + polars, strings)", results.get("floor"), rows)
    line("2. full engine (validate_file)", results.get("engine"), rows)
    rep = results.get("report")
    if rep and "failed" not in rep:
        lines.append(
            f"{'3. report CSV + XLSX (' + format(rep['findings'], ',') + ' findings)':44s} {rep['seconds']:9.2f} "
            f"{rep['cpu']:8.2f} {rep['findings'] / rep['seconds']:>12,.0f} {mb(rep.get('peak_rss')):>10s}"
            f"   (CSV {rep['csv_seconds']:.2f} s, XLSX {rep['xlsx_seconds']:.2f} s)"
        )
    rs = results.get("report_scaled")
    if rs and "failed" not in rs:
        lines.append(
            f"{'   report on ' + format(rs['findings'], ',') + ' findings':44s} {rs['seconds']:9.2f} "
            f"{rs['cpu']:8.2f} {rs['findings'] / rs['seconds']:>12,.0f} {mb(rs.get('peak_rss')):>10s}"
            f"   (CSV {rs['csv_seconds']:.2f} s, XLSX {rs['xlsx_seconds']:.2f} s)"
        )
    line(
        "4. load accepted rows (PostgreSQL COPY)",
        results.get("load"),
        (results.get("load") or {}).get("rows"),
    )
    e = results.get("e2e")
    line("5. end to end (stored -> final, worker RSS)", e, rows)
    if e and e.get("phases"):
        for name, ph in e["phases"].items():
            lines.append(
                f"{'   worker ' + name:44s} {ph['s']:9.2f} {ph['cpu']:8.2f} {'':>12s} "
                f"{mb(ph['peak_mb'] * 2**20):>10s}   (RSS after {ph['rss_mb']:,} MB)"
            )
    if e and "postgres_cpu" in e:
        lines.append(f"{'   PostgreSQL backends (CPU s)':44s} {'':9s} {e['postgres_cpu']:8.2f}")
    runs = results.get("e2e_runs") or []
    if len(runs) > 1:
        lines.append(
            f"{'   ' + str(len(runs)) + ' runs (s / worker CPU s / PG CPU s / peak MB)':44s} "
            + ", ".join(
                f"{r.get('seconds', 0):.1f}/{r.get('cpu', 0):.1f}/{r.get('postgres_cpu', 0):.1f}/"
                f"{(r.get('worker_peak_rss') or 0) / 2**20:,.0f}"
                for r in runs
            )
        )
    fl = results.get("frictionless")
    if fl and "seconds" in fl:
        lines.append(
            f"{'6. frictionless, Appointment ' + format(fl['rows'], ',') + ' rows':44s} {fl['seconds']:9.2f} "
            f"{fl['cpu']:8.2f} {fl['rows'] / fl['seconds']:>12,.0f} {mb(fl.get('peak_rss')):>10s}"
        )
        lines.append(
            f"{'   scaled to the submission (' + format(rows, ',') + ' rows)':44s} {fl['scaled_seconds']:9.2f}"
        )
    else:
        line("6. frictionless", fl)
    up = results.get("upload")
    if up and "growth" in up:
        lines.append(
            f"{'7. 500 MB upload via the web process':44s} {up['seconds']:9.2f} {'':>8s} {'':>12s} "
            f"{mb(up['peak_rss']):>10s}   growth {up['growth'] / 2**20:.1f} MB (HTTP {up['http_status']})"
        )
    else:
        line("7. upload", up)
    r = results.get("ratios", {})
    lines.append("")
    for k, v in r.items():
        lines.append(f"{k:44s} {v:9.2f}")
    for s in results.get("scaling", []):
        lines.append(
            f"scaling {s['rows']:>9,} rows: floor {s['floor_seconds']:.2f} s, engine {s['engine_seconds']:.2f} s, "
            f"engine peak RSS {mb(s['engine_peak_rss'])} ({s['engine_bytes_per_row']:,.0f} B/row)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--json", help="also write the results as JSON to this file")
    p.add_argument("--skip-e2e", action="store_true", help="skip the Celery end-to-end run")
    p.add_argument("--skip-upload", action="store_true", help="skip the 500 MB streaming upload")
    p.add_argument("--skip-load", action="store_true", help="skip the PostgreSQL load")
    p.add_argument(
        "--scaling", default="100000,300000", help="smaller sizes for the memory growth ('' = none)"
    )
    p.add_argument(
        "--report-findings", type=int, default=1_000_000, help="findings for the writers' rate (0 = skip)"
    )
    p.add_argument("--frictionless-rows", type=int, default=100_000)
    p.add_argument("--e2e-timeout", type=float, default=600)
    p.add_argument(
        "--e2e-repeat", type=int, default=1, help="end-to-end runs (a fresh worker each); median kept"
    )
    p.add_argument(
        "--only",
        default="",
        help="comma list of steps to run (floor,engine,report,frictionless,load,e2e,upload,scaling); default all",
    )
    # internal (one step in a child process)
    p.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    p.add_argument("--out-dir", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=600, help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.step:
        res = STEPS[args.step](args)
        # The process's own high-water mark: ru_maxrss of a child also counts the forked parent before exec.
        res["vm_hwm"] = proc_status(os.getpid(), "VmHWM")
        Path(args.result).write_text(json.dumps(res, default=str))
        return 0

    started = time.time()
    file = submission_file(args.rows)
    work = Path(tempfile.mkdtemp(prefix="bench-work-"))
    results: dict[str, Any] = {
        "rows_requested": args.rows,
        "file": str(file),
        "file_bytes": file.stat().st_size,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_start": os.getloadavg(),
        },
    }
    try:
        import polars

        only = {x.strip() for x in args.only.split(",") if x.strip()}

        def wanted(step: str) -> bool:
            return not only or step in only

        results["machine"]["polars"] = polars.__version__
        results["machine"]["load_average_per_step"] = {}
        rows = args.rows
        if wanted("floor") or wanted("scaling"):
            results["floor"] = run_step("floor", args, file=file)
            print(f"floor  {results['floor']['seconds']:.2f} s", flush=True)
            rows = results["floor"]["rows"]
        if wanted("engine") or wanted("report") or wanted("load") or wanted("scaling"):
            results["engine"] = run_step("engine", args, file=file, out_dir=work)
            print(f"engine {results['engine']['seconds']:.2f} s", flush=True)
            rows = results["engine"].get("rows") or rows
        results["rows"] = rows
        if wanted("report"):
            results["report"] = run_step("report", args, out_dir=work)
            if args.report_findings:
                results["report_scaled"] = run_step(
                    "report_scaled", args, out_dir=work, report_findings=args.report_findings
                )
        fl: dict[str, Any] = {}
        if wanted("frictionless"):
            fl = run_step("frictionless", args, file=file, frictionless_rows=args.frictionless_rows)
            if "seconds" in fl:
                fl["scaled_seconds"] = fl["seconds"] * rows / fl["rows"]
                fl["scaled_note"] = (
                    f"measured on the first {fl['rows']:,} Appointment rows, scaled to {rows:,} rows"
                )
            results["frictionless"] = fl
        do_load = wanted("load") and not args.skip_load
        do_e2e = wanted("e2e") and not args.skip_e2e
        do_upload = wanted("upload") and not args.skip_upload
        if do_load or do_e2e or do_upload:
            with Scratch() as db:
                if db.ok and do_load:
                    results["load"] = run_step("load", args, out_dir=work, db=db.url)
                if db.ok and do_e2e:
                    runs = []
                    for i in range(max(1, args.e2e_repeat)):
                        load_avg = os.getloadavg()
                        run = e2e(args, db, file)
                        run["load_average_before"] = load_avg
                        runs.append(run)
                        print(
                            f"e2e run {i + 1}: {run.get('seconds', 0):.2f} s, worker CPU {run.get('cpu', 0):.2f} s, "
                            f"PostgreSQL CPU {run.get('postgres_cpu', 0):.2f} s, "
                            f"peak {(run.get('worker_peak_rss') or 0) / 2**20:,.0f} MB, load {load_avg}",
                            flush=True,
                        )
                    results["e2e_runs"] = runs
                    results["e2e"] = sorted(runs, key=lambda r: r.get("seconds", float("inf")))[
                        len(runs) // 2
                    ]
                if db.ok and do_upload:
                    results["upload"] = upload(args, db)
        scaling = []
        for n in [int(x) for x in args.scaling.split(",") if x.strip() and wanted("scaling")]:
            f = submission_file(n)
            fr = run_step("floor", args, file=f)
            en = run_step("engine", args, file=f, out_dir=work / f"s{n}")
            real = en.get("rows") or n
            scaling.append({
                "rows": real, "floor_seconds": fr["seconds"], "engine_seconds": en["seconds"],
                "floor_peak_rss": fr["peak_rss"], "engine_peak_rss": en["peak_rss"],
                "engine_bytes_per_row": en["peak_rss"] / real,
            })  # fmt: skip
        if "floor" in results and "engine" in results:
            scaling.append({
            "rows": rows, "floor_seconds": results["floor"]["seconds"],
            "engine_seconds": results["engine"]["seconds"], "floor_peak_rss": results["floor"]["peak_rss"],
            "engine_peak_rss": results["engine"]["peak_rss"],
            "engine_bytes_per_row": results["engine"]["peak_rss"] / rows,
            })  # fmt: skip
        if len(scaling) > 1:
            a, b = scaling[0], scaling[-1]
            results["marginal_bytes_per_row"] = (b["engine_peak_rss"] - a["engine_peak_rss"]) / (
                b["rows"] - a["rows"]
            )
        results["scaling"] = scaling
        ratios: dict[str, float] = {}
        targets: dict[str, bool] = {}
        if "floor" in results and "engine" in results:
            ratios["engine / floor (wall)"] = results["engine"]["seconds"] / results["floor"]["seconds"]
            ratios["engine / floor (CPU)"] = results["engine"]["cpu"] / results["floor"]["cpu"]
            targets["engine <= 3 x floor"] = ratios["engine / floor (wall)"] <= 3
        if "scaled_seconds" in fl and "engine" in results:
            ratios["frictionless (scaled) / engine"] = fl["scaled_seconds"] / results["engine"]["seconds"]
            targets["engine >= 30 x faster than frictionless"] = (
                ratios["frictionless (scaled) / engine"] >= 30
            )
        if "engine" in results:
            targets["engine peak RSS <= 1.5 GB"] = results["engine"]["peak_rss"] <= 1.5 * 2**30
        results["ratios"] = ratios
        e2e_res = results.get("e2e") or {}
        if "seconds" in e2e_res:
            targets["end to end <= 15 s"] = e2e_res["seconds"] <= 15 and e2e_res.get("final", False)
            targets["worker peak RSS <= 1.5 GB"] = e2e_res["worker_peak_rss"] <= 1.5 * 2**30
        up = results.get("upload") or {}
        if "growth" in up:
            targets["500 MB upload grows the web process <= 50 MB"] = up["growth"] <= 50 * 2**20
        results["targets_met"] = targets
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["machine"]["load_average_end"] = os.getloadavg()
    results["elapsed_seconds"] = time.time() - started
    print()
    print(table(results, results.get("rows", args.rows)))
    print()
    for k, v in results.get("targets_met", {}).items():
        print(f"{'met' if v else 'NOT met':8s} {k}")
    print(
        f"load average {results['machine']['load_average_start']} -> {results['machine']['load_average_end']}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
