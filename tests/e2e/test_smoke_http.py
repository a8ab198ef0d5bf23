"""The README's start command, driven through HTTP as a newcomer would: sign in, upload, watch, download.

Runs ``scripts/start`` in the embedded default (SQLite, local files, filesystem broker, real worker)
in a temporary directory, whatever database and broker the rest of the suite uses.
"""

from __future__ import annotations

import base64
import re
import time

import pytest
import requests

from tests.e2e.conftest import demo_code

pytestmark = pytest.mark.slow
_SESSIONS: dict[str, requests.Session] = {}


def csrf(text: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]


def password_step(base: str, username: str) -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    page = s.get(f"{base}/accounts/login/")
    r = s.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": "demo-password-2026", "csrfmiddlewaretoken": csrf(page.text)},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    assert r.status_code == 200, r.text[:2000]
    return s, r


def login(base: str, username: str) -> requests.Session:
    """Sign in with the password and the demo user's two-factor code (one session per user per run)."""
    if username in _SESSIONS:
        return _SESSIONS[username]
    s, r = password_step(base, username)
    assert "Enter your security code" in r.text, r.text[:2000]
    r = s.post(
        r.url,
        data={"code": demo_code(username), "csrfmiddlewaretoken": csrf(r.text)},
        headers={"Referer": r.url},
    )
    assert r.status_code == 200 and "Sign out" in r.text and "security code" not in r.text, r.text[:2000]
    _SESSIONS[username] = s
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
    assert "manage.py demo_totp USERNAME" in text and "newuser1" in text and "applicant1" in text


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

    def send() -> requests.Response:
        with sample.open("rb") as fh:
            return s.post(
                f"{base}/submissions/upload/",
                data={"pair": pair, "csrfmiddlewaretoken": token},
                files={"file": (sample.name, fh)},
                headers={"Referer": f"{base}/submissions/upload/"},
            )

    r = send()
    assert r.status_code == 200
    # The browser test may have sent this very file already: then the page names that submission (issue 8).
    found = re.search(r"Submission (TSTP1-[0-9]{7})", r.text) or re.search(
        r'id="duplicate".*?href="/submissions/(TSTP1-[0-9]{7})/"', r.text, re.S
    )
    sid = found.group(1)  # type: ignore[union-attr]
    # The same file again is recognised and not validated twice; the page names the earlier submission.
    again = send()
    assert again.status_code == 200 and "This file was already uploaded" in again.text
    assert f'href="/submissions/{sid}/"' in again.text
    final = wait_final(s, base, sid)
    assert final["status"] in ("PARTIALLY_ACCEPTED", "ACCEPTED_WITH_WARNINGS", "REJECTED")
    report = s.get(f"{base}/submissions/{sid}/validation.csv")
    assert report.status_code == 200 and report.text.startswith("SUBMISSION_ID,RULE_ID")
    assert sid in report.text
    xlsx = s.get(f"{base}/submissions/{sid}/validation.xlsx")
    assert xlsx.content[:2] == b"PK"
    other = login(base, "submitter2")
    assert other.get(f"{base}/submissions/{sid}/").status_code == 404


def test_new_user_must_enrol_in_two_factor_sign_in(portal):  # type: ignore[no-untyped-def]
    """The demo's newuser1 has no authenticator yet: the first sign-in sets one up, with recovery codes."""
    base, _ = portal
    s, r = password_step(base, "newuser1")
    assert "Set up two-factor sign-in" in r.text and 'src="data:image/svg+xml' in r.text
    assert s.get(f"{base}/submissions/", allow_redirects=False).status_code == 302
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', r.text).group(1).replace(" ", "")  # type: ignore[union-attr]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()
    from portal.demo import totp_code

    r = s.post(
        r.url,
        data={"code": totp_code(key), "csrfmiddlewaretoken": csrf(r.text)},
        headers={"Referer": r.url},
    )
    assert "Your recovery codes" in r.text
    assert len(re.findall(r"<li><code>[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}</code></li>", r.text)) == 10
    home = s.get(f"{base}/submissions/")
    assert home.status_code == 200 and "Upload a file" not in home.text  # a viewer


def test_ig_lead_sees_the_pending_access_request(portal):  # type: ignore[no-untyped-def]
    base, _ = portal
    s = login(base, "iglead1")
    page = s.get(f"{base}/account/access-requests/")
    assert page.status_code == 200 and "applicant1" in page.text and "applicant2" not in page.text
    admin = login(base, "admin").get(f"{base}/account/access-requests/")
    assert "applicant2" in admin.text and "Not registered" in admin.text


def test_security_headers(portal):  # type: ignore[no-untyped-def]
    base, _ = portal
    r = requests.get(f"{base}/accounts/login/")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
