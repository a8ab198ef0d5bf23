"""Warn accounts nearing ACCOUNT_INACTIVE_DAYS unused, and deactivate those past it (also run by Celery beat)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.accounts import inactive_accounts_process


class Command(BaseCommand):
    help = "Send inactivity warnings and deactivate accounts unused for ACCOUNT_INACTIVE_DAYS."

    def handle(self, *args: Any, **options: Any) -> None:
        result = inactive_accounts_process()
        for name in result.warned:
            self.stdout.write(f"warned {name}")
        for name in result.deactivated:
            self.stdout.write(f"deactivated {name}")
        self.stdout.write(f"{len(result.warned)} warned, {len(result.deactivated)} deactivated")
