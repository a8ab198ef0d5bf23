"""Deadline rush (issue 8, fault 7): N providers upload within a minute against a production-like stack.

    .venv/bin/python -m tests.rush.run [--providers 50] [--window 60] [--workers 2] [--web-workers 3]
        [--page-users 4] [--persons 200-3000] [--timeout 900] [--json var/rush/rush.json]

What it does, all on loopback:

1. creates a scratch PostgreSQL database ``iapt_rush_<pid>`` on the server of ``RUSH_PG`` (default: the
   server of ``DATABASE_URL`` when that is PostgreSQL, else ``postgres://postgres@127.0.0.1:5432/test``;
   never that database itself), migrates it, and drops it at the end;
2. seeds (in a child process) an open window, two commissioners and N provider organisations, each with a
   submitter and a *submit* API token (how a bulk client uploads), plus one signed-in session (password and
   two-factor step done, as ``tests.fixtures.VerifiedClient`` does) for the page measurements;
3. generates N different IDB files with ``validation.synth`` (persons spread over ``--persons``; every
   ``--error-every``-th file with errors), cached under ``var/rush/files``;
4. starts gunicorn (``--web-workers`` sync workers), one Celery worker with ``--workers`` processes
   (prefork) and Celery beat, on that database, Redis db 14 (``RUSH_REDIS``) as broker and cache, a queue of
   its own and a temporary media folder;
5. measures the pages with locust (headless, ``--page-users`` users, 0.5-1.5 s think time): a baseline
   before the rush, then from the first upload until every submission is final;
6. uploads the N files through ``POST /api/v1/submissions/``, one client thread each, their start times
   spread evenly over ``--window`` seconds; ``--duplicates`` of them send their file a second time at once
   (fault 5: must answer 409 and store nothing);
7. waits (at most ``--timeout`` seconds) until every submission is final, then checks nothing is lost:
   N uploads answered 201, N submissions stored, all final, none ERROR, the clean files successful and live,
   the files with errors not Accepted, the duplicates refused, the queue empty, no page failure;
8. prints a table and writes JSON (``--json``), with the machine's load average and CPU use during the run.

Exit status 0 when every check passed. ``rush()`` is the same run as a function (the CI-sized test calls it).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.workers import start_worker

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "var" / "rush"
PERIOD, WINDOW_TYPE = "2017-11", "Primary"
COMMISSIONERS = ("00C", "01A")
SUCCESSFUL = {"ACCEPTED", "ACCEPTED_WITH_WARNINGS", "PARTIALLY_ACCEPTED"}
FINAL = SUCCESSFUL | {"REJECTED", "ERROR"}


def default_pg() -> str:
    if os.environ.get("RUSH_PG"):
        return os.environ["RUSH_PG"]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return "postgres://postgres@127.0.0.1:5432/test"


def default_redis() -> str:
    if os.environ.get("RUSH_REDIS"):
        return os.environ["RUSH_REDIS"]
    url = os.environ.get("CELERY_BROKER_URL", "")
    base = url.rsplit("/", 1)[0] if url.startswith("redis://") else "redis://127.0.0.1:6379"
    return f"{base}/14"  # a database number of its own: the tests use 15


@dataclass
class RushConfig:
    providers: int = 50
    window: float = 60.0
    workers: int = 2
    web_workers: int = 3
    page_users: int = 4
    persons_min: int = 200
    persons_max: int = 3000
    error_every: int = 5
    duplicates: int = 2
    baseline: float = 15.0
    timeout: float = 900.0
    seed: int = 2017
    pg: str = field(default_factory=default_pg)
    redis: str = field(default_factory=default_redis)


# ============================================================================================== helpers
def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    xs = sorted(values)

    def pct(p: float) -> float:
        k = (len(xs) - 1) * p
        lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)

    return {"n": len(xs), "p50": pct(0.5), "p95": pct(0.95), "max": xs[-1]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class LoadSampler(threading.Thread):
    """The machine's 1-minute load average and CPU busy share, once a second (every process, not just ours:
    the cores are shared)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float, float]] = []  # (t, loadavg1, cpu busy 0-1)
        self._halt = threading.Event()

    @staticmethod
    def _cpu() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    def run(self) -> None:
        total0, idle0 = self._cpu()
        while not self._halt.wait(1.0):
            total, idle = self._cpu()
            busy = 1 - (idle - idle0) / max(1, total - total0)
            total0, idle0 = total, idle
            self.samples.append((time.time(), os.getloadavg()[0], busy))

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def summary(self, since: float = 0.0, until: float = float("inf")) -> dict[str, Any]:
        xs = [s for s in self.samples if since <= s[0] <= until]
        if not xs:
            return {}
        return {
            "cores": os.cpu_count(),
            "loadavg1_mean": round(statistics.fmean(s[1] for s in xs), 2),
            "loadavg1_max": round(max(s[1] for s in xs), 2),
            "cpu_busy_mean_pct": round(100 * statistics.fmean(s[2] for s in xs), 1),
        }


