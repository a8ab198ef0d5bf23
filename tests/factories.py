"""factory_boy factories for the Django models (import only from Django tests)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from portal.models import Organisation, OrganisationType, Role, User
from submissions.models import Status, Submission, Window

PASSWORD = "a-long-test-password-1"


def _london_midnight(*, days: int):  # type: ignore[no-untyped-def]
    from submissions.timetable import LONDON, local_midnight

    return local_midnight(timezone.now().astimezone(LONDON).date() + timedelta(days=days))


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TP{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Provider {o.code}")
    type = OrganisationType.PROVIDER


class CommissionerFactory(OrganisationFactory):
    code = factory.Sequence(lambda n: f"C{n:02d}")
    type = OrganisationType.COMMISSIONER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.nhs.uk")
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.PROVIDER_SUBMITTER

    @factory.post_generation
    def password(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()


class WindowFactory(factory.django.DjangoModelFactory):
    """A window open now, offering last month (Primary) and the month before (Refresh)."""

    class Meta:
        model = Window

    code = factory.Sequence(lambda n: f"WT{n:04d}")
    opens_at = factory.LazyFunction(lambda: _london_midnight(days=-3))
    closes_at = factory.LazyFunction(lambda: _london_midnight(days=10))
    primary_rp = "2017-11"
    refresh_rp = "2017-10"


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    organisation = factory.SubFactory(OrganisationFactory)
    bsp_unique_id = factory.Sequence(lambda n: n + 1)
    period = "2017-11"
    window_type = "Primary"
    received_at = factory.LazyFunction(timezone.now)
    original_name = "idb.zip"
    size = 100
    status = Status.RECEIVED
