"""Claims a partner prepares, for the tests of preparing, invite links and their pages."""

from __future__ import annotations

import datetime

from django.utils import timezone

from partners.prepare import OrganisationInput, prepare_for_customer
from tests import factories as f
from tests import uploads as u

NEW_TENANT = OrganisationInput(
    tenant_id="northwind.example", name="Northwind Traders", domain="northwind.example"
)


def form_data(world, *, workloads=None, **overrides) -> dict:
    """What the partner types and uploads on /partner/prepare/."""
    today = timezone.localdate()
    data = {
        "org-tenant_id": NEW_TENANT.tenant_id,
        "org-name": NEW_TENANT.name,
        "org-domain": NEW_TENANT.domain,
        "contact-survey_contact_mode": "one",
        "contact-survey_contact_name": "Sam Survey",
        "contact-survey_contact_email": "sam@northwind.example",
        "sow-custom_sow": u.pdf(),
        "sow-customer_email": "",
    }
    for workload in workloads or world.workloads[:1]:
        data.update(
            {
                f"w{workload.pk}-selected": "on",
                f"w{workload.pk}-target_start": today.isoformat(),
                f"w{workload.pk}-target_end": (today + datetime.timedelta(days=90)).isoformat(),
                f"w{workload.pk}-seats": "300",
            }
        )
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def prepared(world, *, organisation=NEW_TENANT, user=None, email=""):
    """A claim Contoso prepared (through the service), and its invite."""
    return prepare_for_customer(
        partner=world.partner,
        program=world.program,
        user=user or world.partner_member,
        organisation=organisation,
        data=world.claim_input(world.workloads[:1]),
        custom_sow=u.pdf(),
        email=email,
    )


def invitee(email: str = "ada@northwind.example"):
    """Someone with a verified address and no organisation yet."""
    return f.UserFactory(email=email)
