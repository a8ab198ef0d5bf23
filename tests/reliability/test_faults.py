"""Faults 1-4 of issue #8, broken on purpose against real processes: Celery workers (``tests.workers``), a
private ``redis-server`` as the broker and, for fault 3, a private PostgreSQL cluster (``instances``).

Workers run with short reliability settings (heartbeat every 0.5 s, lost after 3 s, sweeper and outbox
dispatcher every 1 s through embedded beat) and write e-mails to files. Each test prints its time to
recover (fault to final state); docs/reliability.md records the figures.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from portal.models import AuditEvent
from reporting.models import ACCEPTED_MODELS, AcceptedDataLoad
from submissions.models import SUCCESSFUL_STATUSES, Status, Submission
from submissions.tasks import sweep_stuck_submissions
from tests.factories import PASSWORD, SubmissionFactory
from tests.workers import Worker, start_worker
from validation.synth import generate_idb, write_csvzip

from .instances import PostgresCluster, RedisServer, celery_publishing_to, sent_mail, wait_until

pytestmark = [pytest.mark.worker]

FAST = {
    "SUBMISSION_HEARTBEAT_SECONDS": "0.5",
    "SUBMISSION_LOST_AFTER": "3",
    "SUBMISSION_SWEEP_EVERY": "1",
    "SUBMISSION_DISPATCH_EVERY": "1",
    "CELERY_PUBLISH_MAX_RETRIES": "1",
}


@dataclass
class Faults:
    directory: Path
    media_root: str
    redis: RedisServer
    queue: str = field(default_factory=lambda: f"fault-{uuid.uuid4().hex[:8]}")
    workers: list[Worker] = field(default_factory=list)

    @property
    def mail_dir(self) -> Path:
        return self.directory / "mail"

    def worker(self, name: str, *, beat: bool = False, database: str | None = None, **env: str) -> Worker:
        w = start_worker(
            queue=self.queue,
            log_path=self.directory / f"worker-{name}.log",
            media_root=self.media_root,
            beat=beat,
            database=database,
            env={
                **FAST,
                "CELERY_BROKER_URL": self.redis.url,
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(self.mail_dir),
                **env,
            },
        )
        self.workers.append(w)
        return w

    def check_alive(self) -> None:
        """Fail at once (with the logs) rather than wait out a timeout when a worker could not start."""
        for w in self.workers:
            if not w.alive() and not w.killed:
                pytest.fail(f"worker {w.log_path.name} exited:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{w.log()}" for w in self.workers)


@pytest.fixture
def faults(tmp_path: Path, settings):  # type: ignore[no-untyped-def]
    redis = RedisServer(tmp_path)
    redis.start()
    f = Faults(
        directory=tmp_path, media_root=settings.STORAGES["default"]["OPTIONS"]["location"], redis=redis
    )
    try:
        with celery_publishing_to(redis.url, f.queue):
            yield f
    finally:
        for w in f.workers:
            w.stop()
        redis.stop()


def idb_file(directory: Path, *, persons: int, seed: int = 5) -> Path:
    path = directory / f"TSTP1_{persons}_{seed}.zip"
    write_csvzip(
        generate_idb(
            org="TSTP1",
            period="2017-11",
            persons=persons,
            seed=seed,
            error_rate=0.002,
            commissioners=("00C",),
        ),
        path,
    )
    return path


def upload(client, user, path: Path):  # type: ignore[no-untyped-def]
    assert client.login(username=user.username, password=PASSWORD)
    with path.open("rb") as fh:
        return client.post("/submissions/upload/", {"pair": "2017-11|Primary", "file": fh})


def wait_final(sub: Submission, faults: Faults, timeout: float) -> float:
    """Wait (bounded) for the submission's final status; the monotonic time it was seen."""

    def final() -> bool:
        faults.check_alive()
        sub.refresh_from_db()
        return sub.is_final

    assert wait_until(final, timeout, 0.1), (sub.status, sub.progress_stage, faults.logs())
    return time.monotonic()


