"""Changes administrators make to programs and SOW catalogs, each recorded in the history."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims_portal.audit import log_action
from partners.models import ChangePolicy, Program, ProgramRules, SowCatalog, SowCatalogItem


class CatalogError(Exception):
    """A catalog change that is not allowed, with a message for the administrator."""


def _lock_catalog(catalog_id: int) -> SowCatalog:
    return SowCatalog.objects.select_for_update().get(pk=catalog_id)


def approve_catalog(catalog: SowCatalog, *, user: User, revision: int | None = None) -> SowCatalog:
    """Approve the catalog as it is now, so passive approval reads it.

    `revision` is the one the administrator looked at: when the catalog was edited since,
    the approval is refused rather than given to items nobody saw.
    """
    with transaction.atomic():
        locked = _lock_catalog(catalog.pk)
        if revision is not None and locked.revision != revision:
            raise CatalogError(
                _("%(catalog)s was changed since you looked at it; check it and approve again.")
                % {"catalog": locked}
            )
        if locked.is_approved:
            return locked
        items = locked.items.count()
        if not items:
            raise CatalogError(_("%(catalog)s has no items to approve.") % {"catalog": locked})
        locked.approved_at = timezone.now()
        locked.approved_by = user
        locked.save(update_fields=["approved_at", "approved_by", "updated_at"])
        log_action(
            locked,
            "partners.catalog.approved",
            user=user,
            data={"revision": locked.revision, "items": items},
        )
    return locked


def catalog_edited(
    catalog: SowCatalog, *, user: User | None, action: str, changes: dict[str, Any]
) -> SowCatalog:
    """Record an edit of the catalog or its items; an approved catalog needs approving again.

    Called inside the transaction that made the edit, so the edit, the withdrawn approval
    and the history entry commit together.
    """
    with transaction.atomic():
        locked = _lock_catalog(catalog.pk)
        was_approved = locked.is_approved
        locked.revision += 1
        locked.approved_at = None
        locked.approved_by = None
        locked.save(update_fields=["revision", "approved_at", "approved_by", "updated_at"])
        log_action(
            locked,
            action,
            user=user,
            data={**changes, "revision": locked.revision, "approval_withdrawn": was_approved},
        )
    return locked


# --- Copying a program's catalogs into a new period ------------------------------------


@dataclass(frozen=True)
class CopiedItem:
    workload_id: int
    workload: str
    max_seats: int | None
    valid_from: datetime.date | None
    valid_until: datetime.date | None
    # Why the item is left out of the copy; empty when it is copied.
    skipped: str = ""


@dataclass
class CatalogCopy:
    source: SowCatalog
    # Why the catalog is not copied (the target already has one for the partner).
    skipped: str = ""
    items: list[CopiedItem] = field(default_factory=list)

    @property
    def copied_items(self) -> list[CopiedItem]:
        return [item for item in self.items if not item.skipped]


@dataclass
class CopyPlan:
    """What copying `source`'s catalogs into `target` creates; the preview and the work."""

    source: Program
    target: Program
    shift: datetime.timedelta
    catalogs: list[CatalogCopy]

    @property
    def to_create(self) -> list[CatalogCopy]:
        return [c for c in self.catalogs if not c.skipped]

    @property
    def already_there(self) -> list[CatalogCopy]:
        return [c for c in self.catalogs if c.skipped]

    @property
    def item_count(self) -> int:
        return sum(len(c.copied_items) for c in self.to_create)


def _shifted(day: datetime.date | None, shift: datetime.timedelta) -> datetime.date | None:
    return None if day is None else day + shift


