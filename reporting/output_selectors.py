"""Reads of the post-deadline outputs (spec 10.4-10.6), scoped to what the user may see.

* Post-deadline extracts (10.4): a provider's own, every provider's for national administrators.
* Commissioner extracts (10.5): the codes of a commissioner, or the codes a CSU acts for.
* Statistics (10.6): every signed-in user.
"""

from __future__ import annotations

import polars as pl
from django.db.models import Q, QuerySet

from portal.models import User

from .models import OutputKind, PostDeadlineOutput, StatisticsValue


def provider_extracts_for_user(*, user: User) -> QuerySet[PostDeadlineOutput]:
    qs = PostDeadlineOutput.objects.filter(kind=OutputKind.PROVIDER_EXTRACT).select_related(
        "window", "submission"
    )
    if user.is_portal_admin:
        return qs
    if user.is_provider_user and user.organisation is not None:
        return qs.filter(org_code=user.organisation.code)
    return qs.none()


def provider_extract_get(
    *, user: User, org_code: str, period: str, window_type: str
) -> PostDeadlineOutput | None:
    return (
        provider_extracts_for_user(user=user)
        .filter(org_code=org_code, period=period, window_type=window_type)
        .first()
    )


def commissioner_codes_for_user(*, user: User) -> list[str]:
    if not user.is_commissioner_user or user.organisation is None:
        return []
    return user.organisation.commissioner_codes()


def commissioner_extracts_for_user(*, user: User) -> QuerySet[PostDeadlineOutput]:
    codes = commissioner_codes_for_user(user=user)
    return PostDeadlineOutput.objects.filter(
        kind=OutputKind.COMMISSIONER_EXTRACT, org_code__in=codes
    ).select_related("window")


def commissioner_extract_get(
    *, user: User, code: str, period: str, window_type: str
) -> PostDeadlineOutput | None:
    return (
        commissioner_extracts_for_user(user=user)
        .filter(org_code=code, period=period, window_type=window_type)
        .first()
    )


def statistics_runs() -> QuerySet[PostDeadlineOutput]:
    """Every statistics output (any signed-in user may see them), newest RP first."""
    return PostDeadlineOutput.objects.filter(kind=OutputKind.STATISTICS).order_by("-period", "status")


def statistics_run_get(*, period: str, status: str) -> PostDeadlineOutput | None:
    return statistics_runs().filter(period=period, status=status).first()


def statistics_values(*, up_to: str, org_codes: list[str]) -> pl.DataFrame:
    """National values and those of ``org_codes`` of every run for RPs up to ``up_to``, one query, in the
    shape of the 10.6 output (``REPORTING_PERIOD``, ``STATUS``, ``LEVEL``, ``ORG_CODE``, ``MEASURE_ID``,
    ``VALUE``)."""
    rows = (
        StatisticsValue.objects.filter(output__kind=OutputKind.STATISTICS, output__period__lte=up_to)
        .filter(Q(level="National") | Q(org_code__in=org_codes))
        .values_list("output__period", "output__status", "level", "org_code", "measure_id", "value")
    )
    schema = {
        c: pl.String for c in ("REPORTING_PERIOD", "STATUS", "LEVEL", "ORG_CODE", "MEASURE_ID", "VALUE")
    }
    return pl.DataFrame(list(rows), schema=schema, orient="row")
