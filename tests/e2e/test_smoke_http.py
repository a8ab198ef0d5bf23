"""The README's start command, driven through HTTP as a newcomer would: sign in, upload, watch, download.

Runs ``scripts/start`` in the embedded default (SQLite, local files, filesystem broker, real worker)
in a temporary directory, whatever database and broker the rest of the suite uses.
"""

from __future__ import annotations

import re
import time

import pytest
import requests

pytestmark = pytest.mark.slow


def login(base: str, username: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = s.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": "demo-password-2026", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    assert r.status_code == 200 and "Sign out" in r.text, r.text[:2000]
    return s


def wait_final(s: requests.Session, base: str, sid: str) -> dict:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        p = s.get(f"{base}/submissions/{sid}/progress.json").json()
        if p["final"]:
            return p
        time.sleep(0.5)
    pytest.fail(f"{sid} did not finish")


def test_start_prints_url_and_logins(portal):  # type: ignore[no-untyped-def]
    base, var = portal
    text = (var / "start.log").read_text()
    assert base + "/" in text
    assert "submitter1" in text and "demo-password-2026" in text


def test_seeded_sample_is_validated_by_the_worker(portal):  # type: ignore[no-untyped-def]
    base, _ = portal
    s = login(base, "submitter1")
    assert wait_final(s, base, "TSTP1-0000001")["status"] == "ACCEPTED"
    home = s.get(f"{base}/submissions/")
    assert "TSTP1-0000001" in home.text and "days left" in home.text


def test_upload_xlsx_watch_and_download(portal):  # type: ignore[no-untyped-def]
    base, var = portal
    s = login(base, "submitter1")
    form = s.get(f"{base}/submissions/upload/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    pair = re.search(r'name="pair" type="radio" value="([^"]+\|Primary)"', form.text).group(1)  # type: ignore[union-attr]
    sample = next((var / "demo-files").glob("*_with_errors.zip"))
    with sample.open("rb") as fh:
        r = s.post(
            f"{base}/submissions/upload/",
            data={"pair": pair, "csrfmiddlewaretoken": token},
            files={"file": (sample.name, fh)},
            headers={"Referer": f"{base}/submissions/upload/"},
        )
    assert r.status_code == 200
    sid = re.search(r"Submission (TSTP1-[0-9]{7})", r.text).group(1)  # type: ignore[union-attr]
    final = wait_final(s, base, sid)
    assert final["status"] in ("PARTIALLY_ACCEPTED", "ACCEPTED_WITH_WARNINGS", "REJECTED")
    report = s.get(f"{base}/submissions/{sid}/validation.csv")
    assert report.status_code == 200 and report.text.startswith("SUBMISSION_ID,RULE_ID")
    assert sid in report.text
    xlsx = s.get(f"{base}/submissions/{sid}/validation.xlsx")
    assert xlsx.content[:2] == b"PK"
    other = login(base, "submitter2")
    assert other.get(f"{base}/submissions/{sid}/").status_code == 404