# ============================================================================================== database
def _admin_sql(pg: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(pg)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


class Scratch:
    """A scratch database next to ``pg`` (never ``pg``'s own), migrated, dropped at the end."""

    def __init__(self, pg: str) -> None:
        self.pg = pg
        self.name = f"iapt_rush_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.url = f"{pg.rsplit('/', 1)[0]}/{self.name}"

    def __enter__(self) -> Scratch:
        _admin_sql(self.pg, f'CREATE DATABASE "{self.name}"')
        try:
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "-v", "0"],
                cwd=ROOT,
                env={**os.environ, "DATABASE_URL": self.url},
                check=True,
                timeout=600,
            )
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            _admin_sql(self.pg, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except Exception as e:  # pragma: no cover - reported, not fatal
            print(f"could not drop {self.name}: {e}", file=sys.stderr)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg2

        conn = psycopg2.connect(self.url)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall())
        finally:
            conn.close()


# ============================================================================================== seeding
def provider_code(i: int) -> str:
    return f"RS{i + 1:03d}"


def seed(providers: int) -> dict[str, Any]:
    """Run in a child process with DATABASE_URL set to the scratch database (Django set up here)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from portal.api_tokens import api_token_create
    from portal.models import Role
    from tests.factories import CommissionerFactory, OrganisationFactory, UserFactory, WindowFactory

    WindowFactory(code="WRUSH", primary_rp=PERIOD, refresh_rp="2017-10")
    for code in COMMISSIONERS:
        CommissionerFactory(code=code, name=f"Commissioner {code}")
    tokens = {}
    users = []
    for i in range(providers):
        code = provider_code(i)
        org = OrganisationFactory(code=code, name=f"Rush provider {i + 1}")
        user = UserFactory(username=f"rush_{code.lower()}", organisation=org, role=Role.PROVIDER_SUBMITTER)
        users.append(user)
        tokens[code] = api_token_create(user=user, name="Rush bulk client", scopes=["read", "submit"]).secret
    # The page user: the first provider's submitter, signed in with both factors.
    page_user = users[0]
    device = TOTPDevice.objects.create(user=page_user, name="Authenticator", confirmed=True)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(page_user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = page_user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    return {"tokens": tokens, "session": store.session_key, "session_cookie": settings.SESSION_COOKIE_NAME}


# ============================================================================================== files
def make_files(cfg: RushConfig) -> list[dict[str, Any]]:
    """N different files (cached): persons spread over [persons_min, persons_max], some with errors."""
    from validation.synth import generate_idb, write_csvzip

    rng = random.Random(cfg.seed)
    folder = CACHE / "files"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(cfg.providers):
        code = provider_code(i)
        persons = rng.randint(cfg.persons_min, cfg.persons_max)
        errors = cfg.error_every > 0 and i % cfg.error_every == cfg.error_every - 1
        error_rate = 0.03 if errors else 0.0
        path = folder / f"{code}_{PERIOD}_{persons}p_s{cfg.seed + i}_e{error_rate}.zip"
        if not path.exists():
            tables = generate_idb(
                org=code,
                period=PERIOD,
                persons=persons,
                seed=cfg.seed + i,
                error_rate=error_rate,
                commissioners=COMMISSIONERS,
            )
            tmp = path.with_suffix(".tmp")
            write_csvzip(tables, tmp)
            tmp.rename(path)
        files.append(
            {
                "code": code,
                "path": str(path),
                "persons": persons,
                "errors": errors,
                "size": path.stat().st_size,
            }
        )
    return files


# ============================================================================================== the stack
class Stack:
    """gunicorn + a Celery worker (prefork, N processes) + beat on the scratch database and Redis."""

    def __init__(self, cfg: RushConfig, db: Scratch, work: Path) -> None:
        self.cfg = cfg
        self.work = work
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.queue = f"rush-{uuid.uuid4().hex[:8]}"
        media = work / "media"
        (media / "tmp").mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "DATABASE_URL": db.url,
            "CELERY_BROKER_URL": cfg.redis,
            "CACHE_URL": cfg.redis,  # throttle counters shared by the web processes
            "CELERY_QUEUE": self.queue,
            "PORTAL_MEDIA_ROOT": str(media),
            "FILE_UPLOAD_TEMP_DIR": str(media / "tmp"),
            "DJANGO_DEBUG": "false",
            "API_RATE": "100000/hour",  # one page user polls far more than a person would
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}

    def _start(self, name: str, cmd: list[str]) -> None:
        log = self.work / f"{name}.log"
        self.logs[name] = log
        with log.open("wb") as fh:
            self.procs[name] = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )

    def __enter__(self) -> Stack:
        py = sys.executable
        # fmt: off
        self._start("web", [py, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{self.port}",
                            "-w", str(self.cfg.web_workers), "--timeout", "120", "--graceful-timeout", "10"])
        self._start("beat", [py, "-m", "celery", "-A", "portal", "beat", "--loglevel", "WARNING",
                             "-s", str(self.work / "celerybeat-schedule")])
        # fmt: on
        self.logs["worker"] = self.work / "worker.log"
        self.procs["worker"] = start_worker(
            queue=self.queue,
            log_path=self.logs["worker"],
            media_root=self.env["PORTAL_MEDIA_ROOT"],
            env=self.env,
            database=self.env["DATABASE_URL"],
            concurrency=self.cfg.workers,
        ).proc
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self, timeout: float = 90) -> None:
        import requests

        deadline = time.monotonic() + timeout
        web = worker = False
        while time.monotonic() < deadline and not (web and worker):
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited: {self.logs[name].read_text(errors='replace')[-2000:]}"
                    )
            if not web:
                with contextlib.suppress(requests.RequestException):
                    web = requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
            worker = worker or " ready." in self.logs["worker"].read_text(errors="replace")
            time.sleep(0.3)
        if not (web and worker):
            raise RuntimeError(f"stack not ready after {timeout} s (web {web}, worker {worker})")

    def __exit__(self, *exc: object) -> None:
        for name in ("web", "beat", "worker"):
            stop(self.procs.get(name), timeout=30)
        try:
            import redis

            r = redis.Redis.from_url(self.cfg.redis)
            r.delete(self.queue)
            r.close()
        except Exception:  # pragma: no cover
            pass

    def queue_length(self, settle: float = 5.0) -> int:
        """Messages waiting in the queue; a periodic task beat has just sent is given ``settle`` seconds."""
        import redis

        r = redis.Redis.from_url(self.cfg.redis)
        try:
            deadline = time.monotonic() + settle
            while (n := int(r.llen(self.queue))) and time.monotonic() < deadline:
                time.sleep(0.5)
            return n
        finally:
            r.close()


# ============================================================================================== locust
class Locust:
    """A headless locust run against the stack; stopped with SIGTERM (it then writes its CSV)."""

    def __init__(self, stack: Stack, seeded: dict[str, Any], users: int, work: Path, label: str) -> None:
        self.prefix = work / f"locust-{label}"
        cmd = [
            sys.executable, "-m", "locust", "-f", str(ROOT / "tests" / "rush" / "locustfile.py"), "--headless",
            "-u", str(users), "-r", str(users), "-H", stack.url, "--csv", str(self.prefix), "--only-summary",
            "--run-time", "3600s", "--stop-timeout", "2", "--loglevel", "WARNING",
        ]  # fmt: skip
        env = {
            **os.environ,
            "RUSH_SESSION": seeded["session"],
            "RUSH_SESSION_COOKIE": seeded["session_cookie"],
        }
        self.log = work / f"locust-{label}.log"
        with self.log.open("wb") as fh:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
        self.started = time.time()

    def finish(self) -> dict[str, Any]:
        self.seconds = time.time() - self.started
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return self.stats()

    def stats(self) -> dict[str, Any]:
        path = Path(f"{self.prefix}_stats.csv")
        if not path.exists():
            return {"error": f"no locust CSV ({self.log.read_text(errors='replace')[-500:]})"}
        out: dict[str, Any] = {}
        with path.open() as fh:
            for row in csv.DictReader(fh):
                out[row["Name"]] = {
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50_ms": _num(row.get("50%")),
                    "p95_ms": _num(row.get("95%")),
                    "max_ms": _num(row.get("Max Response Time")),
                    "rps": round(float(row["Requests/s"]), 2),
                }
        return out


def _num(v: str | None) -> float | None:
    try:
        return round(float(v), 1) if v not in (None, "", "N/A") else None
    except ValueError:
        return None


# ============================================================================================== uploads
def upload_one(url: str, token: str, path: str, name: str) -> dict[str, Any]:
    import requests

    t = time.perf_counter()
    try:
        with open(path, "rb") as fh:
            r = requests.post(
                f"{url}/api/v1/submissions/",
                headers={"Authorization": f"Bearer {token}"},
                data={"period": PERIOD, "window_type": WINDOW_TYPE},
                files={"file": (name, fh, "application/zip")},
                timeout=120,
            )
        body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}
        return {
            "http": r.status_code,
            "seconds": time.perf_counter() - t,
            "submission_id": body.get("submission_id")
            or ((body.get("details") or {}).get("submission") or {}).get("submission_id"),
            "code": body.get("code"),
        }
    except Exception as exc:
        return {"http": None, "seconds": time.perf_counter() - t, "error": f"{type(exc).__name__}: {exc}"}


def run_uploads(
    cfg: RushConfig, stack: Stack, seeded: dict[str, Any], files: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One client thread per provider, start times spread evenly over the window; some send twice."""
    rng = random.Random(cfg.seed)
    order = list(range(len(files)))
    rng.shuffle(order)
    offsets = {i: cfg.window * k / max(1, len(files)) for k, i in enumerate(order)}
    twice = set(rng.sample(range(len(files)), min(cfg.duplicates, len(files))))
    t0 = time.monotonic()

    def client(i: int) -> dict[str, Any]:
        f = files[i]
        time.sleep(max(0.0, t0 + offsets[i] - time.monotonic()))
        name = Path(f["path"]).name
        res = {
            "code": f["code"],
            "offset": round(offsets[i], 2),
            **upload_one(stack.url, seeded["tokens"][f["code"]], f["path"], name),
        }
        if i in twice:  # the same file again at once: fault 5, must be refused without storing anything
            res["again"] = upload_one(stack.url, seeded["tokens"][f["code"]], f["path"], name)
        return res

    with ThreadPoolExecutor(max_workers=len(files)) as pool:
        return list(pool.map(client, range(len(files))))


