"""Fixtures for every test package: the Django test clients sign in with both factors (see tests/fixtures.py)."""

from tests.fixtures import admin_client, client  # noqa: F401
