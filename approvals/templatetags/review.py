"""How the claims team's pages say things: rule results in plain words, queue markers."""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.rules import ReasonCode, reason_label

register = template.Library()

# What a passing rule established, beside the label of its failure (ReasonCode).
_PASSED = {
    ReasonCode.NOT_IN_CATALOG: _("In the partner's pre-approved SOW catalog"),
    ReasonCode.CUSTOM_SOW: _("No custom SOW"),
    ReasonCode.EXISTING_CLAIM: _("No other partner holds or claims it"),
    ReasonCode.DUPLICATE: _("Not already held or claimed by this partner"),
    ReasonCode.CLAIM_LIMIT: _("Within the program's claim limit"),
    ReasonCode.PUBLIC_SECTOR: _("Public-sector requirements met"),
    ReasonCode.BELOW_MINIMUM: _("At or above the program's minimum seats"),
    ReasonCode.PARTNER_INACTIVE: _("Partner active"),
    ReasonCode.OPEN_DISPUTE: _("No open dispute"),
}


@register.filter
def rule_in_words(result: dict[str, Any]) -> str:
    """One rule's result as a sentence: what passed, or why it failed."""
    code = str(result.get("rule", ""))
    if result.get("passed"):
        try:
            return str(_PASSED[ReasonCode(code)])
        except (KeyError, ValueError):
            return code
    return reason_label(code)


@register.filter
def is_past(moment: datetime.datetime | None) -> bool:
    return moment is not None and moment < timezone.now()


@register.filter
def percent(value: Any) -> str:
    return "" if value is None else f"{value:.0f}%"
