from __future__ import annotations

import datetime

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from approvals.services import evaluate_claim
from claims import lifecycle
from claims.comments import add_comment
from claims.content import ClaimInput, LineInput
from claims.models import Claim
from claims_portal.roles import CLAIMS_LEAD_GROUP, CLAIMS_REVIEWER_GROUP
from customers.models import Association, Customer, CustomerMembership, Invitation
from customers.services import invite_member
from partners.models import (
    ChangePolicy,
    Partner,
    PartnerMembership,
    Program,
    PublicSectorField,
    SowCatalog,
    SowCatalogItem,
    Workload,
)

DEMO_PASSWORD = "demo-portal-2026"

WORKLOADS = [
    ("exchange-online", "Exchange Online"),
    ("teams", "Microsoft Teams"),
    ("sharepoint-online", "SharePoint Online"),
    ("intune", "Microsoft Intune"),
    ("entra-id", "Microsoft Entra ID"),
    ("defender-endpoint", "Defender for Endpoint"),
]

PARTNERS = [
    # name, slug, code, partner id, public sector, catalog workloads
    (
        "Contoso Deployments",
        "contoso",
        "CONTOSO1",
        "P-100001",
        True,
        ["exchange-online", "teams", "sharepoint-online", "intune"],
    ),
    ("Fabrikam Services", "fabrikam", "FABRIKAM", "P-100002", False, ["exchange-online", "teams"]),
]

USERS = [
    # email, description, kind, target
    ("admin@vendor.example", "Program administrator (Django admin)", "superuser", None),
    ("lead@vendor.example", "Claims team lead", "group", CLAIMS_LEAD_GROUP),
    ("reviewer@vendor.example", "Claims team reviewer", "group", CLAIMS_REVIEWER_GROUP),
    ("pat@contoso.example", "Partner admin, Contoso Deployments", "partner", ("contoso", "admin")),
    (
        "fay@fabrikam.example",
        "Partner member, Fabrikam Services",
        "partner",
        ("fabrikam", "member"),
    ),
    ("alex@woodgrove.example", "Customer approver, Woodgrove Bank", "customer", "approver"),
    ("casey@woodgrove.example", "Customer contributor, Woodgrove Bank", "customer", "contributor"),
    (
        "robin@northwind-county.example",
        "Customer approver, Northwind County Council (public sector)",
        "council",
        "approver",
    ),
    (
        "dana@woodgrove.example",
        "Invited to Woodgrove Bank, not joined yet (open the link in the console mail)",
        "invitee",
        None,
    ),
]

# The questions public-sector customers answer on this program's claims (set in admin).
PUBLIC_SECTOR_FIELDS = [
    ("agency", "Agency or department code", "As on your procurement records.", True),
    ("framework", "Procurement framework reference", "If you buy through a framework.", False),
]


