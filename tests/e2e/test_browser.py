"""Browser journeys in Debian's Chromium, driven by Playwright, against the running embedded portal.

Screenshots of each final page are kept in the folder printed at the start of the run.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from tests.e2e.conftest import demo_code

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]
PASSWORD = "demo-password-2026"


@pytest.fixture(scope="module")
def browser(portal) -> Iterator[object]:  # type: ignore[no-untyped-def]
    base, var = portal
    shots = var / "screenshots"
    shots.mkdir(exist_ok=True)
    print(f"\nbrowser screenshots: {shots}")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b, base, shots, var
        b.close()


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Enter your security code")
    page.fill("#id_code", demo_code(username))
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/" not in url)
    page.wait_for_selector("text=Sign out")


def test_submitter_uploads_watches_progress_and_opens_the_xlsx_report(browser):  # type: ignore[no-untyped-def]
    b, base, shots, var = browser
    page = b.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "submitter1")
    page.click("text=Upload a file")
    page.check("input[name=pair][value$='|Primary']")
    sample = next((var / "demo-files").glob("*_with_errors.zip"))
    page.set_input_files("#id_file", str(sample))
    page.click("main button[type=submit]")
    page.wait_for_selector(".app-progress, .app-outcome, #duplicate", timeout=30_000)
    if page.is_visible("#duplicate"):
        # The HTTP smoke test may have sent this very file first: the portal names that submission
        # instead of validating it twice (issue 8), and its page is the one to watch.
        page.click("#duplicate a >> nth=0")
        page.wait_for_selector(".app-progress, .app-outcome", timeout=30_000)
    # The progress bar moves without a reload and the page shows the outcome when done.
    page.wait_for_selector(".app-outcome", timeout=120_000)
    heading = page.inner_text(".app-outcome h2")
    assert heading in ("Partially accepted", "Accepted with warnings", "Rejected")
    assert page.is_visible("text=Rows per table")
    page.screenshot(path=str(shots / "submitter-status.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=Validation report (Excel)")
    assert download.value.suggested_filename.endswith("_validation.xlsx")
    path = shots / download.value.suggested_filename
    download.value.save_as(path)
    workbook = openpyxl.load_workbook(path, read_only=True)
    findings = workbook["Findings"]
    header = [c.value for c in next(findings.iter_rows(min_row=1, max_row=1))]
    assert header[:3] == ["SUBMISSION_ID", "RULE_ID", "SEVERITY"]
    assert findings.max_row > 1
    assert errors == [], errors


def test_commissioner_downloads_its_extract(browser):  # type: ignore[no-untyped-def]
    b, base, shots, _ = browser
    page = b.new_page(viewport={"width": 1200, "height": 900})
    sign_in(page, base, "commissioner1")
    page.goto(f"{base}/extracts/")
    page.wait_for_selector("text=Commissioner extracts")
    for _ in range(60):  # the seeded sample may still be in the worker's hands
        if page.is_visible("text=ZIP of CSV files"):
            break
        page.wait_for_timeout(1000)
        page.reload()
    page.screenshot(path=str(shots / "commissioner-extracts.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=ZIP of CSV files >> nth=0")
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as zf:
        headers = {name: zf.read(name).decode().splitlines()[0] for name in zf.namelist()}
    assert headers["Referral.csv"].startswith("ORGCODEPROVIDER,")
    person_columns = headers["Person.csv"].split(",")
    assert "NHSNO" not in person_columns and "DOB" not in person_columns and "POSTCODE" not in person_columns


def test_api_docs_render_under_the_strict_csp(browser):  # type: ignore[no-untyped-def]
    """Swagger UI (served from the portal's static files) works with script-src/style-src 'self'."""
    b, base, shots, _ = browser
    page = b.new_page(viewport={"width": 1200, "height": 900})
    violations: list[str] = []
    page.on(
        "console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector("text=IAPT submission portal API", timeout=30_000)
    page.wait_for_selector(".opblock", timeout=30_000)
    page.screenshot(path=str(shots / "api-docs.png"), full_page=False)
    assert not violations


def test_admin_generates_and_publishes_a_year_of_windows(browser):  # type: ignore[no-untyped-def]
    b, base, shots, _ = browser
    page = b.new_page(viewport={"width": 1200, "height": 900})
    sign_in(page, base, "admin")
    page.goto(f"{base}/submissions/timetable/")
    page.fill("#id_year", "2031")
    page.click("text=Generate drafts")
    page.wait_for_selector("text=12 draft window(s) created")
    assert page.locator("tr:has-text('W203105') >> text=Draft").count() == 1
    page.click("text=Publish all draft windows")
    page.wait_for_selector("text=12 window(s) published")
    assert page.locator("tr:has-text('W203105') >> text=Published").count() == 1
    page.screenshot(path=str(shots / "admin-timetable.png"), full_page=True)
