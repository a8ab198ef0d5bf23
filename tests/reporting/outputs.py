"""Post-deadline outputs made by hand (stored files and rows) for page, download and access tests."""

from __future__ import annotations

import io
import zipfile

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from reporting.models import OutputKind, PostDeadlineOutput, StatisticsValue
from reporting.statistics import MEASURES
from submissions.models import Submission, Window


def _zip(tables: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in tables.items():
            zf.writestr(f"{name}.csv", text)
    return buf.getvalue()


def _save(name: str, content: bytes) -> str:
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def make_outputs(
    *, window: Window, submission: Submission, code: str = "00C", period: str | None = None
) -> dict[str, PostDeadlineOutput]:
    """A provider extract of ``submission``, a commissioner extract for ``code`` and Provisional statistics."""
    period = period or submission.period
    provider = submission.organisation.code
    prefix = f"post_deadline/{window.code}"
    now = timezone.now()
    pe_name = f"{provider}_{period}_{submission.window_type}_{submission.bsp_unique_id:07d}_post_deadline"
    provider_out = PostDeadlineOutput.objects.create(
        window=window,
        kind=OutputKind.PROVIDER_EXTRACT,
        org_code=provider,
        period=period,
        window_type=submission.window_type,
        submission=submission,
        providers=[provider],
        files={
            "zip": _save(
                f"{prefix}/providers/{pe_name}.zip",
                _zip({"Submission": f"SUBMISSION_ID\r\n{submission.submission_id}\r\n"}),
            ),
            "xlsx": _save(f"{prefix}/providers/{pe_name}.xlsx", b"xlsx"),
        },
        rows={"Person": 1},
        created_at=now,
    )
    comm_name = f"COMM_{code}_{period}_{submission.window_type}"
    comm_out = PostDeadlineOutput.objects.create(
        window=window,
        kind=OutputKind.COMMISSIONER_EXTRACT,
        org_code=code,
        period=period,
        window_type=submission.window_type,
        providers=[provider],
        files={
            "zip": _save(
                f"{prefix}/commissioners/{comm_name}.zip",
                _zip(
                    {
                        "Referral": f"ORGCODEPROVIDER,PATHWAY_ID,PERSON_ID,ORGCODECOMM\r\n{provider},p,q,{code}\r\n"
                    }
                ),
            ),
            "xlsx": _save(f"{prefix}/commissioners/{comm_name}.xlsx", b"xlsx"),
        },
        rows={"Referral": 1},
        created_at=now,
    )
    stem = f"IAPT_STATS_{period}_Provisional"
    stats = PostDeadlineOutput.objects.create(
        window=window,
        kind=OutputKind.STATISTICS,
        org_code="",
        period=period,
        window_type="Primary",
        status="Provisional",
        providers=[provider],
        files={
            fmt: _save(f"{prefix}/statistics/{stem}.{fmt}", b"REPORTING_PERIOD\r\n")
            for fmt in ("csv", "xlsx", "json")
        },
        rows={"rows": 66},
        created_at=now,
    )
    values = []
    for i, m in enumerate(MEASURES):
        values += [
            StatisticsValue(output=stats, level="National", org_code="", measure_id=m.id, value=str(100 + i)),
            StatisticsValue(
                output=stats, level="Provider", org_code=provider, measure_id=m.id, value=str(10 + i)
            ),
            StatisticsValue(
                output=stats, level="Commissioner", org_code=code, measure_id=m.id, value=str(20 + i)
            ),
        ]
    StatisticsValue.objects.bulk_create(values)
    return {"provider": provider_out, "commissioner": comm_out, "statistics": stats}
