"""Stored accepted data: the tables, the bulk loader, the read selectors and their users.

Run against SQLite (executemany path) by default and against PostgreSQL (COPY path) when
``DATABASE_URL`` points at one, as CI does. The 1 M-row timing runs with ``LOAD_BENCH=1`` on PostgreSQL.
"""

from __future__ import annotations

import os
import time
from unittest import mock

import polars as pl
import pytest
from django.db import OperationalError, connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from polars.testing import assert_frame_equal

from reporting import data_selectors, dq_selectors, loading
from reporting.loading import accepted_rows_load
from reporting.models import ACCEPTED_MODELS, DERIVED_COLUMNS, AcceptedDataLoad, AcceptedPerson
from submissions import services
from submissions.models import Status, Submission
from submissions.tasks import process_submission, upload_context
from tests.factories import PASSWORD, SubmissionFactory
from tests.fixtures import upload
from tests.reporting.helpers import AWKWARD
from validation.api import validate_file
from validation.dataset import DATASET
from validation.synth import generate_idb, write_csvzip

pytestmark = pytest.mark.django_db

IS_PG = connection.vendor == "postgresql"

# Spec 10.4, written out again so the test does not just compare the module with itself.
SPEC_DERIVED = {
    "Person": "PERSON_ID AGE_RP_START AGE_RP_END YEAR_OF_BIRTH POSTCODE_DISTRICT",
    "Referral": (
        "PATHWAY_ID AGE_AT_REFERRAL REFERRED_IN_RP ENDED_IN_RP END_GROUP PD_CATEGORY ADSM_FOR_PD "
        "FIRST_ASSESSMENT_DATE FIRST_TREATMENT_DATE SECOND_TREATMENT_DATE LAST_TREATMENT_DATE "
        "COUNT_TREATMENT_APPTS COUNT_ATTENDED_APPTS COUNT_DNA_APPTS ENTERED_TREATMENT_IN_RP "
        "FINISHED_TREATMENT LI_TREATED HI_TREATED FIRST_PHQ9 LAST_PHQ9 FIRST_GAD7 LAST_GAD7 ADSM "
        "FIRST_ADSM LAST_ADSM PAIRED_SCORES OUTCOME_ELIGIBLE CASENESS RECOVERY RELIABLE_IMPROVEMENT "
        "RELIABLE_DETERIORATION NO_RELIABLE_CHANGE RELIABLE_RECOVERY WAIT_DAYS WAIT_6WK WAIT_18WK "
        "PAUSED_DAYS WAIT_DAYS_ADJUSTED"
    ),
    "Appointment": (
        "ATTENDED IS_ASSESSMENT IS_TREATMENT IS_FOLLOWUP LOW_INTENSITY HIGH_INTENSITY WSAS_TOTAL TREATMENT_RANK"
    ),
}


def table_frame(table: str, rows: list[dict[str, str | None]], *, derived: bool = False) -> pl.DataFrame:
    """An accepted frame as the engine gives it: ROW_NUMBER then every spec column (String)."""
    cols = list(DATASET.tables[table].column_names) + (list(DERIVED_COLUMNS[table]) if derived else [])
    data = {"ROW_NUMBER": list(range(1, len(rows) + 1))} | {c: [r.get(c) for r in rows] for c in cols}
    return pl.DataFrame(data, schema={"ROW_NUMBER": pl.Int64} | {c: pl.String for c in cols})