def mail_once_sent(faults: Faults, *starts: str, timeout: float = 20) -> Counter[str]:
    """The e-mails (subjects counted) once one starting with each of ``starts`` has been written: the
    worker sends them on the commit of the final status, a moment after the test sees that status."""

    def sent() -> bool:
        subjects = sent_mail(faults.mail_dir)
        return all(any(s.startswith(start) for s in subjects) for start in starts)

    wait_until(sent, timeout, 0.1)
    time.sleep(0.5)  # anything sent twice would be on its way too
    return Counter(sent_mail(faults.mail_dir))


def assert_stored_once(sub: Submission) -> None:
    """Counts, findings and accepted rows of exactly one run."""
    tables = list(sub.table_counts.values_list("table", flat=True))
    assert tables and len(tables) == len(set(tables))
    rules = list(sub.rule_counts.values_list("rule_id", flat=True))
    assert len(rules) == len(set(rules))
    load = AcceptedDataLoad.objects.get(submission=sub)
    for tc in sub.table_counts.all():
        model = ACCEPTED_MODELS[tc.table]
        stored = model._default_manager.filter(submission_id=sub.pk).count()
        assert stored == tc.rows_accepted, (tc.table, stored, tc.rows_accepted)
        assert load.tables.get(tc.table, 0) == tc.rows_accepted
        rows = model._default_manager.filter(submission_id=sub.pk).values_list("row_number", flat=True)
        assert rows.count() == rows.distinct().count()


def final_transitions(sub: Submission) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(action="submission.status", object_type="Submission", object_id=str(sub.pk))
        .order_by("created_at", "pk")
        .values_list("from_state", "to_state")
    )


@pytest.mark.django_db(transaction=True)
def test_fault1_worker_killed_mid_validation_finishes_exactly_once(  # type: ignore[no-untyped-def]
    client, submitter_a, open_window, commissioner_a, admin_user, faults, tmp_path
):
    admin_user.email = "ops@example.nhs.uk"
    admin_user.save()
    path = idb_file(tmp_path, persons=15000)
    assert upload(client, submitter_a, path).status_code == 302
    sub = Submission.objects.get()
    first = faults.worker("a")

    def validating() -> bool:
        faults.check_alive()
        sub.refresh_from_db()
        return sub.status == Status.VALIDATING and sub.progress_stage == "validating"

    assert wait_until(validating, 45, 0.05), (sub.status, sub.progress_stage, faults.logs())
    first.kill()
    fault_at = time.monotonic()
    sub.refresh_from_db()
    assert sub.status == Status.VALIDATING and sub.attempts == 1, sub.status

    # A new worker: Redis keeps the killed worker's unacknowledged message for visibility_timeout (3 h),
    # so what recovers the submission is the sweeper seeing the heartbeat stop (SUBMISSION_LOST_AFTER).
    second = faults.worker("b", beat=True)
    final_at = wait_final(sub, faults, 60)
    recovery = final_at - fault_at
    print(f"\nRECOVERY fault 1 (worker SIGKILL mid-validation): {recovery:.1f} s to {sub.status}")
    assert sub.status in SUCCESSFUL_STATUSES, (sub.status, sub.error_message, faults.logs())
    assert sub.is_live and sub.attempts == 2 and sub.sweeper_requeues == 1
    assert_stored_once(sub)
    assert sub.rule_counts.exists()

    transitions = final_transitions(sub)
    assert transitions == [
        (Status.RECEIVED, Status.VALIDATING),
        (Status.VALIDATING, Status.RECEIVED),  # the sweeper: worker lost
        (Status.RECEIVED, Status.VALIDATING),
        (Status.VALIDATING, sub.status),
    ], transitions
    assert AuditEvent.objects.filter(action="submission.live", object_id=str(sub.pk)).count() == 1

    # The killed worker's original message, redelivered late (a worker restoring unacknowledged messages
    # older than visibility_timeout, here made 1 s), is dropped: nothing runs twice.
    second.stop()
    counts_before = (sub.attempts, len(transitions), sub.table_counts.count(), sub.rule_counts.count())
    late = faults.worker("c", CELERY_VISIBILITY_TIMEOUT="1")
    assert late.wait_for_log("'already-done'", 30), faults.logs()
    sub.refresh_from_db()
    assert (
        sub.attempts,
        len(final_transitions(sub)),
        sub.table_counts.count(),
        sub.rule_counts.count(),
    ) == counts_before
    assert_stored_once(sub)

    mail = mail_once_sent(faults, f"{sub.submission_id} 2017-11 Primary:")
    finished = [s for s in mail if s.startswith(f"{sub.submission_id} 2017-11 Primary:")]
    assert len(finished) == 1 and mail[finished[0]] == 1, mail
    assert mail[f"Submission {sub.submission_id} was stuck and has been re-queued"] == 1, mail
    assert not any("ended in ERROR" in s for s in mail), mail


