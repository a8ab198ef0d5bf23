"""Locust users for the deadline rush (tests/rush/run.py): a signed-in provider user reading pages.

Started by the rush as ``locust -f tests/rush/locustfile.py --headless ...``; it is not a test module.
Environment: ``RUSH_SESSION`` (the session cookie value of a provider submitter who passed two-factor
sign-in) and ``RUSH_SESSION_COOKIE`` (the cookie's name). Every request must answer 200 without a redirect
(a redirect would be the sign-in page: a failure).

What a provider user does during the rush: opens the submissions home page (the page ``/`` sends a
provider to), polls the progress of its latest file as the status page does (JSON, every ~1 s), and a
bulk client polls the API's submission detail.
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, task


class ProviderUser(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.client.cookies.set(
            os.environ.get("RUSH_SESSION_COOKIE", "sessionid"), os.environ["RUSH_SESSION"]
        )
        self.latest: str | None = None

    def _get(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")

    def _refresh_latest(self) -> None:
        with self.client.get(
            "/api/v1/submissions/?page_size=1", name="api list (latest)", catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return
            results = r.json().get("results") or []
            self.latest = results[0]["submission_id"] if results else None

    @task(3)
    def home(self) -> None:
        self._get("/submissions/", "home /submissions/")

    @task(2)
    def progress(self) -> None:
        if self.latest is None or random.random() < 0.1:
            self._refresh_latest()
        if self.latest:
            self._get(f"/submissions/{self.latest}/progress.json", "progress /submissions/<id>/progress.json")

    @task(1)
    def api_status(self) -> None:
        if self.latest:
            self._get(f"/api/v1/submissions/{self.latest}/", "api /api/v1/submissions/<id>/")