class Command(BaseCommand):
    help = "Load demo data: a current program, workloads, partners, a customer and sign-ins."

    def handle(self, *args, **options):
        program = self._load()
        # Printed after the commit, so the emails the demo sends (to the console in the
        # embedded mode) come first and the sign-ins are the last thing on the screen.
        self._summary(program)

    @transaction.atomic
    def _load(self) -> Program:
        today = timezone.localdate()
        start = datetime.date(today.year if today.month >= 7 else today.year - 1, 7, 1)
        program, _ = Program.objects.update_or_create(
            slug="deployment-services",
            defaults={
                "name": f"Deployment Services FY{(start.year + 1) % 100:02d}",
                "start_date": start,
                "end_date": datetime.date(start.year + 1, 6, 30),
                "min_seats": 150,
            },
        )
        ChangePolicy.objects.get_or_create(program=program)
        for position, (key, label, help_text, required) in enumerate(PUBLIC_SECTOR_FIELDS):
            PublicSectorField.objects.update_or_create(
                program=program,
                key=key,
                defaults={
                    "label": label,
                    "help_text": help_text,
                    "required": required,
                    "position": position,
                },
            )
        workloads = {}
        for code, name in WORKLOADS:
            workloads[code], _ = Workload.objects.get_or_create(code=code, defaults={"name": name})
        program.workloads.set(workloads.values())

        partners = {}
        for name, slug, code, partner_id, public, catalog_codes in PARTNERS:
            partner, _ = Partner.objects.update_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "code": code,
                    "partner_id": partner_id,
                    "contact_email": f"claims@{slug}.example",
                    "public_sector_authorised": public,
                },
            )
            partners[slug] = partner
            catalog, _ = SowCatalog.objects.get_or_create(
                partner=partner, program=program, defaults={"approved_at": timezone.now()}
            )
            for workload_code in catalog_codes:
                SowCatalogItem.objects.get_or_create(
                    catalog=catalog, workload=workloads[workload_code]
                )

        # A short push beside the annual program: Contoso's claim URL then asks which.
        rooms_start = today.replace(day=1)
        rooms, _ = Program.objects.update_or_create(
            slug="teams-rooms",
            defaults={
                "name": "Teams Rooms push",
                "start_date": rooms_start,
                "end_date": rooms_start + datetime.timedelta(days=90),
                "min_seats": 50,
            },
        )
        rooms.workloads.set([workloads["teams"]])
        rooms_catalog, _ = SowCatalog.objects.get_or_create(
            partner=partners["contoso"], program=rooms, defaults={"approved_at": timezone.now()}
        )
        SowCatalogItem.objects.get_or_create(catalog=rooms_catalog, workload=workloads["teams"])

        customer, _ = Customer.objects.get_or_create(
            tenant_id="woodgrove.onmicrosoft.com",
            defaults={
                "name": "Woodgrove Bank",
                "segment": Customer.Segment.COMMERCIAL,
                "seats": 1200,
                "verified_domains": "woodgrove.example",
            },
        )
        Association.objects.get_or_create(
            customer=customer,
            workload=workloads["exchange-online"],
            ended_on=None,
            defaults={
                "partner": partners["fabrikam"],
                "since": start,
                "active_usage_pct": 64,
                "usage_growth_pct": 3,
                "usage_updated_at": timezone.now(),
            },
        )
        Association.objects.get_or_create(
            customer=customer,
            workload=workloads["sharepoint-online"],
            ended_on=None,
            defaults={
                "partner": partners["contoso"],
                "since": start + datetime.timedelta(days=30),
                "active_usage_pct": 12,
                "usage_growth_pct": 0,
                "usage_updated_at": timezone.now(),
            },
        )
        council, _ = Customer.objects.get_or_create(
            tenant_id="northwindcounty.onmicrosoft.com",
            defaults={
                "name": "Northwind County Council",
                "segment": Customer.Segment.PUBLIC_SECTOR,
                "seats": 3400,
                "verified_domains": "northwind-county.example",
            },
        )

        User = get_user_model()
        for email, _description, kind, target in USERS:
            user, created = User.objects.get_or_create(username=email, defaults={"email": email})
            if created:
                user.set_password(DEMO_PASSWORD)
            user.is_staff = user.is_superuser = kind == "superuser"
            user.save()
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            if kind == "group":
                user.groups.add(Group.objects.get_or_create(name=target)[0])
            elif kind == "partner":
                slug, role = target
                PartnerMembership.objects.update_or_create(
                    user=user, defaults={"partner": partners[slug], "role": role}
                )
            elif kind == "customer":
                CustomerMembership.objects.update_or_create(
                    user=user, defaults={"customer": customer, "role": target}
                )
            elif kind == "council":
                CustomerMembership.objects.update_or_create(
                    user=user, defaults={"customer": council, "role": target}
                )
        users = {email: User.objects.get(username=email) for email, *_rest in USERS}
        if not Invitation.objects.filter(customer=customer).exists():
            invite_member(
                customer,
                user=users["alex@woodgrove.example"],
                email="dana@woodgrove.example",
                role=CustomerMembership.Role.CONTRIBUTOR,
            )
        if not Claim.objects.filter(customer=customer).exists():
            _demo_claims(program, customer, partners, workloads, users)

        return program

    def _summary(self, program: Program) -> None:
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        self.stdout.write(f"Program: {program.name} ({program.start_date} to {program.end_date})")
        self.stdout.write(
            "Partner claim URLs: /c/contoso/ (code CONTOSO1), /c/fabrikam/ (FABRIKAM)"
        )
        self.stdout.write(
            "Woodgrove Bank's claims: a half-done draft, one sent to Alex to sign (changed "
            "since), one returned by Contoso, one with the claims team (internal note)."
        )
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for email, description, _kind, _target in USERS:
            self.stdout.write(f"  {email:<28} {description}")


