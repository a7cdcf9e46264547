from __future__ import annotations

import datetime

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from claims_portal.roles import CLAIMS_LEAD_GROUP, CLAIMS_REVIEWER_GROUP
from customers.models import Association, Customer, CustomerMembership
from partners.models import (
    ChangePolicy,
    Partner,
    PartnerMembership,
    Program,
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
]


class Command(BaseCommand):
    help = "Load demo data: a current program, workloads, partners, a customer and sign-ins."

    @transaction.atomic
    def handle(self, *args, **options):
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

        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        self.stdout.write(f"Program: {program.name} ({program.start_date} to {program.end_date})")
        self.stdout.write(
            "Partner claim URLs: /c/contoso/ (code CONTOSO1), /c/fabrikam/ (FABRIKAM)"
        )
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for email, description, _kind, _target in USERS:
            self.stdout.write(f"  {email:<28} {description}")
