from __future__ import annotations

from django.apps import AppConfig


class PartnerSystemConfig(AppConfig):
    name = "claims_portal.partner_system"
    label = "partner_system"
    verbose_name = "Vendor's partner system"
    default_auto_field = "django.db.models.BigAutoField"
