from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from hypothesis.configuration import set_hypothesis_home_dir
from rest_framework.test import APIClient

from portal.api_tokens import api_token_create
from tests.fixtures import *  # noqa: F403

# Hypothesis (under schemathesis) keeps its caches under var/, not in the work tree's root.
set_hypothesis_home_dir(str(settings.VAR_DIR / "hypothesis"))


@pytest.fixture(autouse=True)
def fresh_throttles():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def no_broker():  # type: ignore[no-untyped-def]
    with mock.patch("submissions.services._enqueue") as enqueue:
        yield enqueue


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def submit_token(submitter_a):  # type: ignore[no-untyped-def]
    return api_token_create(user=submitter_a, name="PAS export", scopes=["read", "submit"])


@pytest.fixture
def read_token(viewer_a):  # type: ignore[no-untyped-def]
    return api_token_create(user=viewer_a, name="Dashboard", scopes=["read"])


@pytest.fixture
def api(submit_token):  # type: ignore[no-untyped-def]
    return bearer(submit_token.secret)
