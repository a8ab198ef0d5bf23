"""Shared pytest fixtures for Django tests (imported by the conftest of each Django test package)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.celery import app as celery_app
from portal.models import Organisation, OrganisationType, Role, User
from tests.factories import CommissionerFactory, OrganisationFactory, UserFactory, WindowFactory


def verify_second_factor(client: Client, user: User) -> None:
    """Mark the client's session as having passed two-factor sign-in with the user's TOTP device."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


class VerifiedClient(Client):
    """The test client with the portal's two sign-in steps done: ``login`` checks the password and then
    passes the second factor, as a user with their phone would. ``login_password_only`` stops after the
    password (an unverified session); ``force_login`` also verifies.

    django-axes needs the request to authenticate, which ``Client.login`` does not pass, so the password
    is checked here directly (the lockout itself is tested through the sign-in page).
    """

    def login(self, **credentials):  # type: ignore[no-untyped-def, override]
        user = self._password_user(**credentials)
        if user is None:
            return False
        self.force_login(user)
        return True

    def login_password_only(self, **credentials) -> bool:  # type: ignore[no-untyped-def]
        user = self._password_user(**credentials)
        if user is None:
            return False
        super().force_login(user)
        return True

    def force_login(self, user, backend=None):  # type: ignore[no-untyped-def]
        super().force_login(user, backend or "django.contrib.auth.backends.ModelBackend")
        verify_second_factor(self, user)

    @staticmethod
    def _password_user(*, username: str, password: str, **_: object) -> User | None:
        user = User.objects.filter(username=username).first()
        if user is None or not user.is_active or not user.check_password(password):
            return None
        return user


@pytest.fixture
def client() -> VerifiedClient:
    """pytest-django's ``client``, signing in with both factors (overrides the plugin's fixture)."""
    return VerifiedClient()


@pytest.fixture
def admin_client(admin_user) -> VerifiedClient:  # type: ignore[no-untyped-def]
    c = VerifiedClient()
    c.force_login(admin_user)
    return c


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
def ig_lead_a(provider_a):  # type: ignore[no-untyped-def]
    """Provider A's IG lead (a viewer who also approves A's access requests and reads A's audit trail)."""
    return UserFactory(
        username="ig_lead_a", organisation=provider_a, role=Role.PROVIDER_VIEWER, is_ig_lead=True
    )


@pytest.fixture
def csu_a(commissioner_a):  # type: ignore[no-untyped-def]
    org = OrganisationFactory(code="0DE", name="CSU acting for A", type=OrganisationType.CSU)
    org.acts_for.set([commissioner_a])
    return org


@pytest.fixture
def csu_user(csu_a):  # type: ignore[no-untyped-def]
    return UserFactory(username="csu_user", organisation=csu_a, role=Role.COMMISSIONER_VIEWER)


def register_caldicott_guardian(org: Organisation) -> Organisation:
    from datetime import date

    org.caldicott_guardian_name = "Dr Cal Guardian"
    org.caldicott_guardian_email = f"caldicott@{org.code.lower()}.nhs.uk"
    org.caldicott_guardian_registered_on = date(2026, 1, 5)
    org.save()
    return org


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
