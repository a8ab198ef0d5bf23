"""The /account/tokens/ pages and what a token can then do (authentication, scopes, revocation)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.api_tokens import api_token_create, hash_token
from portal.models import ApiToken, AuditEvent, Role
from tests.api.conftest import bearer
from tests.factories import PASSWORD
from tests.fixtures import VerifiedClient

pytestmark = pytest.mark.django_db


def _signed_in(client: Client, user) -> Client:  # type: ignore[no-untyped-def]
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_submitter_creates_a_token_and_sees_the_secret_once(client, submitter_a):
    _signed_in(client, submitter_a)
    page = client.get("/account/tokens/").content.decode()
    assert 'value="submit"' in page and 'value="read"' in page
    assert '<a class="nhsuk-header__navigation-link" href="/account/tokens/"' in page
    response = client.post("/account/tokens/", {"name": "PAS export", "access": "submit"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    text = response.content.decode()
    secret = text.split('id="api-token" type="text" value="', 1)[1].split('"', 1)[0]
    assert secret.startswith("iapt_") and len(secret) == 5 + 43 and secret.startswith(token.prefix)
    assert token.token_hash == hash_token(secret)
    assert secret not in str(ApiToken.objects.values().get())  # stored hashed only
    assert token.scope_list == ["read", "submit"] and token.created_by == submitter_a
    assert token.principal.role == Role.PROVIDER_SUBMITTER and not token.principal.has_usable_password()
    assert token.principal.organisation == submitter_a.organisation
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.actor == submitter_a and event.object_id == str(token.pk)
    assert event.details["scopes"] == ["read", "submit"] and secret not in str(event.details)
    listing = client.get("/account/tokens/").content.decode()
    assert "PAS export" in listing and token.prefix in listing and secret not in listing


def test_viewer_may_only_create_read_tokens(client, viewer_a):
    _signed_in(client, viewer_a)
    page = client.get("/account/tokens/").content.decode()
    assert 'value="read"' in page and 'value="submit"' not in page
    response = client.post("/account/tokens/", {"name": "Sneaky", "access": "submit"})
    assert response.status_code == 200 and "Choose what the token may do" in response.content.decode()
    assert not ApiToken.objects.exists()
    client.post("/account/tokens/", {"name": "Dashboard", "access": "read"})
    token = ApiToken.objects.get()
    assert token.scope_list == ["read"] and token.principal.role == Role.PROVIDER_VIEWER


def test_missing_name_shows_the_error_summary(client, submitter_a):
    _signed_in(client, submitter_a)
    text = client.post("/account/tokens/", {"name": "", "access": "read"}).content.decode()
    assert "nhsuk-error-summary" in text and 'href="#id_name"' in text and "Error: API tokens" in text


def test_commissioner_token_is_read_only(client, commissioner_user_a):
    _signed_in(client, commissioner_user_a)
    client.post("/account/tokens/", {"name": "BI feed", "access": "read"})
    token = ApiToken.objects.get()
    assert token.principal.role == Role.COMMISSIONER_VIEWER
    with pytest.raises(Exception, match="Choose what the token may do"):
        api_token_create(user=commissioner_user_a, name="x", scopes=["submit"])


def test_token_creation_needs_csrf(submitter_a):
    client = _signed_in(VerifiedClient(enforce_csrf_checks=True), submitter_a)
    assert client.post("/account/tokens/", {"name": "x", "access": "read"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_revoke_stops_the_token_and_is_audited(client, submitter_a, submit_token, open_window):
    api = bearer(submit_token.secret)
    assert api.get("/api/v1/windows/").status_code == 200
    _signed_in(client, submitter_a)
    token = submit_token.token
    assert "Revoke token" in client.get(f"/account/tokens/{token.pk}/revoke/").content.decode()
    response = client.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/account/tokens/"
    token.refresh_from_db()
    token.principal.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == submitter_a and not token.principal.is_active
    assert AuditEvent.objects.filter(action="api_token.revoked", actor=submitter_a).count() == 1
    response = api.get("/api/v1/windows/")
    assert response.status_code == 401
    assert response.json() == {
        "message": "The token is not valid or has been revoked.",
        "code": "authentication_failed",
        "details": {},
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_who_may_revoke(client, viewer_a, submitter_b, admin_user, submit_token, read_token):
    token = submit_token.token
    _signed_in(client, viewer_a)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 403  # a submitter's token
    assert client.get(f"/account/tokens/{read_token.token.pk}/revoke/").status_code == 200  # their own
    _signed_in(client, submitter_b)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404  # another organisation's
    token.refresh_from_db()
    assert token.revoked_at is None
    _signed_in(client, admin_user)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_bad_tokens_are_401_in_the_error_shape(open_window):
    for header in ("Bearer iapt_nope", "Bearer", "Bearer a b", "Bearer not-ours"):
        client = bearer("x")
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get("/api/v1/windows/")
        assert response.status_code == 401, header
        assert set(response.json()) == {"message", "code", "details"}
    anonymous = bearer("x")
    anonymous.credentials()
    response = anonymous.get("/api/v1/windows/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_last_used_is_written_at_most_every_few_minutes(submit_token, open_window):
    api = bearer(submit_token.secret)
    api.get("/api/v1/windows/")
    token = ApiToken.objects.get()
    first = token.last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/v1/windows/")
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == first


def test_token_stops_when_its_creator_is_deactivated(submitter_a, submit_token, open_window):
    submitter_a.is_active = False
    submitter_a.save()
    assert bearer(submit_token.secret).get("/api/v1/windows/").status_code == 401


def test_rate_limit_is_per_token(settings, submit_token, read_token, open_window):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "2/min"}}
    api = bearer(submit_token.secret)
    assert [api.get("/api/v1/windows/").status_code for _ in range(3)] == [200, 200, 429]
    response = api.get("/api/v1/windows/")
    assert response.json()["code"] == "throttled" and response.json()["details"]["retry_after_seconds"] > 0
    assert "Retry-After" in response
    assert bearer(read_token.secret).get("/api/v1/windows/").status_code == 200


def test_national_admin_lists_and_revokes_tokens_in_django_admin(admin_client, submitter_a, submitter_b):
    a = api_token_create(user=submitter_a, name="PAS export", scopes=["read", "submit"])
    b = api_token_create(user=submitter_b, name="Other system", scopes=["read"])
    listing = admin_client.get("/admin/portal/apitoken/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert a.token.prefix in page and b.token.prefix in page and a.secret not in page
    assert admin_client.get("/admin/portal/apitoken/add/").status_code == 403
    response = admin_client.post(
        "/admin/portal/apitoken/", {"action": "revoke", "_selected_action": [a.token.pk]}, follow=True
    )
    assert "Revoked 1 token(s)." in response.content.decode()
    a.token.refresh_from_db()
    b.token.refresh_from_db()
    assert a.token.revoked_at is not None and b.token.revoked_at is None
    assert not a.token.principal.__class__.objects.get(pk=a.token.principal_id).is_active
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1