# ============================================================================================== the run
def rush(cfg: RushConfig, work: Path | None = None, log=print) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    own_work = work is None
    work = Path(work or tempfile.mkdtemp(prefix="iapt-rush-"))
    work.mkdir(parents=True, exist_ok=True)
    sampler = LoadSampler()
    sampler.start()
    result: dict[str, Any] = {"config": {k: v for k, v in asdict(cfg).items() if k not in ("pg", "redis")}}
    result["machine"] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "host": platform.node(),
    }
    t_setup = time.time()
    try:
        files = make_files(cfg)
        log(f"files: {len(files)} generated ({sum(f['size'] for f in files) / 1e6:.1f} MB, "
            f"{sum(f['persons'] for f in files)} persons, {sum(f['errors'] for f in files)} with errors)")  # fmt: skip
        with Scratch(cfg.pg) as db:
            seeded_json = work / "seed.json"
            subprocess.run(
                [sys.executable, "-m", "tests.rush.run", "--seed-only", str(seeded_json), "--providers", str(cfg.providers)],
                cwd=ROOT, env={**os.environ, "DATABASE_URL": db.url}, check=True, timeout=300,
            )  # fmt: skip
            seeded = json.loads(seeded_json.read_text())
            seeded_json.unlink()
            with Stack(cfg, db, work) as stack:
                result["setup_seconds"] = round(time.time() - t_setup, 1)
                log(f"stack up on {stack.url} ({cfg.web_workers} web, {cfg.workers} worker processes); "
                    f"baseline pages for {cfg.baseline:.0f} s")  # fmt: skip
                base = Locust(stack, seeded, cfg.page_users, work, "baseline")
                time.sleep(cfg.baseline)
                b0 = base.started
                result["pages_baseline"] = base.finish()
                result["load_baseline"] = sampler.summary(b0, time.time())

                pages = Locust(stack, seeded, cfg.page_users, work, "rush")
                time.sleep(1.0)
                log(f"rush: {cfg.providers} uploads over {cfg.window:.0f} s")
                t0 = time.time()
                uploads = run_uploads(cfg, stack, seeded, files)
                t_uploaded = time.time()
                log(f"uploads done in {t_uploaded - t0:.1f} s; waiting for every submission to be final")
                statuses: dict[str, int] = {}
                deadline = t0 + cfg.timeout
                t_final = None
                while time.time() < deadline:
                    statuses = dict(
                        db.query("SELECT status, count(*) FROM submissions_submission GROUP BY status")
                    )
                    if sum(statuses.values()) >= cfg.providers and all(s in FINAL for s in statuses):
                        t_final = time.time()
                        break
                    time.sleep(0.5)
                result["pages_rush"] = pages.finish()
                result["load_rush"] = sampler.summary(t0, time.time())
                rows = db.query(
                    "SELECT o.code, s.status, s.is_live, s.sha256, "
                    "EXTRACT(EPOCH FROM s.finished_at - s.received_at), "
                    "EXTRACT(EPOCH FROM s.started_at - s.received_at) "
                    "FROM submissions_submission s JOIN portal_organisation o ON o.id = s.organisation_id"
                )
                duplicate_events = db.query(
                    "SELECT count(*) FROM portal_auditevent WHERE action = 'submission.duplicate'"
                )[0][0]
                result["queue_left"] = stack.queue_length()
                result["worker_log_errors"] = _log_errors(stack.logs["worker"])
        result.update(
            _summarise(cfg, files, uploads, rows, statuses, t0, t_uploaded, t_final, duplicate_events)
        )
    finally:
        sampler.stop()
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
    return finish_checks(result)


