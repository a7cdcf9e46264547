from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        from approvals import receivers  # noqa: F401  (connects the life-cycle hooks)
        from approvals.services import dry_run  # imported here: models must be loaded
        from claims import checks  # imported here: models must be loaded

        # The claim page's check before signing runs these same rules, without writing.
        checks.register(dry_run)
        from approvals.selectors import claims_team_watchers  # imported here: models loaded
        from claims import notifications  # imported here: models must be loaded

        # The claims-team member working on a claim hears of comments on it.
        if claims_team_watchers not in notifications.comment_watchers:
            notifications.comment_watchers.append(claims_team_watchers)
