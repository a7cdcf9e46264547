from __future__ import annotations

import datetime

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from approvals.models import Decision, ReviewTask
from claims.events import record_event
from claims.models import Claim, ClaimAction, ClaimLine, ClaimRole
from claims_portal.roles import CLAIMS_LEAD_GROUP, CLAIMS_REVIEWER_GROUP
from customers.models import Association, ChangeRequest, Customer, CustomerMembership
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
    # example.com: UserFactory's addresses, so a factory member may act for the customer.
    verified_domains = factory.LazyAttribute(lambda o: f"{o.tenant_id}\nexample.com")


def catalog(partner: Partner, program: Program, workloads, *, approved: bool = True) -> SowCatalog:
    """The partner's catalog for the program with these workloads, approved unless told."""
    cat, _ = SowCatalog.objects.get_or_create(partner=partner, program=program)
    for workload in workloads:
        SowCatalogItem.objects.get_or_create(catalog=cat, workload=workload)
    if approved and not cat.is_approved:
        cat.approved_at = timezone.now()
        cat.save(update_fields=["approved_at"])
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


# --- Claims and what hangs off them -----------------------------------------------------
#
# ClaimFactory puts a claim straight into a state with the data that state implies (lines
# with their statuses, a decision per checked line, associations for approved lines, the
# open queue item of a claim in review) and a valid event chain, so a test states the data
# it needs instead of replaying the life cycle: ClaimFactory(in_review=True).


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Claim
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"CLM-{timezone.now().year}-{800000 + n:06d}")
    partner = factory.SubFactory(PartnerFactory)
    customer = factory.SubFactory(CustomerFactory)
    program = factory.SubFactory(ProgramFactory)
    created_by = factory.SubFactory(UserFactory)
    status = Claim.Status.DRAFT
    survey_contact_mode = Claim.SurveyContactMode.ONE_FOR_ALL
    survey_contact_name = "Sam Survey"
    survey_contact_email = "sam@customer.example"

    class Params:
        signed = factory.Trait(
            signed_name="Alex Approver",
            signed_at=factory.LazyFunction(timezone.now),
            submitted_at=factory.LazyFunction(timezone.now),
            signed_by=factory.SelfAttribute("created_by"),
        )
        routed = factory.Trait(status=Claim.Status.AWAITING_CUSTOMER_APPROVAL)
        submitted = factory.Trait(
            signed=True,
            status=Claim.Status.AWAITING_PARTNER,
            due_at=factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7)),
        )
        returned = factory.Trait(signed=True, status=Claim.Status.RETURNED_TO_CUSTOMER)
        evaluating = factory.Trait(signed=True, status=Claim.Status.EVALUATING)
        in_review = factory.Trait(
            signed=True,
            status=Claim.Status.IN_REVIEW,
            due_at=factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7)),
        )
        approved = factory.Trait(
            signed=True,
            status=Claim.Status.APPROVED,
            decided_at=factory.LazyFunction(timezone.now),
        )
        rejected = factory.Trait(
            signed=True,
            status=Claim.Status.REJECTED,
            decided_at=factory.LazyFunction(timezone.now),
        )
        withdrawn = factory.Trait(status=Claim.Status.WITHDRAWN)

    @factory.post_generation
    def workloads(self, create, extracted, **kwargs):
        """The claim's services: `workloads=[...]`, else one new workload of the program."""
        if not create:
            return
        workloads = list(extracted) if extracted else [WorkloadFactory()]
        self.program.workloads.add(*workloads)
        line_status = _LINE_STATUS.get(self.status, ClaimLine.Status.PENDING)
        today = timezone.localdate()
        for workload in workloads:
            line = ClaimLine.objects.create(
                claim=self,
                workload=workload,
                target_start=today,
                target_end=today + datetime.timedelta(days=90),
                seats=500,
                status=line_status,
            )
            if line_status in (ClaimLine.Status.APPROVED, ClaimLine.Status.IN_REVIEW):
                failed = [] if line_status == ClaimLine.Status.APPROVED else ["not_in_catalog"]
                Decision.objects.create(
                    line=line,
                    passed=not failed,
                    reason_codes=failed,
                    results=[
                        {"rule": "not_in_catalog", "passed": not failed, "detail": ""},
                    ],
                )
            if line_status == ClaimLine.Status.APPROVED:
                Association.objects.create(
                    customer=self.customer,
                    workload=workload,
                    partner=self.partner,
                    since=today,
                    source_claim=self,
                )

    @factory.post_generation
    def queue_item(self, create, extracted, **kwargs):
        """A claim in review has its open queue item, unless `queue_item=False`."""
        if not create or self.status != Claim.Status.IN_REVIEW or extracted is False:
            return
        ReviewTask.objects.create(
            claim=self,
            reasons=[
                {
                    "line": line.pk,
                    "workload": line.workload.name,
                    "codes": ["not_in_catalog"],
                    "details": [""],
                }
                for line in self.lines.select_related("workload")
            ],
            due_at=self.due_at or timezone.now(),
        )

    @factory.post_generation
    def history(self, create, extracted, **kwargs):
        if create:
            _record_history(self)


