"""Print the current two-factor code of a demo user (the demo's stand-in for an authenticator app)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.demo import demo_totp_key, totp_code


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo user made by seed_demo (never of a real account)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **opts: Any) -> None:
        username = opts["username"]
        key = demo_totp_key(username)
        # Only a device that seed_demo made with the derived demo key: real keys are random and never shown.
        if not TOTPDevice.objects.filter(user__username=username, key=key, confirmed=True).exists():
            raise CommandError(f"{username} has no demo authenticator")
        self.stdout.write(totp_code(key))
