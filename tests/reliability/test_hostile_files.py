"""Hostile and broken files (issue #8): every corpus item ends in a final outcome with the spec's finding.

1. ``validate_file`` on every case of :mod:`tests.reliability.corpus`: the outcome is final and the findings
   are those the case declares (READ-stage rejects: exactly that one rule).
2. A sample through the real web path (upload as a provider submitter, then the processing task in-process):
   never a 500, a final status that is never RECEIVED/VALIDATING (nor ERROR), and a downloadable validation
   report naming the rule.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from submissions.models import FINAL_STATUSES, Status, Submission
from submissions.tasks import process_submission
from tests.factories import PASSWORD
from validation.api import validate_file
from validation.model import Outcome

from .corpus import CASES, Bases, Case, context

WEB_CASES = [c for c in CASES if c.web]


@pytest.fixture(scope="session")
def bases(tmp_path_factory: pytest.TempPathFactory) -> Bases:
    return Bases(tmp_path_factory.mktemp("bases"))


def test_corpus_is_large_and_ids_unique() -> None:
    assert len(CASES) >= 100
    assert len({c.id for c in CASES}) == len(CASES)
    assert 15 <= len(WEB_CASES) <= 30


def check(case: Case, outcome: Outcome, rules: set[str], severities: dict[str, str]) -> None:
    e = case.expect
    file_rejects = {r for r, s in severities.items() if s == "FILE_REJECT"}
    if e.kind == "reject":
        assert outcome is Outcome.REJECTED, (outcome, rules)
        if e.exact:
            assert rules == set(e.rules), rules
        else:
            assert set(e.rules) <= rules, rules
    elif e.kind == "any_reject":
        assert outcome is Outcome.REJECTED and file_rejects, (outcome, rules)
    elif e.kind == "successful":
        assert outcome.successful and not file_rejects, (outcome, rules)
        assert set(e.rules) <= rules, rules
    else:
        assert outcome in set(Outcome), outcome
        assert not (set(e.absent) & rules), rules


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_validate_file_ends_in_the_spec_finding(case: Case, bases: Bases, tmp_path: Path) -> None:
    path = case.write(bases, tmp_path)
    result = validate_file(path, ctx=context(case.file_name), file_name=case.file_name)
    rules = set(result.findings["rule_id"].to_list())
    severities = dict(zip(result.findings["rule_id"], result.findings["severity"], strict=True))
    check(case, result.outcome, rules, severities)
    assert (
        result.findings.filter(
            result.findings["message"].is_null() | (result.findings["message"] == "")
        ).height
        == 0
    )


@pytest.mark.django_db
@pytest.mark.parametrize("case", WEB_CASES, ids=[c.id for c in WEB_CASES])
def test_web_upload_and_processing_end_final(  # type: ignore[no-untyped-def]
    case: Case, bases: Bases, tmp_path: Path, client, submitter_a, open_window, commissioner_a
) -> None:
    path = case.write(bases, tmp_path)
    assert client.login(username=submitter_a.username, password=PASSWORD)
    with mock.patch("submissions.services._enqueue"):
        response = client.post(
            "/submissions/upload/",
            {"pair": "2017-11|Primary", "file": SimpleUploadedFile(case.file_name, path.read_bytes())},
        )
    assert response.status_code == 302, response.status_code
    sub = Submission.objects.get()
    if not sub.is_final:
        process_submission(sub.pk)
        sub.refresh_from_db()
    assert sub.status in FINAL_STATUSES and sub.status not in (Status.RECEIVED, Status.VALIDATING)
    assert sub.status != Status.ERROR, sub.error_message
    expected_rules = case.expect.rules
    if case.expect.kind in ("reject", "any_reject"):
        assert sub.status == Status.REJECTED
    elif case.expect.kind == "successful":
        assert sub.status in (Status.ACCEPTED, Status.ACCEPTED_WITH_WARNINGS, Status.PARTIALLY_ACCEPTED)
    page = client.get(f"/submissions/{sub.submission_id}/")
    assert page.status_code == 200
    report = client.get(f"/submissions/{sub.submission_id}/validation.csv")
    assert report.status_code == 200
    body = b"".join(report.streaming_content).decode()
    for rule in expected_rules:
        assert f",{rule}," in body, body[:500]
    if case.expect.kind == "any_reject":
        assert ",FILE_REJECT," in body
