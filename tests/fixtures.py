"""Shared pytest fixtures for Django tests (imported by the conftest of each Django test package)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.celery import app as celery_app
from portal.models import OrganisationType, Role
from tests.factories import CommissionerFactory, OrganisationFactory, UserFactory, WindowFactory


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


@pytest.fixture
def eager_celery():  # type: ignore[no-untyped-def]
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = old


@pytest.fixture
def provider_a():  # type: ignore[no-untyped-def]
    return OrganisationFactory(code="TSTP1", name="Provider A")


@pytest.fixture
def provider_b():  # type: ignore[no-untyped-def]
    return OrganisationFactory(code="TSTP2", name="Provider B")


@pytest.fixture
def commissioner_a():  # type: ignore[no-untyped-def]
    return CommissionerFactory(code="00C", name="Commissioner A")


@pytest.fixture
def commissioner_b():  # type: ignore[no-untyped-def]
    return CommissionerFactory(code="01A", name="Commissioner B")


@pytest.fixture
def submitter_a(provider_a):  # type: ignore[no-untyped-def]
    return UserFactory(username="submitter_a", organisation=provider_a, role=Role.PROVIDER_SUBMITTER)


@pytest.fixture
def viewer_a(provider_a):  # type: ignore[no-untyped-def]
    return UserFactory(username="viewer_a", organisation=provider_a, role=Role.PROVIDER_VIEWER)


@pytest.fixture
def submitter_b(provider_b):  # type: ignore[no-untyped-def]
    return UserFactory(username="submitter_b", organisation=provider_b, role=Role.PROVIDER_SUBMITTER)


@pytest.fixture
def commissioner_user_a(commissioner_a):  # type: ignore[no-untyped-def]
    return UserFactory(username="comm_a", organisation=commissioner_a, role=Role.COMMISSIONER_VIEWER)


@pytest.fixture
def commissioner_user_b(commissioner_b):  # type: ignore[no-untyped-def]
    return UserFactory(username="comm_b", organisation=commissioner_b, role=Role.COMMISSIONER_VIEWER)


@pytest.fixture
def admin_user():  # type: ignore[no-untyped-def]
    org = OrganisationFactory(code="X26", name="National", type=OrganisationType.ADMIN)
    return UserFactory(
        username="national", organisation=org, role=Role.ADMIN, is_staff=True, is_superuser=True
    )


@pytest.fixture
def open_window():  # type: ignore[no-untyped-def]
    return WindowFactory(code="W201712", primary_rp="2017-11", refresh_rp="2017-10")


def csv_zip(tables: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in tables.items():
            zf.writestr(f"{name}.csv", text)
    return buf.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)
