"""Fixtures for every test package: the Django test clients sign in with both factors (see tests/fixtures.py)."""

from collections.abc import Iterator

import pytest

from tests.fixtures import admin_client, client  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Counters kept in the cache (the access-request limit) start at zero in every test."""
    from django.core.cache import cache

    cache.clear()
    yield