def _log_errors(path: Path) -> list[str]:
    text = path.read_text(errors="replace") if path.exists() else ""
    return [line[:300] for line in text.splitlines() if " ERROR/" in line or "Traceback" in line][:20]


def _summarise(  # type: ignore[no-untyped-def]
    cfg: RushConfig, files, uploads, rows, statuses, t0, t_uploaded, t_final, duplicate_events
) -> dict[str, Any]:
    by_code = {f["code"]: f for f in files}
    created = [u for u in uploads if u.get("http") == 201]
    again = [u["again"] for u in uploads if "again" in u]
    subs: dict[str, list[tuple[Any, ...]]] = {}
    for r in rows:
        subs.setdefault(r[0], []).append(r)
    finished = [float(r[4]) for r in rows if r[4] is not None]
    waited = [float(r[5]) for r in rows if r[5] is not None]
    checks: dict[str, bool] = {
        f"{cfg.providers} uploads answered 201": len(created) == cfg.providers,
        f"{cfg.providers} submissions stored, one per provider": len(rows) == cfg.providers
        and all(len(v) == 1 for v in subs.values())
        and set(subs) == set(by_code),
        "every submission final": t_final is not None and all(r[1] in FINAL for r in rows),
        "no ERROR": not any(r[1] == "ERROR" for r in rows),
        "clean files successful and live": all(
            r[1] in SUCCESSFUL and r[2] for r in rows if not by_code.get(r[0], {}).get("errors", True)
        ),
        "files with errors not Accepted": all(
            r[1] != "ACCEPTED" for r in rows if by_code.get(r[0], {}).get("errors", False)
        ),
        f"{len(again)} identical re-uploads refused (409), audited": all(a.get("http") == 409 for a in again)
        and duplicate_events == len(again),
        "queue empty": True,  # filled in below
        "no page failures": True,
    }
    return {
        "uploads": {
            "answered": dict(Counter(str(u.get("http")) for u in uploads)),
            "latency_s": _round(percentiles([u["seconds"] for u in uploads])),
            "spread_s": round(t_uploaded - t0, 1),
            "errors": [u for u in uploads if u.get("http") != 201][:10],
            "duplicates": [{"http": a.get("http"), "code": a.get("code")} for a in again],
        },
        "processing": {
            "statuses": dict(sorted(Counter(r[1] for r in rows).items())),
            "live": sum(1 for r in rows if r[2]),
            "all_final_after_first_upload_s": round(t_final - t0, 1) if t_final else None,
            "all_final_after_last_upload_s": round(t_final - t_uploaded, 1) if t_final else None,
            "received_to_final_s": _round(percentiles(finished)),
            "queued_s": _round(percentiles(waited)),
            "files_per_minute": round(len(finished) / max(1e-9, (t_final or time.time()) - t0) * 60, 1),
        },
        "statuses_at_end": statuses,
        "checks": checks,
    }


