"""What a claim says: its content as recorded in the history, what a complete claim needs,
and the date rules of its lines.

A snapshot of the content goes into every CREATE/EDIT event (`snapshot`), so the history
can show what changed between versions and an approver what changed since a claim was
sent to them. Snapshots of older events may lack keys added since; readers use .get().
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from claims.models import Claim, ClaimLine
from partners.models import Program

MAX_SEATS = 10_000_000


@dataclass(frozen=True)
class LineInput:
    workload_id: int
    # Empty only while the claim is a draft.
    target_start: datetime.date | None
    target_end: datetime.date | None
    seats: int | None
    survey_contact_name: str = ""
    survey_contact_email: str = ""
    survey_contact_phone: str = ""


@dataclass(frozen=True)
class ClaimInput:
    survey_contact_mode: str
    survey_contact_name: str
    survey_contact_email: str
    lines: Sequence[LineInput]
    survey_contact_phone: str = ""
    # {key: {"label": ..., "required": bool, "value": ...}} for public-sector customers.
    public_sector_details: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _day(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def snapshot(data: ClaimInput) -> dict[str, Any]:
    """The content as the history records it, lines in a stable order."""
    return {
        "survey_contact_mode": data.survey_contact_mode,
        "survey_contact_name": data.survey_contact_name,
        "survey_contact_email": data.survey_contact_email,
        "survey_contact_phone": data.survey_contact_phone,
        "public_sector": {
            key: str(item.get("value", "")) for key, item in data.public_sector_details.items()
        },
        "lines": [
            {
                "workload": line.workload_id,
                "target_start": _day(line.target_start),
                "target_end": _day(line.target_end),
                "seats": line.seats,
                "survey_contact_name": line.survey_contact_name,
                "survey_contact": line.survey_contact_email,
                "survey_contact_phone": line.survey_contact_phone,
            }
            for line in sorted(data.lines, key=lambda line: line.workload_id)
        ],
    }


def input_of(claim: Claim, lines: Sequence[ClaimLine] | None = None) -> ClaimInput:
    """The claim's content as it is saved now (without the lines the customer removed)."""
    if lines is None:
        lines = list(claim.lines.all())
    return ClaimInput(
        survey_contact_mode=claim.survey_contact_mode,
        survey_contact_name=claim.survey_contact_name,
        survey_contact_email=claim.survey_contact_email,
        survey_contact_phone=claim.survey_contact_phone,
        public_sector_details=claim.public_sector_details,
        lines=[
            LineInput(
                workload_id=line.workload_id,
                target_start=line.target_start,
                target_end=line.target_end,
                seats=line.seats,
                survey_contact_name=line.survey_contact_name,
                survey_contact_email=line.survey_contact_email,
                survey_contact_phone=line.survey_contact_phone,
            )
            for line in lines
            if line.status != ClaimLine.Status.REMOVED
        ],
    )


# --- Rules of the content ---------------------------------------------------------------


def date_problems(
    start: datetime.date | None,
    end: datetime.date | None,
    program: Program,
    *,
    today: datetime.date | None = None,
) -> dict[str, str]:
    """What is wrong with a line's target dates, by field ("target_start", "target_end").

    `today` given: a start before it is refused too (for dates as they are typed; a date
    that was fine when saved does not block signing later).
    """
    problems: dict[str, str] = {}
    period = _("%(start)s to %(end)s") % {
        "start": program.start_date.strftime("%d %b %Y"),
        "end": program.end_date.strftime("%d %b %Y"),
    }
    if start is not None:
        if today is not None and start < today:
            problems["target_start"] = _("The target start cannot be in the past.")
        elif not program.start_date <= start <= program.end_date:
            problems["target_start"] = _(
                "The target start must fall within the program period (%(period)s)."
            ) % {"period": period}
    if end is not None:
        if start is not None and end <= start:
            problems["target_end"] = _("The target completion must be after the start.")
        elif not program.start_date <= end <= program.end_date:
            problems["target_end"] = _(
                "The target completion must fall within the program period (%(period)s)."
            ) % {"period": period}
    return problems


def missing_for_submission(claim: Claim, lines: Sequence[ClaimLine] | None = None) -> list[str]:
    """What the claim still needs before it can be routed or signed; empty when complete."""
    if lines is None:
        lines = list(claim.lines.select_related("workload"))
    live = [line for line in lines if line.status != ClaimLine.Status.REMOVED]
    problems: list[str] = []
    if not live:
        problems.append(_("Pick at least one service."))
    per_service = claim.survey_contact_mode == Claim.SurveyContactMode.PER_SERVICE
    if not per_service and not (claim.survey_contact_name and claim.survey_contact_email):
        problems.append(_("Name the survey contact and give their email."))
    for line in live:
        name = line.workload.name
        if line.target_start is None or line.target_end is None:
            problems.append(_("%(service)s: give its target dates.") % {"service": name})
        if line.seats is None:
            problems.append(_("%(service)s: give the number of seats.") % {"service": name})
        if line.status != ClaimLine.Status.APPROVED:
            for problem in date_problems(
                line.target_start, line.target_end, claim.program
            ).values():
                problems.append(f"{name}: {problem}")
        if per_service and not (line.survey_contact_name and line.survey_contact_email):
            problems.append(
                _("%(service)s: name its survey contact and give their email.") % {"service": name}
            )
    if claim.customer.is_public_sector:
        for item in claim.public_sector_details.values():
            if item.get("required") and not str(item.get("value", "")).strip():
                problems.append(
                    _("Public-sector details: %(label)s is required.")
                    % {"label": item.get("label")}
                )
    return problems
