"""Real Celery worker processes for tests (not eager mode), against the test database.

``start_worker`` runs ``celery -A portal worker`` in its own process group (so a test can SIGKILL the
worker with its pool children, as the kernel's OOM killer or a lost machine would), on a queue of its
own, with the test database (``database_url()``) and media directory, and extra environment variables
(e.g. a private broker, shorter reliability settings, a file e-mail backend).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The URL of the database this test process uses (the test database), for a subprocess."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log_path: Path
    killed: bool = False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]

    def wait_for_log(self, text: str, timeout: float) -> bool:
        """Wait (bounded) until ``text`` appears in the worker's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return True
            time.sleep(0.2)
        return False

    def pool_pids(self) -> list[int]:
        """The worker's child processes (its prefork pool), from /proc."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once: nothing runs its shutdown code."""
        self.killed = True
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        self.killed = True
        if self.alive():
            with _suppress_lookup():
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        with _suppress_lookup():
            os.killpg(self.proc.pid, signal.SIGKILL)  # pool children left behind, if any


class _suppress_lookup:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:  # type: ignore[no-untyped-def]
        return exc_type is not None and issubclass(exc_type, ProcessLookupError)


def start_worker(
    *,
    queue: str,
    log_path: Path,
    media_root: str,
    env: dict[str, str] | None = None,
    beat: bool = False,
    database: str | None = None,
    concurrency: int = 1,
    pool: str | None = None,
) -> Worker:
    """A ``celery worker`` consuming ``queue`` only (``concurrency`` processes of ``pool``, default prefork),
    with embedded beat if asked. Also used outside pytest (the benchmark, the deadline rush) with
    ``database`` given."""
    full_env = {
        **os.environ,
        "DATABASE_URL": database or database_url(),
        "PORTAL_MEDIA_ROOT": media_root,
        "CELERY_QUEUE": queue,
        **(env or {}),
    }
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        "-Q",
        queue,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if pool:
        args += ["--pool", pool]
    if beat:
        args += ["--beat", "--schedule", str(log_path.with_suffix(".beat-schedule"))]
    out = log_path.open("ab")
    proc = subprocess.Popen(
        args, env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
    )
    out.close()
    return Worker(proc=proc, log_path=log_path)
