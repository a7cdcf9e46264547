"""seed_demo loads the customer's side in every state it can be tried in, and runs twice."""

from __future__ import annotations

from django.core.management import call_command

from claims.events import verify_chain
from claims.models import Claim, Comment
from customers.models import Customer, Invitation
from partners.models import PublicSectorField


def test_it_loads_the_demo_twice_without_duplicates(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    woodgrove = Customer.objects.get(name="Woodgrove Bank")
    statuses = sorted(Claim.objects.filter(customer=woodgrove).values_list("status", flat=True))
    assert statuses == sorted(
        ["draft", "awaiting_customer_approval", "returned_to_customer", "in_review"]
    )
    assert (
        Invitation.objects.filter(customer=woodgrove, email="dana@woodgrove.example").count() == 1
    )
    assert Comment.objects.filter(internal=True).count() == 1
    assert PublicSectorField.objects.filter(required=True).exists()
    assert Customer.objects.get(segment="public_sector").memberships.exists()
    for claim in Claim.objects.all():
        assert verify_chain(claim) == []
