"""Sign-in security: headers, production settings, lockout, two-factor sign-in, idle sessions, templates."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def totp_now(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def unthrottle(user) -> None:  # type: ignore[no-untyped-def]
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)


def sign_in_password(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(reverse("login"), {"username": username, "password": password})


# ------------------------------------------------------------------------------------------ headers


def test_security_headers_on_every_page(client, submitter_a) -> None:  # type: ignore[no-untyped-def]
    client.login(username=submitter_a.username, password=PASSWORD)
    for url in ("/accounts/login/", "/submissions/", "/api/docs/", "/api/v1/windows/"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["img-src"] == "'self' data:"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["form-action"] == "'self'"
        assert "unsafe" not in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SECURE="true",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50)[:50],
        DJANGO_ALLOWED_HOSTS="portal.example",
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_VAR_DIR=str(tmp_path),
    )
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PROBE = """
import django
django.setup()
from django.conf import settings
from django.test import Client
c = Client(HTTP_HOST="portal.example")
plain = c.get("/accounts/login/")
r = c.get("/accounts/login/", secure=True)
cookie = r.cookies["csrftoken"]
print(plain.status_code, plain["Location"])
print(r.status_code, r["Strict-Transport-Security"])
print(bool(cookie["secure"]), bool(cookie["httponly"]), cookie["samesite"])
print(settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY, settings.CSRF_COOKIE_SECURE)
"""


def test_https_only_with_production_settings(tmp_path: Path) -> None:
    """DJANGO_SECURE=true: plain HTTP is redirected; HSTS; cookies only over HTTPS and not readable by scripts."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()[-4:]
    assert lines[0] == "301 https://portal.example/accounts/login/"
    assert lines[1] == "200 max-age=31536000; includeSubDomains; preload"
    assert lines[2] == "True True Lax"
    assert lines[3] == "True True True"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_have_nothing_inline() -> None:
    """The strict CSP blocks inline scripts and styles: no template may rely on them."""
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = re.sub(r"{% comment %}.*?{% endcomment %}", "", path.read_text(), flags=re.S)
        for pattern, what in INLINE:
            if pattern.search(text):
                problems.append(f"{path.relative_to(ROOT)}: {what}")
    assert not problems


# ------------------------------------------------------------------------------------------ lockout


def test_lockout_after_repeated_failures(submitter_a) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in_password(client, submitter_a.username, "wrong-password")
        assert response.status_code == 200 and "Please enter a correct" in response.content.decode()
    response = sign_in_password(client, submitter_a.username, "wrong-password")
    assert response.status_code == 429
    # Locked: even the right password is refused, from any client.
    response = sign_in_password(Client(), submitter_a.username)
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()
    assert "_auth_user_id" not in Client().session
    actions = list(
        AuditEvent.objects.filter(details__username=submitter_a.username).values_list("action", flat=True)
    )
    assert actions.count("auth.login_failed") >= settings.AXES_FAILURE_LIMIT
    assert "auth.locked_out" in actions
    assert "auth.login" not in actions


def test_sign_in_and_failure_are_audited(submitter_a) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    sign_in_password(client, submitter_a.username, "wrong-password")
    sign_in_password(client, "nobody-of-that-name", "wrong-password")
    sign_in_password(client, submitter_a.username)
    events = list(AuditEvent.objects.order_by("id").values_list("action", "details"))
    failed = [d for a, d in events if a == "auth.login_failed"]
    assert [d["username"] for d in failed] == [submitter_a.username, "nobody-of-that-name"]
    assert [d["known_user"] for d in failed] == [True, False]
    assert all("password" not in str(d) for _, d in events)
    assert AuditEvent.objects.filter(action="auth.login", actor=submitter_a).count() == 1


