"""The check before signing: the rule engine's verdict on a claim, as a dry run.

The rules live in `approvals` (which `claims` never imports); approvals registers its dry
run here when the app is ready (`ApprovalsConfig.ready`). The claim page shows the result
line by line, and signing records it on the claim (`Claim.signing_check`), so what the
approver saw is kept beside what the workers later decide.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from claims.models import Claim


@dataclass(frozen=True)
class LineCheck:
    """What the rules say about one line: pass at once, or go to the claims team and why."""

    line_id: int
    workload: str
    passed: bool
    # Approved in an earlier round (before a return): final, not checked again.
    approved_already: bool = False
    codes: tuple[str, ...] = ()
    details: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line_id,
            "workload": self.workload,
            "passed": self.passed,
            "approved_already": self.approved_already,
            "codes": list(self.codes),
            "details": list(self.details),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LineCheck:
        return cls(
            line_id=int(data.get("line", 0)),
            workload=str(data.get("workload", "")),
            passed=bool(data.get("passed")),
            approved_already=bool(data.get("approved_already")),
            codes=tuple(data.get("codes", ())),
            details=tuple(data.get("details", ())),
        )


@dataclass(frozen=True)
class CheckResult:
    lines: tuple[LineCheck, ...]
    checked_at: datetime.datetime

    @property
    def all_pass(self) -> bool:
        return all(line.passed for line in self.lines)

    @property
    def to_review(self) -> list[LineCheck]:
        return [line for line in self.lines if not line.passed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "lines": [line.as_dict() for line in self.lines],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult | None:
        if not data or "lines" not in data:
            return None
        return cls(
            lines=tuple(LineCheck.from_dict(line) for line in data["lines"]),
            checked_at=datetime.datetime.fromisoformat(data["checked_at"]),
        )


Checker = Callable[[Claim], CheckResult]
_checker: Checker | None = None


def register(checker: Checker) -> None:
    """Install the dry run (approvals does, once, when the app registry is ready)."""
    global _checker
    _checker = checker


def dry_run(claim: Claim) -> CheckResult | None:
    """The rules' verdict on the claim as it is now, writing nothing; None without a checker."""
    if _checker is None:
        return None
    return _checker(claim)


def recorded(claim: Claim) -> CheckResult | None:
    """What the check said when the claim was last signed."""
    return CheckResult.from_dict(claim.signing_check)