def small_idb() -> dict[str, pl.DataFrame]:
    return {
        "Header": table_frame(
            "Header",
            [
                {
                    "IDBVERSION": "IDB1.5",
                    "ORGCODEPROVIDER": "TSTP1",
                    "START_DATE": "2017-11-01",
                    "END_DATE": "2017-11-30",
                }
            ],
        ),
        "Person": table_frame(
            "Person",
            [
                {"LPTID": "P1", "POSTCODE": "LS1 4AP", "GENDER": "1"},
                {"LPTID": "P2", "POSTCODE": "ABCDEFGHIJ KLMNOP 123", "GENDER": "2"},  # PER150: kept whole
                {"LPTID": "P3"},
            ],
        ),
        "Referral": table_frame(
            "Referral",
            [
                {"SERVICEID": "R1", "LPTID": "P1", "ORGCODECOMM": "00C", "PROVDIAG": "F32.1XYZ"},
                {"SERVICEID": "R2", "LPTID": "P2", "ORGCODECOMM": "01A"},
                {"SERVICEID": "R3", "LPTID": "P1", "ORGCODECOMM": "00C"},
            ],
        ),
        "Disability": table_frame("Disability", [{"LPTID": "P1", "DISABILITY": "04"}, {"LPTID": "P2"}]),
        "Appointment": table_frame(
            "Appointment",
            [
                {"APPTID": "A1", "SERVICEID": "R1", "ATTENDANCE": "5"},
                {"APPTID": "A2", "SERVICEID": "R2", "ATTENDANCE": "3"},
                {"APPTID": "A3", "SERVICEID": "R3", "ATTENDANCE": "6"},
            ],
        ),
        "LTCAppointment": table_frame(
            "LTCAppointment", [{"APPTID": "A1", "LTCSERVICEIND": "Y"}, {"APPTID": "A2"}]
        ),
        "WaitingTimePause": table_frame("WaitingTimePause", [{"SERVICEID": "R2", "PAUSEID": "1"}]),
    }


@pytest.fixture
def sub(provider_a):  # type: ignore[no-untyped-def]
    return SubmissionFactory(organisation=provider_a, status=Status.ACCEPTED, is_live=True)


# --------------------------------------------------------------------------------------- the tables


@pytest.mark.parametrize("table", list(DATASET.tables))
def test_model_columns_follow_the_data_set(table: str) -> None:
    model = ACCEPTED_MODELS[table]
    fields = [f for f in model._meta.concrete_fields]
    assert [f.name for f in fields[:2]] == ["submission", "row_number"]
    fk = fields[0]
    assert fk.remote_field.model is Submission and fk.remote_field.on_delete is models.CASCADE
    expected = list(DATASET.tables[table].column_names) + SPEC_DERIVED.get(table, "").split()
    assert [f.db_column for f in fields[2:]] == expected
    for f in fields[2:]:
        assert isinstance(f, models.TextField) and f.null and f.name == f.db_column.lower()
    # submission leads the primary key, so it is indexed
    assert [f.name for f in model._meta.pk_fields] == ["submission", "row_number"]


def test_derived_columns_match_the_derivation_module() -> None:
    derived = pytest.importorskip("reporting.derived")
    assert dict(DERIVED_COLUMNS) == {t: tuple(c) for t, c in derived.DERIVED_COLUMNS.items()}


def test_indexes_for_the_joins() -> None:
    def indexed(table: str) -> set[str]:
        out = set()
        for index in ACCEPTED_MODELS[table]._meta.indexes:
            assert index.fields[0] == "submission"
            out.add(index.fields[1].upper())
        return out

    assert indexed("Referral") == {"LPTID", "SERVICEID", "ORGCODECOMM"}
    assert indexed("Person") == indexed("Disability") == {"LPTID"}
    # No APPTID index on Appointment: nothing filters Appointment on it (docs/decisions.md, stored data 1)
    assert indexed("Appointment") == {"SERVICEID"}
    for table in ("AssessmentPEQ", "TreatmentPEQ", "WaitingTimePause", "LTCCondition", "MUSSymptom"):
        assert indexed(table) == {"SERVICEID"}
    assert indexed("LTCAppointment") == indexed("EmploymentAdviser") == {"APPTID"}
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, ACCEPTED_MODELS["Referral"]._meta.db_table
        )
    assert any(c["index"] and c["columns"] == ["submission_id", "ORGCODECOMM"] for c in constraints.values())


# --------------------------------------------------------------------------------------- the loader


def test_load_returns_counts_and_reads_back_exactly(sub) -> None:  # type: ignore[no-untyped-def]
    frames = small_idb()
    assert accepted_rows_load(submission_id=sub.pk, frames=frames) == {t: f.height for t, f in frames.items()}
    for table, frame in frames.items():
        assert_frame_equal(data_selectors.accepted_frame(submission=sub, table=table), frame)
    person = data_selectors.accepted_frame(submission=sub, table="Person")
    assert person["POSTCODE"][1] == "ABCDEFGHIJ KLMNOP 123"  # longer than text(8): not cut
    assert list(AcceptedPerson.objects.filter(submission=sub).values_list("lptid", flat=True)) == [
        "P1",
        "P2",
        "P3",
    ]
    # Tables the submission did not have: no rows, and not listed as loaded
    assert set(data_selectors.accepted_tables(submission=sub) or {}) == set(frames)
    assert data_selectors.accepted_frame(submission=sub, table="MUSSymptom").columns == [
        "ROW_NUMBER",
        "SERVICEID",
        "MUSCODE",
    ]


