"""Access requests and approval, the Caldicott Guardian rule, the audit pages, inactive accounts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portal.accounts import access_request_create, access_request_decide, inactive_accounts_process
from portal.errors import PortalError
from portal.models import AccessRequest, AccessRequestStatus, AuditEvent, Role, User
from portal.services import audit_record
from tests.factories import PASSWORD, UserFactory
from tests.fixtures import register_caldicott_guardian
from tests.portal.helpers import CERTIFICATE

pytestmark = pytest.mark.django_db


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Ann",
        "last_name": "Asker",
        "email": "ann.asker@example.nhs.uk",
        "username": "ann.asker",
        "password1": "Tea-and-biscuits-42",
        "password2": "Tea-and-biscuits-42",
        "organisation_code": "tstp1",
        "role": Role.PROVIDER_SUBMITTER,
        "job_title": "IAPT data lead",
        "telephone": "0113 496 0000",
        "line_manager_name": "Lee Manager",
        "line_manager_email": "lee@example.nhs.uk",
        "ig_training_completed_on": str(timezone.localdate() - timedelta(days=20)),
        "purpose": "Monthly submissions.",
        "declares_confidentiality": "on",
        "declares_purpose_only": "on",
        "declares_no_sharing": "on",
        "declares_report_breaches": "on",
    }
    data.update(overrides)
    return data


def make_request(org, username="asker", role=Role.PROVIDER_VIEWER):  # type: ignore[no-untyped-def]
    return access_request_create(
        username=username,
        email=f"{username}@example.nhs.uk",
        first_name="Ann",
        last_name="Asker",
        password=PASSWORD,
        organisation=org,
        role=role,
        certificate=CERTIFICATE,
    )


def test_a_person_asks_for_access_and_both_sides_hear(
    client, provider_a, ig_lead_a, admin_user, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("access-request"), form_data())
    assert response.status_code == 200 and "Request sent" in response.content.decode()
    req = AccessRequest.objects.get()
    assert (req.organisation, req.role, req.status) == (provider_a, Role.PROVIDER_SUBMITTER, "PENDING")
    assert req.job_title == "IAPT data lead" and req.declares_report_breaches
    user = req.user
    assert not user.is_active and user.organisation is None and user.check_password("Tea-and-biscuits-42")
    assert not client.login(username="ann.asker", password="Tea-and-biscuits-42")  # inactive until approved
    to = sorted(a for m in mail.outbox for a in m.to)
    assert to == sorted(["ann.asker@example.nhs.uk", ig_lead_a.email, admin_user.email])
    approver_mail = next(m for m in mail.outbox if ig_lead_a.email in m.to)
    assert f"/account/access-requests/{req.pk}/" in approver_mail.body
    assert AuditEvent.objects.filter(action="access.requested", organisation=provider_a).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"password1": "password1234", "password2": "password1234"}, "password1", "too common"),
        ({"password2": "Tea-and-biscuits-43"}, "password2", "do not match"),
        ({"organisation_code": "ZZZ"}, "organisation_code", "no organisation with that ODS code"),
        ({"organisation_code": "X26"}, "organisation_code", "no organisation with that ODS code"),
        ({"role": Role.COMMISSIONER_VIEWER}, "role", "choose another role"),
        ({"role": Role.ADMIN}, "role", "Select a valid choice"),
        ({"declares_no_sharing": ""}, "declares_no_sharing", "Agree to this declaration"),
        ({"ig_training_completed_on": "2020-01-01"}, "ig_training_completed_on", "last 12 months"),
    ],
)
def test_access_request_form_errors(client, provider_a, admin_user, overrides, field, message) -> None:  # type: ignore[no-untyped-def]
    response = client.post(reverse("access-request"), form_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in str(errors[field]), errors
    assert "There is a problem" in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_taken_user_name_is_refused(client, provider_a, submitter_a) -> None:  # type: ignore[no-untyped-def]
    response = client.post(reverse("access-request"), form_data(username=submitter_a.username.upper()))
    assert "Choose another user name" in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_no_approval_before_the_caldicott_guardian_is_registered(client, provider_a, ig_lead_a) -> None:  # type: ignore[no-untyped-def]
    req = make_request(provider_a)
    assert not provider_a.caldicott_guardian_registered
    client.login(username=ig_lead_a.username, password=PASSWORD)
    url = reverse("access-request-detail", kwargs={"pk": req.pk})
    assert "Not registered" in client.get(url).content.decode()
    response = client.post(url, {"decision": "approve"})
    assert response.status_code == 200 and "no registered Caldicott Guardian" in response.content.decode()
    req.refresh_from_db()
    req.user.refresh_from_db()
    assert req.is_pending and not req.user.is_active
    with pytest.raises(PortalError, match="Caldicott Guardian"):
        access_request_decide(actor=ig_lead_a, access_request=req, approve=True)
    # Once registered, the same request is approved.
    register_caldicott_guardian(provider_a)
    response = client.post(url, {"decision": "approve"})
    assert response.status_code == 302
    req.refresh_from_db()
    person = User.objects.get(pk=req.user_id)
    assert req.status == AccessRequestStatus.APPROVED and req.decided_by == ig_lead_a
    assert person.is_active and person.organisation == provider_a and person.role == Role.PROVIDER_VIEWER


def test_refusal_needs_a_reason_and_tells_both_sides(
    client, provider_a, ig_lead_a, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    req = make_request(provider_a)
    mail.outbox.clear()
    client.login(username=ig_lead_a.username, password=PASSWORD)
    url = reverse("access-request-detail", kwargs={"pk": req.pk})
    assert "Say why" in client.post(url, {"decision": "refuse"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"decision": "refuse", "reason": "Not in our team."})
    req.refresh_from_db()
    assert req.status == AccessRequestStatus.REFUSED and not req.user.is_active
    person_mail = next(m for m in mail.outbox if req.user.email in m.to)
    assert "refused" in person_mail.subject and "Not in our team." in person_mail.body
    assert any(ig_lead_a.email in m.to for m in mail.outbox)
    assert AuditEvent.objects.filter(action="access.refused", actor=ig_lead_a).exists()
    # Decided once only.
    with pytest.raises(PortalError, match="already"):
        access_request_decide(actor=ig_lead_a, access_request=req, approve=True)


def test_who_may_decide(provider_a, provider_b, ig_lead_a, viewer_a, admin_user) -> None:  # type: ignore[no-untyped-def]
    register_caldicott_guardian(provider_a)
    register_caldicott_guardian(provider_b)
    req_b = make_request(provider_b, "asker_b")
    with pytest.raises(PortalError):
        access_request_decide(actor=ig_lead_a, access_request=req_b, approve=True)  # another organisation
    req_a = make_request(provider_a, "asker_a")
    with pytest.raises(PortalError):
        access_request_decide(actor=viewer_a, access_request=req_a, approve=True)  # not an IG lead
    access_request_decide(actor=admin_user, access_request=req_b, approve=True)  # national administrator
    assert User.objects.get(username="asker_b").is_active


# ------------------------------------------------------------------------------------------- audit


@pytest.fixture
def events(provider_a, provider_b, submitter_a, submitter_b):  # type: ignore[no-untyped-def]
    audit_record(
        action="download", actor=submitter_a, organisation=provider_a, details={"kind": "=HYPERLINK(1)"}
    )
    audit_record(action="download", actor=submitter_b, organisation=provider_b, details={"kind": "report"})
    audit_record(action="submission.received", actor=submitter_b, organisation=provider_b)


def test_ig_lead_sees_only_their_organisations_audit(client, ig_lead_a, events) -> None:  # type: ignore[no-untyped-def]
    client.login(username=ig_lead_a.username, password=PASSWORD)
    page = client.get(reverse("audit-list")).content.decode()
    assert "submitter_a" in page and "submitter_b" not in page and "TSTP2" not in page
    assert "submitter_b" not in client.get(reverse("audit-list"), {"organisation": "TSTP2"}).content.decode()
    rows = list(
        csv.DictReader(io.StringIO(b"".join(client.get(reverse("audit-export")).streaming_content).decode()))
    )
    assert {r["organisation"] for r in rows} == {"TSTP1"}
    assert all(r["actor"] != "submitter_b" for r in rows)
    assert next(r for r in rows if r["actor"] == "submitter_a")["details"].startswith('{"kind": "=HYPERLINK')


def test_admin_filters_and_exports_the_audit_trail(client, admin_user, events) -> None:  # type: ignore[no-untyped-def]
    client.login(username=admin_user.username, password=PASSWORD)
    page = client.get(
        reverse("audit-list"), {"organisation": "tstp2", "action": "submission"}
    ).content.decode()
    assert "submission.received" in page and "submitter_a" not in page
    response = client.get(
        reverse("audit-export"), {"user": "submitter_b", "date_from": str(timezone.localdate())}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["created_at", "action", "actor"]
    assert sorted(r[1] for r in rows[1:]) == ["download", "submission.received"]
    assert AuditEvent.objects.filter(action="download", actor=admin_user, details__kind="audit_csv").exists()
    tomorrow = str(timezone.localdate() + timedelta(days=1))
    assert "0 events" in client.get(reverse("audit-list"), {"date_from": tomorrow}).content.decode()


def test_audit_csv_cells_never_start_a_formula(client, admin_user, provider_a) -> None:  # type: ignore[no-untyped-def]
    audit_record(action="=cmd|' /C calc'!A0", organisation=provider_a)
    client.login(username=admin_user.username, password=PASSWORD)
    text = b"".join(client.get(reverse("audit-export")).streaming_content).decode()
    assert "'=cmd" in text


def test_audit_events_are_append_only(provider_a) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    event = audit_record(action="x", organisation=provider_a)
    event.action = "y"
    with pytest.raises(ValidationError):
        event.save()


def test_admin_changes_are_audited(client, admin_user, provider_a) -> None:  # type: ignore[no-untyped-def]
    client.login(username=admin_user.username, password=PASSWORD)
    url = reverse("admin:portal_organisation_change", args=[provider_a.pk])
    response = client.post(
        url,
        {
            "code": provider_a.code,
            "name": "Renamed provider",
            "type": provider_a.type,
            "caldicott_guardian_name": "Dr Cal Guardian",
            "caldicott_guardian_email": "cg@example.nhs.uk",
            "caldicott_guardian_registered_on": "2026-01-05",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="admin.changed")
    assert (
        event.actor == admin_user
        and event.object_type == "Organisation"
        and event.object_id == str(provider_a.pk)
    )
    assert "Caldicott" in str(event.details["change"]) or "caldicott" in str(event.details["change"]).lower()


# ----------------------------------------------------------------------------------- inactive accounts


def test_unused_accounts_are_warned_then_deactivated(provider_a, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    recent = UserFactory(organisation=provider_a, last_login=now - timedelta(days=100))
    nearly = UserFactory(organisation=provider_a, last_login=now - timedelta(days=170))
    never = UserFactory(organisation=provider_a, last_login=None)
    User.objects.filter(pk=never.pk).update(date_joined=now - timedelta(days=200))
    with django_capture_on_commit_callbacks(execute=True):
        first = inactive_accounts_process(now=now)
    assert sorted(first.warned) == sorted([nearly.username, never.username])
    assert first.deactivated == []  # nobody is deactivated without a warning first
    assert sorted(a for m in mail.outbox for a in m.to) == sorted([nearly.email, never.email])
    assert "will be deactivated" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        again = inactive_accounts_process(now=now + timedelta(days=1))
    assert again.warned == [] and again.deactivated == [] and len(mail.outbox) == 2
    early = inactive_accounts_process(now=now + timedelta(days=13))
    assert early.deactivated == []  # 213 days unused, but warned only 13 days ago
    later = inactive_accounts_process(now=now + timedelta(days=14, minutes=1))
    assert sorted(later.deactivated) == sorted([never.username, nearly.username])
    assert not User.objects.get(pk=never.pk).is_active and User.objects.get(pk=recent.pk).is_active
    assert AuditEvent.objects.filter(action="account.deactivated").count() == 2


def test_signing_in_clears_the_warning(client, provider_a) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory(organisation=provider_a, last_login=timezone.now() - timedelta(days=170))
    inactive_accounts_process()
    assert User.objects.get(pk=user.pk).inactivity_warned_at is not None
    client.login(username=user.username, password=PASSWORD)
    user.refresh_from_db()
    assert user.inactivity_warned_at is None
    assert inactive_accounts_process().deactivated == []


def test_api_token_users_are_left_alone(submitter_a) -> None:  # type: ignore[no-untyped-def]
    from portal.api_tokens import api_token_create

    token = api_token_create(user=submitter_a, name="PAS", scopes=["read"]).token
    User.objects.filter(pk=token.principal_id).update(date_joined=timezone.now() - timedelta(days=400))
    User.objects.filter(pk=submitter_a.pk).update(last_login=timezone.now())
    result = inactive_accounts_process(now=timezone.now() + timedelta(days=1))
    assert result.warned == []


def test_management_command(provider_a) -> None:  # type: ignore[no-untyped-def]
    UserFactory(username="old", organisation=provider_a, last_login=timezone.now() - timedelta(days=175))
    out = io.StringIO()
    call_command("deactivate_inactive_accounts", stdout=out)
    assert "warned old" in out.getvalue() and "1 warned, 0 deactivated" in out.getvalue()


def test_access_request_posts_are_limited_per_address(client, provider_a, admin_user, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ACCESS_REQUEST_LIMIT = 3
    for i in range(3):  # invalid posts count too: they would let anyone probe user names without limit
        assert (
            client.post(reverse("access-request"), form_data(username=f"x{i}", email="bad")).status_code
            == 200
        )
    refused = client.post(reverse("access-request"), form_data(username="probe1"))
    assert refused.status_code == 429 and "Too many access requests" in refused.content.decode()
    assert not AccessRequest.objects.exists()
    other = client.post(reverse("access-request"), form_data(username="probe1"), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200 and AccessRequest.objects.count() == 1
