"""Every URL pattern, requested by anonymous users and by users of two organisations of each kind
(and provider A's IG lead, and a CSU acting for commissioner A), signed in with both factors.

Adding a view without classifying it here fails ``test_every_url_is_in_the_matrix``.
"""

from __future__ import annotations

import io

import polars as pl
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.accounts import access_request_create
from portal.api_tokens import api_token_create
from portal.models import Role
from portal.security import OPEN_URL_NAMES
from submissions.models import Status, SubmissionCommissioner
from submissions.timetable_views import calendar_signature
from tests.factories import PASSWORD, SubmissionFactory
from tests.fixtures import VerifiedClient, register_caldicott_guardian
from tests.portal.helpers import CERTIFICATE
from tests.reporting.outputs import make_outputs

pytestmark = pytest.mark.django_db

PUBLIC = {"login", "logout", "healthz"}
USERS = [
    "anon",
    "submitter_a",
    "viewer_a",
    "submitter_b",
    "commissioner_user_a",
    "commissioner_user_b",
    "admin_user",
    "ig_lead_a",  # provider A's IG lead (a provider viewer who approves A's requests and reads A's audit)
    "csu_user",  # a CSU acting for commissioner A
]

# url name -> expected status per user (in USERS order); 302 for anonymous means "sent to sign in".
MATRIX: dict[str, tuple[int, ...]] = {
    #                         anon  subA viewA subB commA commB admin igA  csu
    "home": (302, 302, 302, 302, 302, 302, 302, 302, 302),
    "submission-home": (302, 200, 200, 200, 403, 403, 200, 200, 403),
    "submission-upload": (302, 200, 403, 200, 403, 403, 403, 403, 403),
    "submission-detail": (302, 200, 200, 404, 403, 403, 200, 200, 403),
    "submission-progress": (302, 200, 200, 404, 403, 403, 200, 200, 403),
    "submission-report": (302, 200, 200, 404, 403, 403, 200, 200, 403),
    "submission-extract": (302, 200, 200, 404, 403, 403, 200, 200, 403),
    "commissioner-extracts": (302, 403, 403, 403, 200, 200, 403, 403, 200),
    "commissioner-extract-download": (302, 403, 403, 403, 200, 404, 403, 403, 200),
    # Post-deadline outputs (issue 5): provider extracts (10.4) for the provider and administrators;
    # statistics (10.6) for every signed-in user.
    "provider-extracts": (302, 200, 200, 200, 403, 403, 200, 200, 403),
    "provider-extract-download": (302, 200, 200, 404, 403, 403, 200, 200, 403),
    "statistics-index": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "statistics-period": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "statistics-download": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "rule-list": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "rule-detail": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "template-index": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "template-download": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "template-download-mdb": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "submission-dq": (302, 200, 200, 404, 403, 403, 200, 200, 403),
    "submission-dq-download": (302, 200, 200, 404, 403, 403, 200, 200, 403),
    "account-tokens": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "account-token-revoke": (302, 200, 403, 404, 404, 404, 200, 403, 404),
    # The API: 401 without a token or session; the session works as well as a token.
    "api-windows": (401, 200, 200, 200, 200, 200, 200, 200, 200),
    "api-submissions": (401, 200, 200, 200, 403, 403, 200, 200, 403),
    "api-submission-detail": (401, 200, 200, 404, 403, 403, 200, 200, 403),
    "api-submission-report": (401, 200, 200, 404, 403, 403, 200, 200, 403),
    "api-submission-dq": (401, 200, 200, 404, 403, 403, 200, 200, 403),
    "api-submission-extract": (401, 200, 200, 404, 403, 403, 200, 200, 403),
    "api-commissioner-extracts": (401, 403, 403, 403, 200, 200, 403, 403, 200),
    "api-commissioner-extract-download": (401, 403, 403, 403, 200, 404, 403, 403, 200),
    "api-rules": (401, 200, 200, 200, 200, 200, 200, 200, 200),
    "api-rule-detail": (401, 200, 200, 200, 200, 200, 200, 200, 200),
    "api-schema": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "api-docs": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "timetable": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "account-notifications": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    # A capability URL (calendar apps send no cookies): a valid signature is enough, for anyone.
    "timetable-calendar": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "timetable-export": (302, 403, 403, 403, 403, 403, 200, 403, 403),
    "timetable-edit": (302, 403, 403, 403, 403, 403, 200, 403, 403),
    "timetable-generate": (302, 403, 403, 403, 403, 403, 405, 403, 403),  # POST only
    "timetable-publish": (302, 403, 403, 403, 403, 403, 405, 403, 403),
    "timetable-import": (302, 403, 403, 403, 403, 403, 405, 403, 403),
    # Accounts: the second factor (a verified user is sent on), asking for access (signed-out people only),
    # deciding requests (an IG lead for their organisation, national administrators for all), the audit trail.
    "two-factor": (302, 302, 302, 302, 302, 302, 302, 302, 302),
    "two-factor-setup": (302, 302, 302, 302, 302, 302, 302, 302, 302),
    "two-factor-recovery-codes": (302, 200, 200, 200, 200, 200, 200, 200, 200),
    "access-request": (200, 302, 302, 302, 302, 302, 302, 302, 302),
    "access-request-list": (302, 403, 403, 403, 403, 403, 200, 200, 403),
    "access-request-detail": (302, 403, 403, 403, 403, 403, 200, 200, 403),
    "audit-list": (302, 403, 403, 403, 403, 403, 200, 200, 403),
    "audit-export": (302, 403, 403, 403, 403, 403, 200, 200, 403),
}


