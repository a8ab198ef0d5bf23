from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Organisations, users and audit"

    def ready(self) -> None:
        from . import signals

        signals.connect()