def test_awkward_values_round_trip(sub) -> None:  # type: ignore[no-untyped-def]
    values = [
        *AWKWARD,
        None,
        "",
        "\\N",
        "\\",
        '"',
        "a\tb",
        "NULL",
        "😀" * 300,
        "x" * 20_000,
        "\u00a0nbsp",
        'ø,\n"é"',
    ]
    rows = [{"LPTID": f"P{i}", "POSTCODE": v, "RELIGION": v, "NHSNO": None} for i, v in enumerate(values)]
    frame = table_frame("Person", rows)
    accepted_rows_load(submission_id=sub.pk, frames={"Person": frame})
    back = data_selectors.accepted_frame(submission=sub, table="Person")
    assert_frame_equal(back, frame)
    assert back["POSTCODE"][len(AWKWARD)] is None and back["POSTCODE"][len(AWKWARD) + 1] == ""
    stored = AcceptedPerson.objects.filter(submission=sub)
    assert stored.filter(postcode__isnull=True).count() == 1 and stored.filter(postcode="").count() == 1


def test_reload_replaces_the_rows_of_that_submission_only(sub, provider_a) -> None:  # type: ignore[no-untyped-def]
    other = SubmissionFactory(organisation=provider_a, status=Status.ACCEPTED)
    accepted_rows_load(submission_id=other.pk, frames=small_idb())
    accepted_rows_load(submission_id=sub.pk, frames=small_idb())
    second = {"Person": table_frame("Person", [{"LPTID": "Q1"}])}
    assert accepted_rows_load(submission_id=sub.pk, frames=second) == {"Person": 1}
    assert accepted_rows_load(submission_id=sub.pk, frames=second) == {"Person": 1}
    for model in ACCEPTED_MODELS.values():
        expected = 1 if model is AcceptedPerson else 0
        assert model.objects.filter(submission=sub).count() == expected
    assert AcceptedPerson.objects.filter(submission=other).count() == 3
    assert data_selectors.accepted_tables(submission=sub) == {"Person": 1}
    assert AcceptedDataLoad.objects.count() == 2


def test_a_failed_load_leaves_the_previous_rows(sub) -> None:  # type: ignore[no-untyped-def]
    accepted_rows_load(submission_id=sub.pk, frames=small_idb())
    bad = small_idb() | {"Referral": small_idb()["Referral"].with_columns(pl.lit(1).alias("ROW_NUMBER"))}
    with pytest.raises(Exception):  # noqa: B017 - duplicate primary key, whatever the backend calls it
        accepted_rows_load(submission_id=sub.pk, frames=bad)
    assert AcceptedPerson.objects.filter(submission=sub).count() == 3
    assert ACCEPTED_MODELS["Referral"].objects.filter(submission=sub).count() == 3


def test_derived_columns_are_loaded_when_given(sub) -> None:  # type: ignore[no-untyped-def]
    person = table_frame("Person", [{"LPTID": "P1", "DOB": "1985-06-15"}], derived=True).with_columns(
        pl.lit("abc123").alias("PERSON_ID"), pl.lit("32").alias("AGE_RP_END")
    )
    referral = table_frame("Referral", [{"SERVICEID": "R1", "LPTID": "P1"}]).with_columns(
        pl.lit(7, dtype=pl.Int64).alias("WAIT_DAYS")  # a non-text derived value is stored as its text
    )
    accepted_rows_load(submission_id=sub.pk, frames={"Person": person, "Referral": referral})
    back = data_selectors.accepted_frame(
        submission=sub, table="Person", columns=["LPTID", "PERSON_ID", "AGE_RP_END", "POSTCODE_DISTRICT"]
    )
    assert back.rows() == [(1, "P1", "abc123", "32", None)]
    assert data_selectors.accepted_frame(submission=sub, table="Person").columns[-1] == "LTCONDITION"
    wait = data_selectors.accepted_frame(submission=sub, table="Referral", columns=["WAIT_DAYS"])
    assert wait.columns == ["ROW_NUMBER", "WAIT_DAYS"] and wait["WAIT_DAYS"].to_list() == ["7"]