@pytest.mark.django_db(transaction=True)
def test_fault1_pool_process_killed_mid_validation_is_taken_over_at_once(  # type: ignore[no-untyped-def]
    client, submitter_a, open_window, commissioner_a, faults, tmp_path
):
    """The kernel's OOM killer picks the pool process, not the worker: the worker requeues the message at
    once (reject_on_worker_lost) and its redelivery, the same task, takes the submission over without
    waiting for the heartbeat to go stale. No beat here: the sweeper plays no part."""
    import os
    import signal

    assert upload(client, submitter_a, idb_file(tmp_path, persons=15000, seed=6)).status_code == 302
    sub = Submission.objects.get()
    worker = faults.worker("a", SUBMISSION_LOST_AFTER="600")  # the heartbeat stays fresh throughout

    def validating() -> bool:
        faults.check_alive()
        sub.refresh_from_db()
        return sub.status == Status.VALIDATING and sub.progress_stage == "validating"

    assert wait_until(validating, 45, 0.05), (sub.status, sub.progress_stage, faults.logs())
    (child,) = worker.pool_pids()
    os.kill(child, signal.SIGKILL)
    fault_at = time.monotonic()
    final_at = wait_final(sub, faults, 60)
    print(
        f"\nRECOVERY fault 1b (pool process SIGKILL mid-validation): {final_at - fault_at:.1f} s to {sub.status}"
    )
    assert sub.status in SUCCESSFUL_STATUSES, (sub.status, sub.error_message, faults.logs())
    assert sub.is_live and sub.attempts == 2 and sub.sweeper_requeues == 0
    assert_stored_once(sub)
    assert final_transitions(sub) == [(Status.RECEIVED, Status.VALIDATING), (Status.VALIDATING, sub.status)]
    taken = AuditEvent.objects.filter(action="submission.taken_over", object_id=str(sub.pk))
    assert [e.details for e in taken] == [{"attempt": 2, "reason": "redelivered"}]
    assert "WorkerLostError" in worker.log(tail=10**7)
    mail = mail_once_sent(faults, f"{sub.submission_id} 2017-11 Primary:")
    assert sum(n for s, n in mail.items() if s.startswith(f"{sub.submission_id} 2017-11 Primary:")) == 1, mail
    assert not any("stuck" in s or "ERROR" in s for s in mail), mail


