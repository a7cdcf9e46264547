"""A claim's history in words: what changed between versions, from the events themselves.

Every CREATE/EDIT event carries a snapshot of the content (`claims.content.snapshot`); the
difference between one snapshot and the one before is what that edit changed. Other events
carry their own small records (the signature, each line's outcome), put in words here too.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from claims.models import Claim, ClaimAction, ClaimLine, Event
from partners.models import Workload

CONTENT_ACTIONS = (ClaimAction.CREATE, ClaimAction.EDIT)

_MODE: dict[str, str] = {str(value): str(label) for value, label in Claim.SurveyContactMode.choices}
_LINE_STATUS = dict(ClaimLine.Status.choices)


@dataclass(frozen=True)
class Change:
    """One thing that changed, said plainly: what it is about, and what happened to it."""

    subject: str
    text: str


def _or_dash(value: Any) -> str:
    return str(value) if value not in (None, "") else "—"


def _date(value: str | None) -> str:
    if not value:
        return "—"
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {day:%b %Y}"


def _dates(line: Mapping[str, Any]) -> str:
    return f"{_date(line.get('target_start'))} – {_date(line.get('target_end'))}"


def _seats(value: Any) -> str:
    if value in (None, ""):
        return _("seats not given")
    return ngettext("%(n)s seat", "%(n)s seats", int(value)) % {"n": value}


def _line_summary(line: Mapping[str, Any]) -> str:
    parts = [_dates(line), _seats(line.get("seats"))]
    contact = line.get("survey_contact_name") or line.get("survey_contact")
    if contact:
        parts.append(_("survey contact %(who)s") % {"who": contact})
    return ", ".join(parts)


_LINE_FIELDS = (
    ("target_start", lambda: _("target start"), _date),
    ("target_end", lambda: _("target completion"), _date),
    ("seats", lambda: _("seats"), _or_dash),
    ("survey_contact_name", lambda: _("survey contact"), _or_dash),
    ("survey_contact", lambda: _("survey contact email"), _or_dash),
    ("survey_contact_phone", lambda: _("survey contact phone"), _or_dash),
)

_CONTACT_FIELDS = (
    ("survey_contact_name", lambda: _("name")),
    ("survey_contact_email", lambda: _("email")),
    ("survey_contact_phone", lambda: _("phone")),
)


def content_changes(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    names: Mapping[int, str],
    labels: Mapping[str, str] | None = None,
) -> list[Change]:
    """What changed from one content snapshot to the next (before=None: the first version)."""
    before = before or {}
    labels = labels or {}
    changes: list[Change] = []
    contact = _("Survey contact")
    mode_before, mode_after = before.get("survey_contact_mode"), after.get("survey_contact_mode")
    if before and mode_before != mode_after:
        changes.append(
            Change(
                contact,
                f"{_MODE.get(str(mode_before), _or_dash(mode_before))} → "
                f"{_MODE.get(str(mode_after), _or_dash(mode_after))}",
            )
        )
    for key, label in _CONTACT_FIELDS:
        old, new = before.get(key) or "", after.get(key) or ""
        if old != new:
            text = (
                f"{label()}: {_or_dash(old)} → {_or_dash(new)}" if before else f"{label()}: {new}"
            )
            changes.append(Change(contact, text))
    old_details, new_details = before.get("public_sector") or {}, after.get("public_sector") or {}
    for key in sorted(set(old_details) | set(new_details)):
        old, new = old_details.get(key, ""), new_details.get(key, "")
        if old != new:
            subject = _("Public-sector details")
            text = f"{labels.get(key, key)}: {_or_dash(old)} → {_or_dash(new)}"
            changes.append(Change(subject, text))
    old_lines = {line["workload"]: line for line in before.get("lines", [])}
    new_lines = {line["workload"]: line for line in after.get("lines", [])}
    for workload_id in sorted(set(old_lines) | set(new_lines), key=lambda w: names.get(w, "")):
        name = names.get(workload_id, _("Service %(id)s") % {"id": workload_id})
        old_line, new_line = old_lines.get(workload_id), new_lines.get(workload_id)
        if old_line is None and new_line is not None:
            changes.append(Change(name, _("added: %(what)s") % {"what": _line_summary(new_line)}))
        elif new_line is None:
            changes.append(Change(name, _("removed")))
        elif old_line is not None:
            parts = []
            for key, label, show in _LINE_FIELDS:
                old, new = old_line.get(key), new_line.get(key)
                if key in old_line and old != new:
                    parts.append(f"{label()} {show(old)} → {show(new)}")
            if parts:
                changes.append(Change(name, "; ".join(parts)))
    return changes


def _outcomes(record: Mapping[str, Any], by_code: Mapping[str, str]) -> list[Change]:
    return [
        Change(by_code.get(code, code), str(_LINE_STATUS.get(status, status)))
        for code, status in sorted(record.items())
    ]


def _signature(changes: Mapping[str, Any]) -> list[Change]:
    rows = [
        Change(
            _("Signature"),
            _("signed as %(name)s (account %(account)s)")
            % {"name": changes.get("signed_name", ""), "account": changes.get("signed_by", "")},
        )
    ]
    check = changes.get("check")
    if isinstance(check, Mapping):
        passes = check.get("passes") or []
        review = check.get("to_review") or {}
        if passes:
            rows.append(Change(_("Check at signing"), _("passes at once: %s") % ", ".join(passes)))
        if review:
            rows.append(
                Change(_("Check at signing"), _("to the claims team: %s") % ", ".join(review))
            )
    return rows


def _generic(changes: Mapping[str, Any]) -> list[Change]:
    return [Change(str(key), str(value)) for key, value in changes.items()]


def workload_names(events: Iterable[Event], lines: Iterable[ClaimLine]) -> dict[int, str]:
    """Names of every workload the history mentions; one query for those no line has."""
    names = {line.workload_id: line.workload.name for line in lines}
    mentioned: set[int] = set()
    for event in events:
        if event.action in CONTENT_ACTIONS:
            mentioned |= {line.get("workload") for line in event.changes.get("lines", []) if line}
    missing = {w for w in mentioned - set(names) if isinstance(w, int)}
    if missing:
        names.update(Workload.objects.filter(pk__in=missing).values_list("pk", "name"))
    return names


def readable(claim: Claim, events: Sequence[Event], lines: Sequence[ClaimLine]) -> list[Event]:
    """The events, each with `readable_changes`: a list of Change, oldest event first."""
    names = workload_names(events, lines)
    by_code = {line.workload.code: line.workload.name for line in lines}
    labels = {key: str(item.get("label", key)) for key, item in claim.public_sector_details.items()}
    previous: Mapping[str, Any] | None = None
    for event in events:
        changes = event.changes or {}
        rows: list[Change]
        if event.action in CONTENT_ACTIONS:
            rows = content_changes(previous, changes, names, labels)
            previous = changes
        elif event.action in (ClaimAction.SIGN, ClaimAction.RESUBMIT):
            rows = _signature(changes)
        elif isinstance(changes.get("lines"), Mapping):
            rows = _outcomes(changes["lines"], by_code)
        elif event.action == ClaimAction.COMMENT:
            rows = []
        else:
            rows = _generic(changes)
        event.readable_changes = rows  # type: ignore[attr-defined]
    return list(events)


def changes_since_routing(
    claim: Claim, events: Sequence[Event], lines: Sequence[ClaimLine]
) -> tuple[Event | None, list[Change]]:
    """The last time the claim was sent to the approver, and what changed after it."""
    route = next((e for e in reversed(events) if e.action == ClaimAction.ROUTE), None)
    if route is None:
        return None, []
    at_route = next(
        (e.changes for e in reversed(events) if e.seq < route.seq and e.action in CONTENT_ACTIONS),
        None,
    )
    latest = next((e.changes for e in reversed(events) if e.action in CONTENT_ACTIONS), None)
    if at_route is None or latest is None or latest is at_route:
        return route, []
    names = workload_names(events, lines)
    labels = {key: str(item.get("label", key)) for key, item in claim.public_sector_details.items()}
    return route, content_changes(at_route, latest, names, labels)