def _names(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    resolver = resolver or get_resolver()
    names: set[str] = set()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue
            names |= _names(p, prefix)
        elif isinstance(p, URLPattern) and p.name:
            names.add(p.name)
    return names


def test_every_url_is_in_the_matrix() -> None:
    assert _names() - PUBLIC == set(MATRIX), "classify new views in MATRIX"


@pytest.fixture
def sub_a(provider_a, open_window, commissioner_a, commissioner_b):  # type: ignore[no-untyped-def]
    sub = SubmissionFactory(
        organisation=provider_a,
        window=open_window,
        status=Status.ACCEPTED,
        is_live=True,
        original_name="a.zip",
    )
    prefix = f"results/{provider_a.code}/{sub.bsp_unique_id:07d}"
    sub.report_csv = default_storage.save(f"{prefix}/v.csv", ContentFile(b"SUBMISSION_ID\n"))
    sub.report_xlsx = default_storage.save(f"{prefix}/v.xlsx", ContentFile(b"xlsx"))
    sub.extract_zip = default_storage.save(f"{prefix}/e.zip", ContentFile(b"zip"))
    buf = io.BytesIO()
    pl.DataFrame(
        {"ROW_NUMBER": [1], "SERVICEID": ["R1"], "LPTID": ["P1"], "ORGCODECOMM": ["00C"]}
    ).write_parquet(buf)
    default_storage.save(f"{prefix}/accepted/Referral.parquet", ContentFile(buf.getvalue()))
    sub.accepted_dir = f"{prefix}/accepted"
    sub.save()
    SubmissionCommissioner.objects.create(submission=sub, code="00C", referrals=1)
    return sub


@pytest.fixture(autouse=True)
def outputs_a(sub_a):  # type: ignore[no-untyped-def]
    """Post-deadline outputs of provider A's submission: its extract, commissioner A's, statistics."""
    return make_outputs(window=sub_a.window, submission=sub_a, code="00C")


@pytest.fixture
def request_a(provider_a):  # type: ignore[no-untyped-def]
    """A pending access request for provider A (whose Caldicott Guardian is registered)."""
    register_caldicott_guardian(provider_a)
    return _access_request(provider_a, "asker_a")


@pytest.fixture
def request_b(provider_b):  # type: ignore[no-untyped-def]
    register_caldicott_guardian(provider_b)
    return _access_request(provider_b, "asker_b")


def _access_request(org, username):  # type: ignore[no-untyped-def]
    return access_request_create(
        username=username,
        email=f"{username}@example.nhs.uk",
        first_name="Ann",
        last_name="Asker",
        password=PASSWORD,
        organisation=org,
        role=Role.PROVIDER_VIEWER,
        certificate=CERTIFICATE,
    )


@pytest.fixture
def token_a(submitter_a):  # type: ignore[no-untyped-def]
    return api_token_create(user=submitter_a, name="PAS export", scopes=["read", "submit"]).token


def _url(name: str, sub, token=None, access_request=None) -> str:  # type: ignore[no-untyped-def]
    sid = sub.submission_id
    kwargs = {
        "submission-detail": {"submission_id": sid},
        "submission-progress": {"submission_id": sid},
        "submission-report": {"submission_id": sid, "fmt": "csv"},
        "submission-extract": {"submission_id": sid},
        "commissioner-extract-download": {
            "code": "00C",
            "period": "2017-11",
            "window_type": "Primary",
            "ext": "zip",
        },
        "provider-extract-download": {
            "org_code": "TSTP1",
            "period": "2017-11",
            "window_type": "Primary",
            "ext": "zip",
        },
        "statistics-period": {"period": "2017-11"},
        "statistics-download": {"period": "2017-11", "status": "Provisional", "fmt": "csv"},
        "rule-detail": {"rule_id": "REF110"},
        "template-download": {"profile": "P15STD", "ext": "xlsx"},
        "template-download-mdb": {"profile": "P15STD"},
        "access-request-detail": {"pk": getattr(access_request, "pk", 0)},
        "submission-dq": {"submission_id": sid},
        "submission-dq-download": {"submission_id": sid, "fmt": "csv"},
        "account-token-revoke": {"pk": getattr(token, "pk", 0)},
        "api-submission-detail": {"submission_id": sid},
        "api-submission-report": {"submission_id": sid, "fmt": "csv"},
        "api-submission-dq": {"submission_id": sid, "fmt": "csv"},
        "api-submission-extract": {"submission_id": sid},
        "api-commissioner-extract-download": {"code": "00C", "period": "2017-11", "window_type": "Primary"},
        "api-rule-detail": {"rule_id": "REF110"},
        "timetable-edit": {"code": sub.window.code},
        "timetable-calendar": {"code": "TSTP1", "signature": calendar_signature("TSTP1")},
    }.get(name, {})
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("name", sorted(MATRIX))
@pytest.mark.parametrize("who", USERS)
def test_access(client, request, sub_a, token_a, request_a, name, who):  # type: ignore[no-untyped-def]
    if who != "anon":
        user = request.getfixturevalue(who)
        assert client.login(username=user.username, password=PASSWORD)
    url = _url(name, sub_a, token_a, request_a)
    response = client.get(url)
    expected = MATRIX[name][USERS.index(who)]
    assert response.status_code == expected, f"{who} GET {url}"
    if who == "anon" and expected == 302:
        assert "/accounts/login/" in response["Location"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if who in ("submitter_b", "commissioner_user_b") and response.status_code == 200:
        assert sub_a.submission_id.encode() not in body, f"{who} saw another organisation's submission"
    if who not in ("admin_user", "ig_lead_a") and response.status_code == 200:
        assert b"asker_a@example.nhs.uk" not in body, f"{who} saw provider A's access request"


OPEN_TO_UNVERIFIED = OPEN_URL_NAMES - PUBLIC


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_password_alone_reaches_no_page(request_a, sub_a, token_a, name):  # type: ignore[no-untyped-def]
    """Signed in with the password but not the second factor: pages send to the code page, the API says 401."""
    client = VerifiedClient()
    assert client.login_password_only(username="submitter_a", password=PASSWORD)
    url = _url(name, sub_a, token_a, request_a)
    response = client.get(url)
    if name in OPEN_TO_UNVERIFIED:
        assert response.status_code in (200, 302)
        if name.startswith("two-factor") and response.status_code == 302:
            assert response["Location"].startswith(reverse("two-factor"))
    elif url.startswith("/api/"):
        assert response.status_code == 401, url
    else:
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("two-factor") + "?next="), url


def test_other_organisations_request_is_not_found_for_an_ig_lead(client, ig_lead_a, request_b):  # type: ignore[no-untyped-def]
    assert client.login(username=ig_lead_a.username, password=PASSWORD)
    url = reverse("access-request-detail", kwargs={"pk": request_b.pk})
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "approve"}).status_code == 404
    request_b.refresh_from_db()
    assert request_b.is_pending


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_no_view_changes_data_on_post_for_other_org(client, submitter_b, sub_a, token_a, request_a, name):  # type: ignore[no-untyped-def]
    client.login(username=submitter_b.username, password=PASSWORD)
    before = sub_a.__class__.objects.get(pk=sub_a.pk)
    response = client.post(_url(name, sub_a, token_a, request_a), {"decision": "approve"})
    assert response.status_code in (200, 302, 400, 403, 404, 405)  # 400: the API refuses an empty upload
    token_a.refresh_from_db()
    assert token_a.revoked_at is None
    request_a.refresh_from_db()
    assert request_a.is_pending
    after = sub_a.__class__.objects.get(pk=sub_a.pk)
    assert (after.status, after.is_live, after.file.name) == (before.status, before.is_live, before.file.name)
