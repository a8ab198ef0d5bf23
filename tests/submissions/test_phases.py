"""The worker's per-phase log line (``submissions.phases``), which the benchmark's end-to-end step reads."""

from __future__ import annotations

import json
import logging
import time

import pytest

from submissions.phases import Phases
from submissions.tasks import process_submission
from tests.submissions.test_processing import receive

pytestmark = pytest.mark.django_db


def test_phases_time_each_step_and_keep_the_run_peak(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PHASES_RESET_PEAK", "1")
    phases = Phases()
    with phases("a"):
        time.sleep(0.01)
    assert phases.in_thread("b", lambda x, *, y: x + y, 1, y=2) == 3
    summary = phases.summary()
    assert list(summary) == ["a", "b", "total"]
    assert summary["a"]["s"] >= 0.01
    for values in summary.values():
        assert set(values) == {"s", "cpu", "rss_mb", "peak_mb"}
    # the run's peak is never below a phase's own peak, even though each phase resets the high-water mark
    assert summary["total"]["peak_mb"] >= max(v["peak_mb"] for v in summary.values())


def test_worker_logs_its_phases(submitter_a, open_window, commissioner_a, commissioner_b, tmp_path, caplog):  # type: ignore[no-untyped-def]
    sub, _ = receive(submitter_a, tmp_path, inject={"PER030": 1})
    with caplog.at_level(logging.INFO, logger="submissions.tasks"):
        assert process_submission(sub.pk) == "done"
    lines = [r.getMessage() for r in caplog.records if " phases {" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith(f"Submission {sub.pk} phases ")
    logged = json.loads(lines[0].split(" phases ", 1)[1])
    assert set(logged) == {"validate", "derive", "load", "artefacts", "artefacts_wait", "record", "total"}
    assert logged["total"]["s"] >= logged["validate"]["s"]