@pytest.mark.django_db(transaction=True)
def test_fault2_broker_down_at_upload_is_dispatched_when_it_returns(  # type: ignore[no-untyped-def]
    client, submitter_a, open_window, commissioner_a, admin_user, faults, tmp_path
):
    admin_user.email = "ops@example.nhs.uk"
    admin_user.save()
    path = idb_file(tmp_path, persons=300)
    worker = faults.worker("a", beat=True)
    assert worker.wait_for_log("ready", 30), faults.logs()

    faults.redis.stop()
    fault_at = time.monotonic()
    started = time.monotonic()
    response = upload(client, submitter_a, path)
    request_seconds = time.monotonic() - started
    assert response.status_code == 302, response.status_code
    sub = Submission.objects.get()
    assert response["Location"].endswith(f"/submissions/{sub.submission_id}/")
    assert sub.status == Status.RECEIVED and sub.queued_at is None
    assert default_storage.exists(sub.file.name)
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Received" in page.content
    assert request_seconds < 5, request_seconds

    time.sleep(1)  # the broker stays down a little longer; nothing is lost meanwhile
    faults.redis.start()
    back_at = time.monotonic()
    final_at = wait_final(sub, faults, 60)
    print(
        f"\nRECOVERY fault 2 (Redis down at upload): upload request {request_seconds:.2f} s with the broker "
        f"down; {final_at - back_at:.1f} s from Redis back to {sub.status} "
        f"({final_at - fault_at:.1f} s from the fault)"
    )
    assert sub.status in SUCCESSFUL_STATUSES, (sub.status, sub.error_message, faults.logs())
    assert sub.queued_at is not None and sub.attempts == 1 and sub.sweeper_requeues == 0
    assert_stored_once(sub)
    mail = mail_once_sent(faults, f"{sub.submission_id} 2017-11 Primary:")
    assert sum(n for s, n in mail.items() if s.startswith(f"{sub.submission_id} 2017-11 Primary:")) == 1, mail
    assert not any("stuck" in s or "ERROR" in s for s in mail), mail


