from __future__ import annotations

import datetime

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from claims_portal.roles import CLAIMS_LEAD_GROUP, CLAIMS_REVIEWER_GROUP
from customers.models import Customer, CustomerMembership
from partners.models import (
    Partner,
    PartnerMembership,
    Program,
    SowCatalog,
    SowCatalogItem,
    Workload,
)

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class WorkloadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workload
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"workload-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")
    slug = factory.Sequence(lambda n: f"program-{n}")
    start_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=60))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=300))
    min_seats = 0


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    slug = factory.Sequence(lambda n: f"partner-{n}")
    code = factory.Sequence(lambda n: f"PART{n:04d}")
    partner_id = factory.Sequence(lambda n: f"P-{n:06d}")
    contact_email = factory.LazyAttribute(lambda o: f"claims@{o.slug}.example")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    tenant_id = factory.Sequence(lambda n: f"tenant-{n}.example")
    seats = 1000
    verified_domains = factory.LazyAttribute(lambda o: o.tenant_id)


def catalog(partner: Partner, program: Program, workloads) -> SowCatalog:
    cat, _ = SowCatalog.objects.get_or_create(partner=partner, program=program)
    for workload in workloads:
        SowCatalogItem.objects.get_or_create(catalog=cat, workload=workload)
    return cat


def customer_user(customer: Customer, role: str = "approver", **kwargs):
    user = UserFactory(**kwargs)
    CustomerMembership.objects.create(user=user, customer=customer, role=role)
    return user


def partner_user(partner: Partner, role: str = "member", **kwargs):
    user = UserFactory(**kwargs)
    PartnerMembership.objects.create(user=user, partner=partner, role=role)
    return user


def claims_team_user(lead: bool = False, **kwargs):
    user = UserFactory(**kwargs)
    name = CLAIMS_LEAD_GROUP if lead else CLAIMS_REVIEWER_GROUP
    user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user