def _demo_claims(program, customer, partners, workloads, users) -> None:
    """Woodgrove's claims in the states a customer meets them, made through the life cycle
    so every history, check and notification is real."""
    alex, casey = users["alex@woodgrove.example"], users["casey@woodgrove.example"]
    pat, reviewer = users["pat@contoso.example"], users["reviewer@vendor.example"]
    contoso = partners["contoso"]
    today = timezone.localdate()
    start = max(today + datetime.timedelta(days=7), program.start_date)
    end = min(start + datetime.timedelta(days=90), program.end_date)

    def claim_input(codes, seats=400, **contact):
        return ClaimInput(
            survey_contact_mode=Claim.SurveyContactMode.ONE_FOR_ALL,
            survey_contact_name=contact.get("name", "Sam Rivera"),
            survey_contact_email=contact.get("email", "sam.rivera@woodgrove.example"),
            survey_contact_phone="+44 20 7946 0101",
            lines=[
                LineInput(
                    workload_id=workloads[c].pk, target_start=start, target_end=end, seats=seats
                )
                for c in codes
            ],
        )

    def new(codes, user, **kwargs):
        return lifecycle.create_claim(
            customer=customer,
            partner=contoso,
            program=program,
            user=user,
            data=claim_input(codes, **kwargs),
        )

    # 1. Casey's half-done draft: a service ticked, seats only.
    lifecycle.create_claim(
        customer=customer,
        partner=contoso,
        program=program,
        user=casey,
        data=ClaimInput(
            survey_contact_mode=Claim.SurveyContactMode.ONE_FOR_ALL,
            survey_contact_name="",
            survey_contact_email="",
            lines=[
                LineInput(
                    workload_id=workloads["teams"].pk, target_start=None, target_end=None, seats=300
                )
            ],
        ),
    )
    # 2. Sent to Alex with a message, then changed: Alex sees what changed, and the check.
    # Exchange Online is Fabrikam's today: the check and today's partners show it.
    routed = new(["exchange-online"], casey)
    lifecycle.route_to_approver(
        routed, user=casey, comment="Seats are from the March licence count."
    )
    lifecycle.update_claim(routed, user=casey, data=claim_input(["exchange-online"], seats=450))
    # 3. Signed, then returned by Contoso with a comment; Casey answers in the thread.
    returned = new(["teams", "defender-endpoint"], alex)
    lifecycle.sign_and_submit(returned, user=alex, signed_name="Alex Kim", attested=True)
    lifecycle.return_to_customer(
        returned, user=pat, comment="Defender: please confirm the seat count."
    )
    add_comment(returned, user=casey, body="Checking with IT; 380 seats is likely.")
    # 4. Confirmed and checked: Intune passes at once, Entra ID goes to the claims team.
    reviewed = new(["intune", "entra-id"], alex, seats=900)
    lifecycle.sign_and_submit(reviewed, user=alex, signed_name="Alex Kim", attested=True)
    lifecycle.confirm_claim(reviewed, user=pat)
    evaluate_claim(claim_id=reviewed.pk)
    add_comment(
        reviewed,
        user=reviewer,
        body="Entra ID scope looks larger than the SOW; asking Contoso.",
        internal=True,
    )
    add_comment(
        reviewed,
        user=reviewer,
        body="We are checking the Entra ID scope and will decide this week.",
    )