def _round(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in d.items()}


def finish_checks(result: dict[str, Any]) -> dict[str, Any]:
    checks = result.setdefault("checks", {})
    checks["queue empty"] = result.get("queue_left", 1) == 0
    pages = result.get("pages_rush") or {}
    checks["no page failures"] = "error" not in pages and all(v["failures"] == 0 for v in pages.values())
    checks["pages measured"] = any(
        k.startswith("home") and v["requests"] > 0 for k, v in pages.items() if isinstance(v, dict)
    )
    result["ok"] = all(checks.values())
    return result


# ============================================================================================== output
def table(result: dict[str, Any]) -> str:
    cfg = result["config"]
    up, pr = result.get("uploads", {}), result.get("processing", {})
    lines = [
        f"Deadline rush: {cfg['providers']} providers over {cfg['window']:.0f} s; {cfg['web_workers']} gunicorn "
        f"workers, {cfg['workers']} Celery processes; {cfg['page_users']} locust users",
        f"machine: {result['machine']['cores']} cores; load during the rush: {result.get('load_rush')}",
        "",
        f"uploads: {up.get('answered')}  latency p50 {up.get('latency_s', {}).get('p50')} s, "
        f"p95 {up.get('latency_s', {}).get('p95')} s, max {up.get('latency_s', {}).get('max')} s; "
        f"identical re-uploads {up.get('duplicates')}",
        f"processing: {pr.get('statuses')} (live {pr.get('live')}); every file final "
        f"{pr.get('all_final_after_first_upload_s')} s after the first upload "
        f"({pr.get('all_final_after_last_upload_s')} s after the last); received->final "
        f"p50 {pr.get('received_to_final_s', {}).get('p50')} s, p95 {pr.get('received_to_final_s', {}).get('p95')} s, "
        f"max {pr.get('received_to_final_s', {}).get('max')} s",
        "",
        f"{'page (ms)':<44}{'phase':<10}{'requests':>9}{'fail':>6}{'p50':>8}{'p95':>8}{'max':>8}",
    ]
    for phase in ("baseline", "rush"):
        for name, s in (result.get(f"pages_{phase}") or {}).items():
            if isinstance(s, dict):
                lines.append(
                    f"{name[:43]:<44}{phase:<10}{s['requests']:>9}{s['failures']:>6}"
                    f"{_fmt(s['p50_ms'])}{_fmt(s['p95_ms'])}{_fmt(s['max_ms'])}"
                )
    lines.append("")
    for name, ok in result.get("checks", {}).items():
        lines.append(f"  [{'ok' if ok else 'FAIL'}] {name}")
    return "\n".join(lines)


