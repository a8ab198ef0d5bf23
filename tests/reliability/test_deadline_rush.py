"""Issue 8, fault 7: the deadline rush at CI size (6 providers, 2 Celery processes) on the real services.

The same code as ``python -m tests.rush.run --providers 50 --window 60`` (README, "Deadline rush"): a
scratch PostgreSQL database, gunicorn, a Celery worker and beat, Redis db 14, locust reading the pages, the
uploads through the API. Runs in the default test run when PostgreSQL and Redis are configured (CI sets
DATABASE_URL and CELERY_BROKER_URL); skipped on the SQLite/filesystem default.
"""

from __future__ import annotations

import os

import pytest

from tests.rush.run import RushConfig, rush, table

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    or not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"),
    reason="needs PostgreSQL and Redis (DATABASE_URL=postgres://..., CELERY_BROKER_URL=redis://...)",
)


def test_deadline_rush_small(tmp_path):  # type: ignore[no-untyped-def]
    cfg = RushConfig(
        providers=6,
        window=10,
        workers=2,
        web_workers=2,
        page_users=2,
        persons_min=100,
        persons_max=800,
        error_every=3,
        duplicates=1,
        baseline=3,
        timeout=120,
    )
    result = rush(cfg, tmp_path, log=lambda *_: None)
    print(table(result))
    assert result["ok"], table(result)
    assert result["processing"]["statuses"].get("ERROR", 0) == 0
    assert result["uploads"]["answered"] == {"201": 6}