def test_bad_frames_are_refused(sub) -> None:  # type: ignore[no-untyped-def]
    person = small_idb()["Person"]
    with pytest.raises(ValueError, match="Not data-set tables"):
        accepted_rows_load(submission_id=sub.pk, frames={"Persons": person})
    with pytest.raises(ValueError, match="ROW_NUMBER"):
        accepted_rows_load(submission_id=sub.pk, frames={"Person": person.drop("ROW_NUMBER")})
    with pytest.raises(ValueError, match="missing \\['GENDER'\\]"):
        accepted_rows_load(submission_id=sub.pk, frames={"Person": person.drop("GENDER")})
    with pytest.raises(ValueError, match="not in the data set \\['SUBMISSION_ID'\\]"):
        accepted_rows_load(
            submission_id=sub.pk, frames={"Person": person.with_columns(pl.lit("x").alias("SUBMISSION_ID"))}
        )
    with pytest.raises(ValueError, match="no stored columns"):
        data_selectors.accepted_frame(submission=sub, table="Person", columns=["SERVICEID"])
    assert not AcceptedDataLoad.objects.exists()


def test_loading_needs_the_submission() -> None:
    with pytest.raises(Submission.DoesNotExist):
        accepted_rows_load(submission_id=999_999, frames=small_idb())
    assert not AcceptedPerson.objects.exists()


