from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """What every app shares: the audit history of non-claim objects, template tags."""

    name = "claims_portal"
    label = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from claims_portal import sessions  # noqa: F401  (connects the sign-in receivers)