def test_fault3_postgresql_restart_while_loading_rows(tmp_path: Path) -> None:
    import subprocess
    import sys

    import psycopg2

    from tests.workers import ROOT

    redis = RedisServer(tmp_path)
    pg = PostgresCluster()
    faults = Faults(directory=tmp_path, media_root=str(tmp_path / "media"), redis=redis)
    conns: list = []  # type: ignore[type-arg]  # one polling connection, made again after the crash
    try:
        pg.init()
        pg.start()
        redis.start()
        admin = pg.connect()
        admin.cursor().execute("CREATE DATABASE faults")
        admin.close()
        db = pg.url("faults")
        env = {
            **__import__("os").environ,
            "DATABASE_URL": db,
            "CELERY_BROKER_URL": redis.url,
            "CELERY_QUEUE": faults.queue,
            "PORTAL_MEDIA_ROOT": faults.media_root,
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True, timeout=120
        )
        path = idb_file(tmp_path, persons=20000)
        seeded = subprocess.run(
            [sys.executable, "-m", "tests.reliability.fault_db", str(path)],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        pk = int(seeded.stdout.strip().splitlines()[-1])
        # Lost after 60 s, above the retry delays (5, 10, 20 s) as in production: the task's own retry
        # recovers, not the sweeper.
        faults.worker("a", beat=True, database=db, SUBMISSION_LOST_AFTER="60")

        def query(sql: str, *args: object) -> list[tuple]:  # type: ignore[type-arg]
            if not conns:
                conns.append(pg.connect("faults"))
            try:
                with conns[0].cursor() as cur:
                    cur.execute(sql, args)
                    return cur.fetchall()
            except psycopg2.Error:
                conns.pop().close()
                raise

        def loading_rows() -> bool:
            (stage,) = query("SELECT progress_stage FROM submissions_submission WHERE id = %s", pk)[0]
            copying = query(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = 'faults' AND state = 'active' "
                "AND query ILIKE 'COPY %%'"
            )[0][0]
            return stage == "loading" and copying > 0

        assert wait_until(loading_rows, 50, 0.02), faults.logs()
        pg.stop("immediate")  # a crash of the server: every connection is cut mid-COPY
        fault_at = time.monotonic()
        time.sleep(1)
        pg.start()

        def final() -> bool:
            try:
                (status,) = query("SELECT status FROM submissions_submission WHERE id = %s", pk)[0]
            except psycopg2.Error:
                return False
            return status in {s.value for s in (*SUCCESSFUL_STATUSES, Status.REJECTED, Status.ERROR)}

        assert wait_until(final, 60, 0.1), faults.logs()
        recovery = time.monotonic() - fault_at
        status, is_live, message, attempts, requeues = query(
            "SELECT status, is_live, error_message, attempts, sweeper_requeues FROM submissions_submission "
            "WHERE id = %s",
            pk,
        )[0]
        print(f"\nRECOVERY fault 3 (PostgreSQL restart while loading rows): {recovery:.1f} s to {status}")
        accepted = dict(
            query(
                'SELECT "table", rows_accepted FROM submissions_submissiontablecount WHERE submission_id = %s',
                pk,
            )
        )
        stored = {
            table: query(f"SELECT count(*) FROM {model._meta.db_table} WHERE submission_id = %s", pk)[0][0]
            for table, model in ACCEPTED_MODELS.items()
        }
        if status in SUCCESSFUL_STATUSES:
            assert is_live and attempts == 2 and requeues == 0
            assert {t: n for t, n in stored.items() if n or t in accepted} == accepted, (stored, accepted)
        else:  # ERROR must say why, and no rows of it are live
            assert status == Status.ERROR and message and not is_live
            assert not any(stored.values()), stored
        log = faults.workers[0].log(tail=10**7)
        assert "Transient error on submission" in log and "retry: Retry in 5s" in log, log
    finally:
        for conn in conns:
            conn.close()
        for w in faults.workers:
            w.stop()
        redis.stop()
        pg.destroy()


@pytest.mark.django_db(transaction=True)
def test_fault4_stuck_submission_requeued_through_a_worker(  # type: ignore[no-untyped-def]
    client, submitter_a, open_window, commissioner_a, admin_user, faults, tmp_path
):
    """A submission whose processing was lost long ago (VALIDATING, started 2 h back) and one already tried
    twice: one sweep, run by a real worker, re-queues the first (it then finishes) and fails the second."""
    admin_user.email = "ops@example.nhs.uk"
    admin_user.save()
    old = timezone.now() - timedelta(hours=2)
    worker = faults.worker("a")
    assert worker.wait_for_log("ready", 30), faults.logs()
    from unittest import mock

    with mock.patch("submissions.services._enqueue"):  # the task of the upload is lost
        assert upload(client, submitter_a, idb_file(tmp_path, persons=200)).status_code == 302
    stuck = Submission.objects.get()
    Submission.objects.filter(pk=stuck.pk).update(
        status=Status.VALIDATING, started_at=old, heartbeat_at=old, attempts=1, queued_at=old
    )
    hopeless = SubmissionFactory(
        organisation=stuck.organisation,
        bsp_unique_id=999,
        received_at=old,
        status=Status.VALIDATING,
        started_at=old,
        attempts=2,
    )
    fault_at = time.monotonic()
    sweep_stuck_submissions.delay()
    final_at = wait_final(stuck, faults, 45)
    hopeless.refresh_from_db()
    print(f"\nRECOVERY fault 4 (stuck submission, one sweep): {final_at - fault_at:.1f} s to {stuck.status}")
    assert stuck.status in SUCCESSFUL_STATUSES and stuck.sweeper_requeues == 1 and stuck.attempts == 2
    assert hopeless.status == Status.ERROR and "two attempts" in hopeless.error_message
    assert_stored_once(stuck)
    mail = mail_once_sent(
        faults,
        f"Submission {stuck.submission_id} was stuck",
        f"Submission {hopeless.submission_id} ended in ERROR",
        f"{stuck.submission_id} 2017-11 Primary:",
    )
    assert mail[f"Submission {stuck.submission_id} was stuck and has been re-queued"] == 1, mail
    assert mail[f"Submission {hopeless.submission_id} ended in ERROR"] == 1, mail
    assert sum(s.startswith(f"{stuck.submission_id} ") for s in mail.elements()) == 1, mail