def test_bulk_path_per_backend(sub) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL loads with COPY (never INSERT); other databases with executemany batches."""
    frames = {"Person": table_frame("Person", [{"LPTID": f"P{i}"} for i in range(12_001)])}
    with (
        mock.patch.object(loading, "COPY_SLICE_ROWS", 5_000),
        mock.patch.object(loading, "_copy", wraps=loading._copy) as copy,
        mock.patch.object(loading, "_insert", wraps=loading._insert) as insert,
        CaptureQueriesContext(connection) as queries,
    ):
        accepted_rows_load(submission_id=sub.pk, frames=frames)
    if IS_PG:
        assert copy.call_count == 1 and insert.call_count == 0
        assert not [q for q in queries.captured_queries if 'INSERT INTO "reporting_accepted_' in q["sql"]]
    else:
        assert insert.call_count == 1 and copy.call_count == 0
        inserts = [
            q for q in queries.captured_queries if 'INSERT INTO "reporting_accepted_person"' in q["sql"]
        ]
        assert len(inserts) == 3  # 12,001 rows in batches of 5,000: one executemany each
    assert AcceptedPerson.objects.filter(submission=sub).count() == 12_001
    assert data_selectors.accepted_frame(submission=sub, table="Person")["LPTID"][-1] == "P12000"


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL only")
def test_copy_errors_are_django_errors(sub) -> None:  # type: ignore[no-untyped-def]
    """A psycopg2 error inside COPY reaches the task as a django.db error (transient ones retry)."""
    from django.db import DataError

    frame = table_frame("Person", [{"LPTID": "P\x00"}])  # PostgreSQL text cannot hold NUL
    with pytest.raises(DataError):
        accepted_rows_load(submission_id=sub.pk, frames={"Person": frame})


def test_accepted_frame_is_one_query(sub, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    frames = small_idb()
    accepted_rows_load(submission_id=sub.pk, frames=frames)
    with mock.patch.object(data_selectors, "FETCH_ROWS", 2), django_assert_num_queries(1):
        assert data_selectors.accepted_frame(submission=sub, table="Person").height == 3
    with django_assert_num_queries(1 + len(frames)):
        assert set(dq_selectors.accepted_frames(submission=sub)) == set(frames)
    with django_assert_num_queries(1 + 1):
        assert set(dq_selectors.accepted_frames(submission=sub, tables=("Referral", "MUSSymptom"))) == {
            "Referral"
        }


def test_accepted_frame_is_scoped_to_the_submission(sub, provider_a) -> None:  # type: ignore[no-untyped-def]
    other = SubmissionFactory(organisation=provider_a, status=Status.ACCEPTED)
    accepted_rows_load(submission_id=other.pk, frames={"Person": table_frame("Person", [{"LPTID": "X"}])})
    accepted_rows_load(submission_id=sub.pk, frames=small_idb())
    assert data_selectors.accepted_frame(submission=sub, table="Person")["LPTID"].to_list() == [
        "P1",
        "P2",
        "P3",
    ]


def test_rows_go_with_a_deleted_submission(sub) -> None:  # type: ignore[no-untyped-def]
    accepted_rows_load(submission_id=sub.pk, frames=small_idb())
    sub.delete()
    assert not any(model.objects.exists() for model in ACCEPTED_MODELS.values())
    assert not AcceptedDataLoad.objects.exists()


def test_commissioner_rows_are_filtered_in_the_database(sub) -> None:  # type: ignore[no-untyped-def]
    accepted_rows_load(submission_id=sub.pk, frames=small_idb())
    tables = [t for t in DATASET.tables if t != "Header"]
    with CaptureQueriesContext(connection) as queries:
        frames = data_selectors.accepted_frames_for_commissioner(submission=sub, code="00C", tables=tables)
    assert len(queries) == len(tables)
    assert frames["Referral"]["SERVICEID"].to_list() == ["R1", "R3"]
    assert frames["Person"]["LPTID"].to_list() == ["P1"]
    assert frames["Disability"]["LPTID"].to_list() == ["P1"]
    assert frames["Appointment"]["APPTID"].to_list() == ["A1", "A3"]
    assert frames["LTCAppointment"]["APPTID"].to_list() == ["A1"]
    assert frames["WaitingTimePause"].height == 0 and frames["MUSSymptom"].height == 0
    assert "Header" not in frames


# ------------------------------------------------------------------------------- pages reading the DB


def test_commissioner_rows_with_derived_columns_come_from_the_database(sub) -> None:  # type: ignore[no-untyped-def]
    from reporting.derived import commissioner_view, derive

    frames = derive(small_idb(), period="2017-11", provider="TSTP1", key=b"k")
    accepted_rows_load(submission_id=sub.pk, frames=frames)
    assert AcceptedDataLoad.objects.get(submission=sub).derived
    tables = [t for t in DATASET.tables if t != "Header"]
    selected = data_selectors.accepted_frames_for_commissioner(
        submission=sub, code="00C", tables=tables, derived=True
    )
    assert selected["Person"]["PERSON_ID"].to_list() == frames["Person"]["PERSON_ID"][:1].to_list()
    view = commissioner_view(selected, provider="TSTP1", key=b"k")
    assert view["Referral"].columns[:4] == ["ORGCODEPROVIDER", "PATHWAY_ID", "PERSON_ID", "ORGCODECOMM"]
    assert view["Referral"]["PATHWAY_ID"].null_count() == 0


def test_dq_page_reads_the_database(client, sub, viewer_a) -> None:  # type: ignore[no-untyped-def]
    accepted_rows_load(submission_id=sub.pk, frames=small_idb())
    assert client.login(username=viewer_a.username, password=PASSWORD)
    response = client.get(reverse("submission-dq", kwargs={"submission_id": sub.submission_id}))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Person" in body and "Referral" in body
    report = dq_selectors.submission_dq_report(submission=sub)
    assert report.submission_id == sub.submission_id


def test_no_stored_rows_no_dq_page(client, sub, viewer_a) -> None:  # type: ignore[no-untyped-def]
    assert client.login(username=viewer_a.username, password=PASSWORD)
    assert (
        client.get(reverse("submission-dq", kwargs={"submission_id": sub.submission_id})).status_code == 404
    )
    assert dq_selectors.accepted_frames(submission=sub) == {}


# ------------------------------------------------------------------------------------ the worker


def _receive(user, tmp_path, *, seed: int = 1, inject=None):  # type: ignore[no-untyped-def]
    from validation.synth import generate_idb_with_manifest

    tables, _ = generate_idb_with_manifest(
        org="TSTP1", period="2017-11", persons=40, seed=seed, inject=inject, commissioners=("00C", "01A")
    )
    path = tmp_path / f"idb{seed}.zip"
    write_csvzip(tables, path)
    with mock.patch("submissions.services._enqueue"):
        return services.submission_receive(
            user=user, upload=upload(path.name, path.read_bytes()), period="2017-11", window_type="Primary"
        )


def test_worker_loads_accepted_rows(submitter_a, open_window, commissioner_a, commissioner_b, tmp_path):  # type: ignore[no-untyped-def]
    first = _receive(submitter_a, tmp_path, seed=1, inject={"PER030": 1, "APP170": 2})
    assert process_submission(first.pk) == "done"
    first.refresh_from_db()
    assert first.status == Status.PARTIALLY_ACCEPTED
    counts = {c.table: c.rows_accepted for c in first.table_counts.all()}
    assert data_selectors.accepted_tables(submission=first) == counts
    # the same rows as the engine's accepted frames for the same file (no parquet copy is written)
    engine = validate_file(tmp_path / "idb1.zip", ctx=upload_context(first), file_name=first.original_name)
    assert not first.accepted_dir
    for table, accepted in counts.items():
        assert ACCEPTED_MODELS[table].objects.filter(submission=first).count() == accepted
        assert_frame_equal(
            data_selectors.accepted_frame(submission=first, table=table), engine.accepted[table]
        )
    # A later file supersedes the first; the first keeps its rows (history kept, spec 7.3)
    second = _receive(submitter_a, tmp_path, seed=2)
    assert process_submission(second.pk) == "done"
    first.refresh_from_db()
    assert not first.is_live and first.superseded_by_id == second.pk
    assert AcceptedPerson.objects.filter(submission=first).count() == counts["Person"]
    assert AcceptedPerson.objects.filter(submission=second).count() == 40


def test_rejected_file_loads_nothing(submitter_a, open_window, commissioner_a, commissioner_b, tmp_path):  # type: ignore[no-untyped-def]
    sub = _receive(submitter_a, tmp_path, inject={"HDR020": 1})
    process_submission(sub.pk)
    sub.refresh_from_db()
    assert sub.status == Status.REJECTED
    assert data_selectors.accepted_tables(submission=sub) is None
    assert not AcceptedPerson.objects.exists()


def test_transient_load_error_retries_and_leaves_nothing_live(  # type: ignore[no-untyped-def]
    submitter_a, open_window, commissioner_a, commissioner_b, tmp_path
):
    from celery.exceptions import Retry

    sub = _receive(submitter_a, tmp_path)
    with (
        mock.patch("submissions.tasks.accepted_rows_load", side_effect=OperationalError("server closed")),
        pytest.raises(Retry),
    ):
        process_submission.apply(args=[sub.pk], throw=True)  # the retry itself is not run eagerly here
    sub.refresh_from_db()
    assert sub.status == Status.RECEIVED and not sub.is_live
    assert not AcceptedPerson.objects.exists()
    assert process_submission(sub.pk) == "done"
    sub.refresh_from_db()
    assert sub.is_live and AcceptedPerson.objects.filter(submission=sub).count() == 40


# ------------------------------------------------------------------------------------ measurement


@pytest.mark.skipif(not (IS_PG and os.environ.get("LOAD_BENCH")), reason="set LOAD_BENCH=1 with PostgreSQL")
def test_bulk_load_speed(sub) -> None:  # type: ignore[no-untyped-def]
    tables = generate_idb(org="TSTP1", period="2017-11", persons=100_000, seed=1)
    frames = {
        t: f.select(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("ROW_NUMBER"), pl.all())
        for t, f in tables.items()
    }
    total = sum(f.height for f in frames.values())
    assert total > 950_000  # about 1 M (972,462 with this seed)
    started = time.perf_counter()
    loaded = accepted_rows_load(submission_id=sub.pk, frames=frames)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = accepted_rows_load(submission_id=sub.pk, frames=frames)  # reload: delete + load
    reload_seconds = time.perf_counter() - started
    started = time.perf_counter()
    appts = data_selectors.accepted_frame(submission=sub, table="Appointment")
    read_seconds = time.perf_counter() - started
    assert loaded == again == {t: f.height for t, f in frames.items()}
    assert appts.height == frames["Appointment"].height
    print(
        f"\nloaded {total:,} rows in {seconds:.1f} s ({total / seconds:,.0f} rows/s); "
        f"reload {reload_seconds:.1f} s; read back {appts.height:,} Appointment rows in {read_seconds:.1f} s; "
        + ", ".join(f"{t} {n:,}" for t, n in loaded.items())
    )


# ------------------------------------------------------------------------------ COPY prefetch thread


def test_prefetch_keeps_order_and_stops_with_the_consumer() -> None:
    """``_ahead`` yields every chunk in order; a consumer that stops early stops the producer too."""
    import threading

    assert list(loading._ahead(iter([b"a", b"b", b"c"]), depth=1)) == [b"a", b"b", b"c"]
    produced: list[int] = []

    def endless():  # type: ignore[no-untyped-def]
        i = 0
        while True:
            produced.append(i)
            yield str(i).encode()
            i += 1

    ahead = loading._ahead(endless(), depth=2)
    assert next(ahead) == b"0"
    ahead.close()  # what happens when COPY fails and drops its stream
    assert not [t for t in threading.enumerate() if t.name == "copy-csv"]
    assert len(produced) <= 5


def test_prefetch_passes_producer_errors_on() -> None:
    def broken():  # type: ignore[no-untyped-def]
        yield b"x"
        raise RuntimeError("polars failed")

    ahead = loading._ahead(broken())
    assert next(ahead) == b"x"
    with pytest.raises(RuntimeError, match="polars failed"):
        next(ahead)


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL only")
def test_csv_error_mid_copy_loads_nothing(sub) -> None:  # type: ignore[no-untyped-def]
    """An error while the CSV is produced ends the COPY and rolls the whole load back."""
    frames = {"Person": table_frame("Person", [{"LPTID": f"P{i}"} for i in range(10)])}
    real = loading._csv_chunks

    def failing(frame):  # type: ignore[no-untyped-def]
        yield from real(frame)
        raise RuntimeError("disk full")

    with mock.patch.object(loading, "_csv_chunks", failing), pytest.raises(RuntimeError, match="disk full"):
        accepted_rows_load(submission_id=sub.pk, frames=frames)
    assert not AcceptedPerson.objects.filter(submission=sub).exists()
    assert not AcceptedDataLoad.objects.filter(submission=sub).exists()


def test_a_failed_copy_stops_its_csv_producer_at_once() -> None:
    """The connection dropping mid-COPY (psycopg2 stops reading the stream): the producer thread is gone
    when the error reaches the caller, not when its traceback is collected."""
    import threading

    class DroppedConnection:
        def copy_expert(self, sql, stream, size):  # type: ignore[no-untyped-def]
            stream.read(10)
            raise ConnectionError("server closed the connection unexpectedly")

    class Cursor:
        cursor = DroppedConnection()

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            return False

    frame = table_frame("Person", [{"LPTID": f"P{i}"} for i in range(20_000)])
    with (
        mock.patch.object(loading, "COPY_SLICE_ROWS", 500),
        mock.patch.object(loading.connection, "cursor", Cursor),
        pytest.raises(ConnectionError) as caught,
    ):
        loading._copy("reporting_acceptedperson", loading._prepared("Person", frame, 1))
    assert caught.value is not None  # the traceback (and its frames) are still alive here
    assert not [t for t in threading.enumerate() if t.name == "copy-csv"]


def test_frames_ahead_releases_what_the_loader_stored(sub) -> None:  # type: ignore[no-untyped-def]
    frames = loading.FramesAhead(["Person"], iter([("Person", table_frame("Person", [{"LPTID": "P1"}]))]))
    assert accepted_rows_load(submission_id=sub.pk, frames=frames) == {"Person": 1}
    with pytest.raises(KeyError, match="released"):
        frames["Person"]
    assert frames.outcome.wait() is True


def test_frames_ahead_gives_each_table_when_ready_and_passes_errors_on() -> None:
    import threading

    gate = threading.Event()

    def source():  # type: ignore[no-untyped-def]
        yield "Person", pl.DataFrame({"a": [1]})
        gate.wait(5)
        yield "Referral", pl.DataFrame({"a": [2]})
        raise RuntimeError("derive failed")

    frames = loading.FramesAhead(["Person", "Referral", "Appointment"], source())
    assert list(frames) == ["Person", "Referral", "Appointment"] and "Referral" in frames  # no waiting
    assert frames["Person"]["a"][0] == 1  # ready before Referral is
    gate.set()
    assert frames["Referral"]["a"][0] == 2
    with pytest.raises(RuntimeError, match="derive failed"):
        frames["Appointment"]
    assert frames.wait() is False


def test_load_from_frames_ahead_lists_tables_in_section_order(sub) -> None:  # type: ignore[no-untyped-def]
    from reporting.derived import derive_iter, derived_table_order

    tables = small_idb()
    frames = loading.FramesAhead(
        derived_table_order(tables), derive_iter(tables, period="2017-11", provider="TSTP1", key=b"k")
    )
    loaded = accepted_rows_load(submission_id=sub.pk, frames=frames)
    assert list(loaded) == [t for t in DATASET.tables if t in tables]
    assert data_selectors.accepted_tables(submission=sub) == loaded  # (jsonb keeps no key order)
    assert data_selectors.accepted_load_is_derived(submission=sub)