def test_password_strength_is_checked() -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("short-1A", "alllowercaseletters", "123456789012345", "password1234"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("Correct-horse-battery-9")


# ------------------------------------------------------------------------------- two-factor sign-in


def test_first_sign_in_enrols_then_codes_are_required(submitter_a) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    response = sign_in_password(client, submitter_a.username)
    assert response.status_code == 302
    # Anything but the second-factor pages sends the user to enrol.
    response = client.get("/submissions/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("two-factor-setup"))
    page = response.content.decode()
    assert 'src="data:image/svg+xml' in page and "Set up two-factor sign-in" in page
    assert client.get("/api/v1/windows/").status_code == 401  # nor the API through the session
    device = TOTPDevice.objects.get(user=submitter_a, confirmed=False)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)  # type: ignore[union-attr]
    assert secret.replace(" ", "") in device.config_url

    wrong = client.post(reverse("two-factor-setup"), {"code": "000000", "next": "/submissions/"})
    assert "The code is not right" in wrong.content.decode()
    unthrottle(submitter_a)
    done = client.post(reverse("two-factor-setup"), {"code": totp_now(device), "next": "/submissions/"})
    codes = re.findall(r"<li><code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code></li>", done.content.decode())
    assert len(codes) == settings.RECOVERY_CODE_COUNT
    assert client.get("/submissions/").status_code == 200
    assert client.get("/api/v1/windows/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.2fa_enrolled", actor=submitter_a).exists()

    # Next time: password, then a code; a recovery code works once.
    again = Client()
    sign_in_password(again, submitter_a.username)
    response = again.get("/submissions/upload/")
    assert response["Location"] == f"{reverse('two-factor')}?next=%2Fsubmissions%2Fupload%2F"
    assert again.get(reverse("two-factor-setup"))["Location"].startswith(
        reverse("two-factor")
    )  # no re-enrolling
    bad = again.post(reverse("two-factor"), {"code": "123456", "next": "/submissions/upload/"})
    assert "The code is not right" in bad.content.decode()
    unthrottle(submitter_a)  # each wrong code makes the devices wait (1 s, doubling) before the next try
    ok = again.post(reverse("two-factor"), {"code": codes[0], "next": "/submissions/upload/"})
    assert ok.status_code == 302 and ok["Location"] == "/submissions/upload/"
    assert again.get("/submissions/upload/").status_code == 200
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    third = Client()
    sign_in_password(third, submitter_a.username)
    reused = third.post(reverse("two-factor"), {"code": codes[0]})
    assert "The code is not right" in reused.content.decode()
    assert AuditEvent.objects.filter(action="auth.2fa_failed", actor=submitter_a).count() >= 3


def test_two_factor_next_must_be_this_site(submitter_a) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    sign_in_password(client, submitter_a.username)
    device = TOTPDevice.objects.create(user=submitter_a, name="phone", confirmed=True)
    before = client.cookies["sessionid"].value
    response = client.post(reverse("two-factor"), {"code": totp_now(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")
    assert client.cookies["sessionid"].value != before  # a new session id once both factors are done


def test_unverified_user_has_no_menu(submitter_a) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    sign_in_password(client, submitter_a.username)
    TOTPDevice.objects.create(user=submitter_a, name="phone", confirmed=True)
    page = client.get(reverse("two-factor")).content.decode()
    assert "Enter your security code" in page
    assert "Upload a file" not in page and "Sign out" in page


# ------------------------------------------------------------------------------------- idle sessions


def test_idle_session_ends(client, submitter_a, settings) -> None:  # type: ignore[no-untyped-def]
    client.login(username=submitter_a.username, password=PASSWORD)
    assert client.get("/submissions/").status_code == 200
    session = client.session
    session["portal_last_seen"] = int(time.time()) - settings.SESSION_IDLE_SECONDS - 5
    session.save()
    response = client.get("/submissions/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get("/submissions/")["Location"].startswith(
        reverse("login")
    )  # signed out, not just redirected
    assert client.get("/api/v1/windows/").status_code == 401


def test_active_session_stays(client, submitter_a) -> None:  # type: ignore[no-untyped-def]
    client.login(username=submitter_a.username, password=PASSWORD)
    session = client.session
    session["portal_last_seen"] = int(time.time()) - 120
    session.save()
    assert client.get("/submissions/").status_code == 200
    assert client.session["portal_last_seen"] >= int(time.time()) - 5
