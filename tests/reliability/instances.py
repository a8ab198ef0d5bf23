"""Private Redis and PostgreSQL instances that fault tests may stop, kill and restart.

Never the machine's shared servers (5432, 6379): each instance listens on a free loopback port with its
data in a temporary directory, and is torn down by the fixture that made it. Tests skip (with the reason)
only when the server binaries are missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.celery import app as celery_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class RedisServer:
    """``redis-server`` without persistence on a free port; ``stop()`` and ``start()`` again at will."""

    def __init__(self, directory: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        assert self.binary is not None
        log = (self.directory / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        if not wait_until(self.ping, 10):
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


class PostgresCluster:
    """A throw-away PostgreSQL cluster (initdb) on a free port with its socket in its own directory.

    PostgreSQL refuses to run as root, so as root the server programs run as the ``postgres`` user
    (``runuser``). fsync is off: this is for crash tests of the application, not of PostgreSQL."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        initdb = bins[-1] if bins else shutil.which("initdb")
        if initdb is None:
            pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.bindir = Path(initdb).parent
        self.as_root = os.geteuid() == 0
        if self.as_root and shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start a private PostgreSQL")
        self.directory = Path(tempfile.mkdtemp(prefix="iapt-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        if self.as_root:
            shutil.chown(self.directory, "postgres", "postgres")

    def _run(self, *args: str, timeout: float = 60) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout, cwd=self.directory)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "pg.log"), "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def connect(self, db: str = "postgres"):  # type: ignore[no-untyped-def]
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=db, connect_timeout=2
        )
        conn.autocommit = True
        return conn

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def celery_publishing_to(broker_url: str, queue: str) -> Iterator[None]:
    """This test process publishes its tasks to ``broker_url``/``queue`` (as the web process would)."""
    conf = celery_app.conf
    old = (conf.broker_url, conf.broker_transport_options, conf.task_default_queue)
    # Celery reads CELERY_BROKER_URL from the environment before its configuration (CI sets it).
    old_env = os.environ.pop("CELERY_BROKER_URL", None)
    conf.broker_url = broker_url
    conf.broker_transport_options = {"socket_connect_timeout": 2, "socket_timeout": 5}
    conf.task_default_queue = queue
    _reset_pools()
    try:
        yield
    finally:
        _reset_pools()
        conf.broker_url, conf.broker_transport_options, conf.task_default_queue = old
        if old_env is not None:
            os.environ["CELERY_BROKER_URL"] = old_env


def _reset_pools() -> None:
    # The next publish builds its connection and producer pools for the current broker_url.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def sent_mail(directory: Path) -> list[str]:
    """Subjects of the e-mails Django's file backend wrote to ``directory`` (one file per connection)."""
    subjects = []
    for path in sorted(directory.glob("*.log")) if directory.exists() else []:
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("Subject: "):
                subjects.append(line[len("Subject: ") :])
    return subjects
