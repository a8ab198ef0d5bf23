"""The running embedded portal (``scripts/start`` in a temporary directory), shared by the e2e tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from portal.demo import STEP, demo_totp_key, totp_code

ROOT = Path(__file__).resolve().parents[2]
_LAST_STEP: dict[str, int] = {}


def demo_code(username: str) -> str:
    """The demo user's current two-factor code, as their authenticator app would show it.

    A code is accepted once (django-otp refuses a time step already used), so a second sign-in of the
    same user within the same 30 seconds waits for the next step.
    """
    while int(time.time()) // STEP <= _LAST_STEP.get(username, -1):
        time.sleep(STEP - time.time() % STEP + 0.2)
    now = time.time()
    _LAST_STEP[username] = int(now) // STEP
    return totp_code(demo_totp_key(username), at=now)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def portal(tmp_path_factory):  # type: ignore[no-untyped-def]
    var = tmp_path_factory.mktemp("embedded")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_QUEUE", "DJANGO_SETTINGS_MODULE")
    }
    env.update(PORTAL_VAR_DIR=str(var), PORT=str(port))
    log = (var / "start.log").open("wb")
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "start")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("scripts/start exited:\n" + (var / "start.log").read_text()[-4000:])
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        pytest.fail("portal did not start:\n" + (var / "start.log").read_text()[-4000:])
    yield base, var
    os.killpg(proc.pid, signal.SIGINT)  # quick shutdown: gunicorn does not wait for keep-alive clients
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()
