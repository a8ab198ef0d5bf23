"""Seed a private database for a fault test and receive one upload there (run in a subprocess).

``python -m tests.reliability.fault_db FILE`` with ``DATABASE_URL`` (already migrated), ``CELERY_BROKER_URL``
and ``CELERY_QUEUE`` set: makes a provider with a submitter, a commissioner and an open window, receives
FILE through ``submission_receive`` (its task is published on commit, as after a web upload) and prints
the submission's primary key.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(path: Path) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portal.models import Role
    from submissions.services import submission_receive
    from tests.factories import CommissionerFactory, OrganisationFactory, UserFactory, WindowFactory

    provider = OrganisationFactory(code="TSTP1", name="Provider A")
    CommissionerFactory(code="00C", name="Commissioner A")
    WindowFactory(code="W201712", primary_rp="2017-11", refresh_rp="2017-10")
    user = UserFactory(username="submitter_a", organisation=provider, role=Role.PROVIDER_SUBMITTER)
    sub = submission_receive(
        user=user,
        upload=SimpleUploadedFile(path.name, path.read_bytes()),
        period="2017-11",
        window_type="Primary",
    )
    print(sub.pk)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