# The status every line has once the claim is in a state, and the events that lead there.
_LINE_STATUS = {
    Claim.Status.IN_REVIEW: ClaimLine.Status.IN_REVIEW,
    Claim.Status.APPROVED: ClaimLine.Status.APPROVED,
    Claim.Status.REJECTED: ClaimLine.Status.REJECTED,
    Claim.Status.WITHDRAWN: ClaimLine.Status.WITHDRAWN,
}
_PATH = {
    Claim.Status.DRAFT: [],
    Claim.Status.AWAITING_CUSTOMER_APPROVAL: [(ClaimAction.ROUTE, ClaimRole.CONTRIBUTOR)],
    Claim.Status.AWAITING_PARTNER: [(ClaimAction.SIGN, ClaimRole.APPROVER)],
    Claim.Status.RETURNED_TO_CUSTOMER: [
        (ClaimAction.SIGN, ClaimRole.APPROVER),
        (ClaimAction.RETURN, ClaimRole.PARTNER),
    ],
    Claim.Status.EVALUATING: [
        (ClaimAction.SIGN, ClaimRole.APPROVER),
        (ClaimAction.CONFIRM, ClaimRole.PARTNER),
    ],
    Claim.Status.IN_REVIEW: [
        (ClaimAction.SIGN, ClaimRole.APPROVER),
        (ClaimAction.CONFIRM, ClaimRole.PARTNER),
        (ClaimAction.EVALUATE, ClaimRole.SYSTEM),
    ],
    Claim.Status.APPROVED: [
        (ClaimAction.SIGN, ClaimRole.APPROVER),
        (ClaimAction.CONFIRM, ClaimRole.PARTNER),
        (ClaimAction.EVALUATE, ClaimRole.SYSTEM),
    ],
    Claim.Status.REJECTED: [
        (ClaimAction.SIGN, ClaimRole.APPROVER),
        (ClaimAction.CONFIRM, ClaimRole.PARTNER),
        (ClaimAction.EVALUATE, ClaimRole.SYSTEM),
        (ClaimAction.DECIDE, ClaimRole.CLAIMS_TEAM),
    ],
    Claim.Status.WITHDRAWN: [(ClaimAction.WITHDRAW, ClaimRole.APPROVER)],
}
# Where each step of a path leaves the claim, up to its final status.
_STEP_TARGET = {
    ClaimAction.ROUTE: Claim.Status.AWAITING_CUSTOMER_APPROVAL,
    ClaimAction.SIGN: Claim.Status.AWAITING_PARTNER,
    ClaimAction.RETURN: Claim.Status.RETURNED_TO_CUSTOMER,
    ClaimAction.CONFIRM: Claim.Status.EVALUATING,
    ClaimAction.EVALUATE: Claim.Status.IN_REVIEW,
    ClaimAction.DECIDE: Claim.Status.REJECTED,
    ClaimAction.WITHDRAW: Claim.Status.WITHDRAWN,
}


def _record_history(claim: Claim) -> None:
    """A valid chain of custody that ends in the claim's status (verify_chain passes)."""
    record_event(
        claim,
        action=ClaimAction.CREATE,
        user=claim.created_by,
        role=ClaimRole.APPROVER,
        to_status=Claim.Status.DRAFT,
    )
    status = Claim.Status.DRAFT
    path = _PATH[claim.status]
    for i, (action, role) in enumerate(path):
        target = claim.status if i == len(path) - 1 else _STEP_TARGET[action]
        record_event(
            claim,
            action=action,
            user=None if role == ClaimRole.SYSTEM else claim.created_by,
            role=role,
            from_status=status,
            to_status=target,
        )
        status = target


class AssociationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Association

    customer = factory.SubFactory(CustomerFactory)
    workload = factory.SubFactory(WorkloadFactory)
    partner = factory.SubFactory(PartnerFactory)
    since = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=100))

    class Params:
        ended = factory.Trait(ended_on=factory.LazyFunction(timezone.localdate))


class ReviewTaskFactory(factory.django.DjangoModelFactory):
    """A queue item, with its claim in review."""

    class Meta:
        model = ReviewTask

    claim = factory.SubFactory(ClaimFactory, in_review=True, queue_item=False)
    due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=5))

    class Params:
        overdue = factory.Trait(
            due_at=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
        )


class ChangeRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChangeRequest

    customer = factory.SubFactory(CustomerFactory)
    workload = factory.SubFactory(WorkloadFactory)
    from_partner = factory.SubFactory(PartnerFactory)
    to_partner = factory.SubFactory(PartnerFactory)
    created_by = factory.SubFactory(UserFactory)
    status = ChangeRequest.Status.OPEN

    class Params:
        awaiting_response = factory.Trait(status=ChangeRequest.Status.AWAITING_RESPONSE)
        granted = factory.Trait(status=ChangeRequest.Status.GRANTED)