def plan_catalog_copy(*, source: Program, target: Program) -> CopyPlan:
    """Which catalogs and items a copy would create, with their dates moved to the target.

    Dates move by the distance between the programs' starts. A catalog is left out when
    the target already has one for its partner (a copy made before, or one made by hand),
    so running the copy again creates nothing twice. An item is left out when the target
    program does not offer its workload, or when its shifted dates miss the target period.
    """
    if source.pk == target.pk:
        raise CatalogError(_("Pick another program to copy the catalogs into."))
    shift = target.start_date - source.start_date
    if target.pk is None:
        # A new period's program, not created yet: it will offer the source's workloads.
        existing: set[int] = set()
        offered = set(source.workloads.values_list("pk", flat=True))
    else:
        existing = set(target.catalogs.values_list("partner_id", flat=True))
        offered = set(target.workloads.values_list("pk", flat=True))
    catalogs = []
    for catalog in (
        source.catalogs.select_related("partner")
        .prefetch_related("items__workload")
        .order_by("partner__name")
    ):
        copy = CatalogCopy(source=catalog)
        if catalog.partner_id in existing:
            copy.skipped = _("%(program)s already has a catalog for this partner.") % {
                "program": target.name
            }
        for item in sorted(catalog.items.all(), key=lambda i: i.workload.name):
            valid_from = _shifted(item.valid_from, shift)
            valid_until = _shifted(item.valid_until, shift)
            skipped = ""
            if item.workload_id not in offered:
                skipped = _("%(program)s does not offer this workload.") % {"program": target.name}
            elif (valid_from and valid_from > target.end_date) or (
                valid_until and valid_until < target.start_date
            ):
                skipped = _("Its shifted dates fall outside %(program)s.") % {
                    "program": target.name
                }
            copy.items.append(
                CopiedItem(
                    workload_id=item.workload_id,
                    workload=item.workload.name,
                    max_seats=item.max_seats,
                    valid_from=valid_from,
                    valid_until=valid_until,
                    skipped=skipped,
                )
            )
        catalogs.append(copy)
    return CopyPlan(source=source, target=target, shift=shift, catalogs=catalogs)


def copy_catalogs(*, source: Program, target: Program, user: User) -> CopyPlan:
    """Copy every catalog of `source` into `target` (unapproved), as the preview showed."""
    if target.pk is None:
        raise CatalogError(_("Create the program before copying catalogs into it."))
    with transaction.atomic():
        # Two administrators copying at once: the second waits, then finds the copies.
        Program.objects.select_for_update().filter(pk=target.pk).values_list("pk").get()
        plan = plan_catalog_copy(source=source, target=target)
        for copy in plan.to_create:
            catalog = SowCatalog.objects.create(
                partner=copy.source.partner,
                program=target,
                notes=copy.source.notes,
                copied_from=copy.source,
            )
            SowCatalogItem.objects.bulk_create(
                [
                    SowCatalogItem(
                        catalog=catalog,
                        workload_id=item.workload_id,
                        max_seats=item.max_seats,
                        valid_from=item.valid_from,
                        valid_until=item.valid_until,
                    )
                    for item in copy.copied_items
                ]
            )
            log_action(
                catalog,
                "partners.catalog.copied",
                user=user,
                data={
                    "from_catalog": copy.source.pk,
                    "from_program": source.slug,
                    "shift_days": plan.shift.days,
                    "items": [i.workload for i in copy.copied_items],
                    "left_out": {i.workload: i.skipped for i in copy.items if i.skipped},
                },
            )
        log_action(
            target,
            "partners.program.catalogs_copied",
            user=user,
            data={
                "from_program": source.slug,
                "shift_days": plan.shift.days,
                "created": [c.source.partner.name for c in plan.to_create],
                "already_there": [c.source.partner.name for c in plan.already_there],
            },
        )
    return plan


def create_next_period(
    *,
    source: Program,
    name: str,
    slug: str,
    start_date: datetime.date,
    end_date: datetime.date,
    user: User,
) -> Program:
    """A new program for the next period with the source's rules, workloads and policy."""
    with transaction.atomic():
        target = Program.objects.create(
            name=name,
            slug=slug,
            start_date=start_date,
            end_date=end_date,
            logo=source.logo,
            # The rules and the calendar's country; not last period's closed days.
            **{name: getattr(source, name) for name in ProgramRules.PROGRAM_FIELDS},
        )
        target.workloads.set(source.workloads.all())
        policy = ChangePolicy.objects.filter(program=source).first()
        if policy is not None:
            policy.pk = None
            policy.program = target
            policy.save()
        log_action(
            target,
            "partners.program.created",
            user=user,
            data={"from_program": source.slug, "start_date": start_date, "end_date": end_date},
        )
    return target


def copy_into_new_period(
    *,
    source: Program,
    name: str,
    slug: str,
    start_date: datetime.date,
    end_date: datetime.date,
    user: User,
) -> CopyPlan:
    """Create the next period's program and copy the source's catalogs into it, at once."""
    with transaction.atomic():
        target = create_next_period(
            source=source,
            name=name,
            slug=slug,
            start_date=start_date,
            end_date=end_date,
            user=user,
        )
        return copy_catalogs(source=source, target=target, user=user)