def _fmt(v: float | None) -> str:
    return f"{v:>8.0f}" if v is not None else f"{'-':>8}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    d = RushConfig()
    p.add_argument("--providers", type=int, default=d.providers)
    p.add_argument("--window", type=float, default=d.window, help="seconds over which the uploads start")
    p.add_argument("--workers", type=int, default=d.workers, help="Celery worker processes")
    p.add_argument("--web-workers", type=int, default=d.web_workers, help="gunicorn workers")
    p.add_argument("--page-users", type=int, default=d.page_users, help="locust users reading pages")
    p.add_argument("--persons", default=f"{d.persons_min}-{d.persons_max}", help="persons per file, MIN-MAX")
    p.add_argument("--error-every", type=int, default=d.error_every)
    p.add_argument("--duplicates", type=int, default=d.duplicates)
    p.add_argument("--baseline", type=float, default=d.baseline, help="seconds of page measurement before")
    p.add_argument("--timeout", type=float, default=d.timeout, help="longest wait for every file to be final")
    p.add_argument("--json", default=str(CACHE / "rush.json"))
    p.add_argument("--work", default=None, help="keep logs here (default: a temporary folder, removed)")
    p.add_argument("--seed-only", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.seed_only:
        Path(args.seed_only).write_text(json.dumps(seed(args.providers)))
        return 0
    lo, _, hi = args.persons.partition("-")
    cfg = RushConfig(
        providers=args.providers,
        window=args.window,
        workers=args.workers,
        web_workers=args.web_workers,
        page_users=args.page_users,
        persons_min=int(lo),
        persons_max=int(hi or lo),
        error_every=args.error_every,
        duplicates=args.duplicates,
        baseline=args.baseline,
        timeout=args.timeout,
    )
    result = rush(cfg, Path(args.work) if args.work else None)
    print(table(result))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nJSON: {out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
