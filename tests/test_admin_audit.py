"""Every admin change to programs, catalogs, policies and partners is in the audit history."""

from __future__ import annotations

from django.urls import reverse

from claims_portal.audit import history, verify_history
from claims_portal.models import AuditEntry
from partners.models import ChangePolicy, Partner, Program, SowCatalog
from tests import factories as f


def _program_data(program: Program, **changes) -> dict[str, str]:
    policy = ChangePolicy.objects.filter(program=program).first()
    data = {
        "name": program.name,
        "slug": program.slug,
        "start_date": program.start_date.isoformat(),
        "end_date": program.end_date.isoformat(),
        "workloads": [str(w.pk) for w in program.workloads.all()],
        "min_seats": str(program.min_seats),
        "claim_limit_per_partner": "",
        "public_sector_requires_authorisation": "on",
        "partner_confirm_days": "5",
        "review_days": "5",
        "correction_days": "10",
        "reminder_days": "1",
        "closed_days-TOTAL_FORMS": "0",
        "closed_days-INITIAL_FORMS": "0",
        "closed_days-MIN_NUM_FORMS": "0",
        "closed_days-MAX_NUM_FORMS": "1000",
        "invite_valid_days": "14",
        "change_policy-TOTAL_FORMS": "1",
        "change_policy-INITIAL_FORMS": "1" if policy else "0",
        "change_policy-MIN_NUM_FORMS": "0",
        "change_policy-MAX_NUM_FORMS": "1",
        "change_policy-0-id": str(policy.pk) if policy else "",
        "change_policy-0-program": str(program.pk),
        "change_policy-0-usage_threshold_pct": str(policy.usage_threshold_pct) if policy else "20",
        "change_policy-0-large_customer_seats": "500",
        "change_policy-0-large_customer_threshold_pct": "10",
        "change_policy-0-no_growth_days": str(policy.no_growth_days) if policy else "90",
        "public_sector_fields-TOTAL_FORMS": "0",
        "public_sector_fields-INITIAL_FORMS": "0",
        "public_sector_fields-MIN_NUM_FORMS": "0",
        "public_sector_fields-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_a_program_change_records_old_and_new_values_and_the_policy(admin_client, world):
    program = world.program
    ChangePolicy.objects.create(program=program)
    url = reverse("admin:partners_program_change", args=[program.pk])
    data = _program_data(
        program,
        min_seats="50",
        workloads=[str(world.workloads[0].pk)],
        **{"change_policy-0-no_growth_days": "120"},
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    [entry] = history(program)
    assert entry.action == "partners.program.changed"
    assert entry.actor_label == "admin@example.com"
    assert entry.data["fields"]["min_seats"] == [0, 50]
    assert entry.data["fields"]["workloads"] == [
        ["Exchange Online", "Microsoft Intune", "Microsoft Teams"],
        ["Exchange Online"],
    ]
    assert entry.data["inlines"]["changepolicy"]["changed"] == {
        f"{program} policy": {"no_growth_days": [90, 120]}
    }
    assert verify_history(program) == []


def test_saving_a_program_unchanged_records_nothing(admin_client, world):
    ChangePolicy.objects.create(program=world.program)
    url = reverse("admin:partners_program_change", args=[world.program.pk])
    assert admin_client.post(url, _program_data(world.program)).status_code == 302
    assert history(world.program).count() == 0


def test_adding_and_deleting_a_partner_is_recorded(admin_client, world):
    url = reverse("admin:partners_partner_add")
    response = admin_client.post(
        url,
        {
            "name": "Northwind Services",
            "slug": "northwind",
            "code": "NORTH1",
            "partner_id": "P-NORTH",
            "contact_email": "claims@northwind.example",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.context["errors"]
    partner = Partner.objects.get(slug="northwind")
    [created] = history(partner)
    assert created.action == "partners.partner.created"
    assert created.data["fields"]["partner_id"] == "P-NORTH"

    delete = reverse("admin:partners_partner_delete", args=[partner.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Partner.objects.filter(pk=partner.pk).exists()
    assert [e.action for e in history(partner)] == [
        "partners.partner.created",
        "partners.partner.deleted",
    ]


def test_suspending_a_partner_is_recorded(admin_client, world):
    partner = world.partner
    url = reverse("admin:partners_partner_change", args=[partner.pk])
    membership = partner.memberships.order_by("pk")
    data = {
        "name": partner.name,
        "slug": partner.slug,
        "code": partner.code,
        "partner_id": partner.partner_id,
        "contact_email": partner.contact_email,
        "memberships-TOTAL_FORMS": str(membership.count()),
        "memberships-INITIAL_FORMS": str(membership.count()),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, m in enumerate(membership):
        data.update(
            {
                f"memberships-{i}-id": str(m.pk),
                f"memberships-{i}-partner": str(partner.pk),
                f"memberships-{i}-user": str(m.user_id),
                f"memberships-{i}-role": m.role,
            }
        )
    data["memberships-0-DELETE"] = "on"
    assert admin_client.post(url, data).status_code == 302
    [entry] = history(partner)
    assert entry.data["fields"] == {"is_active": [True, False]}
    assert entry.data["inlines"]["partnermembership"]["deleted"]


def test_the_bulk_delete_action_records_each_object(admin_client, world):
    spare = [f.WorkloadFactory(code=f"spare-{n}") for n in range(2)]
    response = admin_client.post(
        reverse("admin:partners_workload_changelist"),
        {"action": "delete_selected", "_selected_action": [w.pk for w in spare], "post": "yes"},
    )
    assert response.status_code == 302
    deleted = AuditEntry.objects.filter(action="partners.workload.deleted")
    assert sorted(e.object_repr for e in deleted) == ["Spare 0", "Spare 1"]


def test_the_history_button_shows_the_audited_history(admin_client, world):
    catalog = SowCatalog.objects.get(partner=world.partner)
    approve = reverse("admin:partners_sowcatalog_approve", args=[catalog.pk])
    SowCatalog.objects.filter(pk=catalog.pk).update(approved_at=None)
    admin_client.post(approve, {"revision": "1"})
    page = admin_client.get(reverse("admin:partners_sowcatalog_history", args=[catalog.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "partners.catalog.approved" in text and "admin@example.com" in text


def test_the_audit_history_is_read_only_in_admin(admin_client, world):
    page = admin_client.get(reverse("admin:portal_auditentry_changelist"))
    assert page.status_code == 200
    assert admin_client.get(reverse("admin:portal_auditentry_add")).status_code == 403
