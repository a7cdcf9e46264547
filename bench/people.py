"""The sign-ins the filler creates and the page harness signs in as.

fill.py gives partner 1 the most claims and customer 1 the most claims, so these fixed
addresses always name the heaviest cases whatever the scale.
"""

from __future__ import annotations

PASSWORD = "bench-portal-2026"

PARTNER_MEMBER = "member@partner-0001.bench.example"
PARTNER_ADMIN = "admin@partner-0001.bench.example"
REVIEWER = "reviewer01@vendor.bench.example"
LEAD = "lead@vendor.bench.example"
CUSTOMER_APPROVER = "approver@customer-000001.bench.example"

# Role names used by the page table in pages.py.
BY_ROLE = {
    "partner": PARTNER_MEMBER,
    "partner_admin": PARTNER_ADMIN,
    "reviewer": REVIEWER,
    "lead": LEAD,
    "customer": CUSTOMER_APPROVER,
}


def partner_email(number: int, role: str = "member") -> str:
    return f"{role}@partner-{number:04d}.bench.example"


def customer_email(number: int) -> str:
    return f"approver@customer-{number:06d}.bench.example"


def reviewer_email(number: int) -> str:
    return f"reviewer{number:02d}@vendor.bench.example"
