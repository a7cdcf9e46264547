"""Admin for programs, workloads, partners and SOW catalogs, every change audited.

Tools beside the plain forms: copy a program's catalogs into a new period (with a
preview), import and export a catalog's items as CSV (with a preview and row-level
errors), approve catalogs. Each tool calls a service in `partners.services` or
`partners.catalog_csv`; the views here only read forms and render.
"""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims_portal.admin import AuditedAdmin
from claims_portal.uploads import reencode_image
from partners import catalog_csv, services
from partners.admin_forms import (
    ApproveCatalogForm,
    CatalogImportConfirmForm,
    CatalogImportForm,
    CopyCatalogsForm,
)
from partners.forms import LOGO_LIMITS
from partners.models import (
    ChangePolicy,
    ClosedDay,
    Partner,
    PartnerMembership,
    Program,
    PublicSectorField,
    SowCatalog,
    SowCatalogItem,
    Workload,
)


class ChangePolicyInline(admin.StackedInline):
    model = ChangePolicy
    can_delete = False
    extra = 1
    max_num = 1


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 1
    verbose_name_plural = "Extra closed days (beyond weekends and public holidays)"


class PublicSectorFieldInline(admin.TabularInline):
    """The extra questions public-sector customers answer on this program's claims."""

    model = PublicSectorField
    extra = 0
    prepopulated_fields = {"key": ["label"]}


@admin.register(Program)
class ProgramAdmin(AuditedAdmin):
    list_display = [
        "name",
        "slug",
        "start_date",
        "end_date",
        "catalog_count",
        "min_seats",
        "claim_limit_per_partner",
    ]
    list_filter = ["start_date"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["workloads"]
    inlines = [ChangePolicyInline, ClosedDayInline, PublicSectorFieldInline]
    actions = ["copy_catalogs_action"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "start_date", "end_date", "logo", "workloads"]}),
        (
            gettext_lazy("Rules (apply to claims created after a change)"),
            {
                "fields": [
                    "min_seats",
                    "claim_limit_per_partner",
                    "public_sector_requires_authorisation",
                ]
            },
        ),
        (
            gettext_lazy("Deadlines in business days (apply to claims created after a change)"),
            {"fields": ["partner_confirm_days", "review_days", "correction_days"]},
        ),
        (
            gettext_lazy("Calendar and reminders (apply to every open claim)"),
            {
                "fields": [
                    ("calendar_country", "calendar_subdivision"),
                    "reminder_days",
                ],
                "description": gettext_lazy(
                    "Deadlines count business days: not weekends, not the public holidays "
                    "of this country or region, not the extra closed days below."
                ),
            },
        ),
        ("Links to prepared claims", {"fields": ["invite_valid_days"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Program]:
        return super().get_queryset(request).annotate(_catalogs=Count("catalogs"))

    @admin.display(description=gettext_lazy("Catalogs"), ordering="_catalogs")
    def catalog_count(self, obj: Program) -> int:
        return obj._catalogs  # type: ignore[attr-defined]

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:program_id>/copy-catalogs/",
                self.admin_site.admin_view(self.copy_catalogs_view),
                name="partners_program_copy_catalogs",
            ),
            *super().get_urls(),
        ]

    @admin.action(description=gettext_lazy("Copy catalogs into a new period"))
    def copy_catalogs_action(
        self, request: HttpRequest, queryset: QuerySet[Program]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request, _("Pick exactly one program to copy from."), messages.WARNING
            )
            return None
        program = queryset.get()
        return redirect("admin:partners_program_copy_catalogs", program.pk)

    def copy_catalogs_view(self, request: HttpRequest, program_id: int) -> HttpResponse:
        source = get_object_or_404(Program, pk=program_id)
        if not (self.has_change_permission(request, source) and _may_edit_catalogs(request)):
            return self._denied(request)
        form = CopyCatalogsForm(request.POST or None, source=source)
        plan = None
        status = 200
        if request.method == "POST":
            if form.is_valid():
                target = form.target_program()
                try:
                    plan = services.plan_catalog_copy(source=source, target=target)
                    if "confirm" in request.POST:
                        return self._copy(request, form, source, target)
                except services.CatalogError as exc:
                    form.add_error(None, str(exc))
                    plan = None
            if not form.is_valid():
                status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Copy the catalogs of %(program)s") % {"program": source.name},
            "source": source,
            "form": form,
            "plan": plan,
        }
        return TemplateResponse(
            request, "admin/partners/program/copy_catalogs.html", context, status=status
        )

    def _copy(
        self, request: HttpRequest, form: CopyCatalogsForm, source: Program, target: Program
    ) -> HttpResponse:
        user = request.user
        if target.pk is None:
            data = form.cleaned_data
            plan = services.copy_into_new_period(
                source=source,
                name=data["new_name"],
                slug=data["new_slug"],
                start_date=data["new_start"],
                end_date=data["new_end"],
                user=user,  # type: ignore[arg-type]
            )
        else:
            plan = services.copy_catalogs(source=source, target=target, user=user)  # type: ignore[arg-type]
        self.message_user(
            request,
            _(
                "%(created)s catalogs with %(items)s items copied into %(program)s, "
                "%(skipped)s already there. Copies need approving before they count."
            )
            % {
                "created": len(plan.to_create),
                "items": plan.item_count,
                "program": plan.target.name,
                "skipped": len(plan.already_there),
            },
            messages.SUCCESS,
        )
        url = reverse("admin:partners_sowcatalog_changelist")
        return HttpResponseRedirect(f"{url}?program__id__exact={plan.target.pk}")

    def _denied(self, request: HttpRequest) -> HttpResponse:
        raise PermissionDenied


def _may_edit_catalogs(request: HttpRequest) -> bool:
    return bool(
        request.user.has_perm("partners.add_sowcatalog")
        and request.user.has_perm("partners.change_sowcatalog")
    )


@admin.register(Workload)
class WorkloadAdmin(AuditedAdmin):
    list_display = ["name", "code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


class PartnerMembershipInline(admin.TabularInline):
    model = PartnerMembership
    extra = 0
    autocomplete_fields = ["user"]


class PartnerAdminForm(forms.ModelForm):
    """A logo uploaded here is checked and re-encoded like one from the partner's profile."""

    class Meta:
        model = Partner
        fields = [
            "name",
            "slug",
            "code",
            "partner_id",
            "logo",
            "contact_email",
            "is_active",
            "public_sector_authorised",
        ]

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if isinstance(logo, UploadedFile):
            return reencode_image(logo, limits=LOGO_LIMITS)
        return logo


@admin.register(Partner)
class PartnerAdmin(AuditedAdmin):
    form = PartnerAdminForm
    list_display = ["name", "code", "partner_id", "is_active", "public_sector_authorised"]
    list_filter = ["is_active", "public_sector_authorised"]
    search_fields = ["name", "code", "partner_id", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PartnerMembershipInline]


class SowCatalogItemInline(admin.TabularInline):
    model = SowCatalogItem
    extra = 1
    autocomplete_fields = ["workload"]


class ApprovalFilter(admin.SimpleListFilter):
    title = gettext_lazy("approval")
    parameter_name = "approval"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("approved", gettext_lazy("Approved")),
            ("awaiting", gettext_lazy("Awaiting approval")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "approved":
            return queryset.filter(approved_at__isnull=False)
        if self.value() == "awaiting":
            return queryset.filter(approved_at__isnull=True)
        return queryset


@admin.register(SowCatalog)
class SowCatalogAdmin(AuditedAdmin):
    list_display = ["partner", "program", "approval", "revision", "item_count", "copied_from"]
    list_filter = [ApprovalFilter, "program"]
    list_select_related = ["partner", "program", "approved_by", "copied_from__program"]
    search_fields = ["partner__name", "partner__partner_id", "program__name"]
    autocomplete_fields = ["partner", "program"]
    inlines = [SowCatalogItemInline]
    actions = ["approve_action", "export_action"]
    readonly_fields = ["approval", "revision", "copied_from"]
    change_form_template = "admin/partners/sowcatalog/change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # A catalog belongs to one partner and program for good; copy it instead.
            fields += ["partner", "program"]
        return fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[SowCatalog]:
        return super().get_queryset(request).annotate(_items=Count("items"))

    @admin.display(description=gettext_lazy("Items"), ordering="_items")
    def item_count(self, obj: SowCatalog) -> int:
        return getattr(obj, "_items", None) or obj.items.count()

    @admin.display(description=gettext_lazy("Approval"), ordering="approved_at")
    def approval(self, obj: SowCatalog) -> str:
        if obj.approved_at is None:
            return _("Awaiting approval")
        return _("Approved by %(who)s on %(when)s") % {
            "who": obj.approved_by.email if obj.approved_by else _("unknown"),
            "when": timezone.localtime(obj.approved_at).strftime("%Y-%m-%d %H:%M"),
        }

    # --- Every edit withdraws the approval ---------------------------------------------

    def audit(self, request: HttpRequest, obj: Any, verb: str, data: dict[str, Any]) -> None:
        if verb == "changed":
            services.catalog_edited(
                obj,
                user=request.user,  # type: ignore[arg-type]
                action=self.audit_action(verb),
                changes=data,
            )
            if obj.is_approved:
                self.message_user(
                    request,
                    _("The catalog changed, so it needs approving again before it counts."),
                    messages.WARNING,
                )
            return
        super().audit(request, obj, verb, data)

    # --- Extra pages -----------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:catalog_id>/approve/",
                view(self.approve_view),
                name="partners_sowcatalog_approve",
            ),
            path(
                "<int:catalog_id>/import/",
                view(self.import_view),
                name="partners_sowcatalog_import",
            ),
            path(
                "<int:catalog_id>/export/",
                view(self.export_view),
                name="partners_sowcatalog_export",
            ),
            *super().get_urls(),
        ]

    def _catalog(self, request: HttpRequest, catalog_id: int) -> SowCatalog:
        catalog = get_object_or_404(
            SowCatalog.objects.select_related("partner", "program"), pk=catalog_id
        )
        if not self.has_change_permission(request, catalog):
            raise PermissionDenied
        return catalog

    def approve_view(self, request: HttpRequest, catalog_id: int) -> HttpResponse:
        catalog = self._catalog(request, catalog_id)
        change_url = reverse("admin:partners_sowcatalog_change", args=[catalog.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        form = ApproveCatalogForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("The approval did not say which revision."), "error")
            return HttpResponseRedirect(change_url)
        try:
            services.approve_catalog(
                catalog,
                user=request.user,  # type: ignore[arg-type]
                revision=form.cleaned_data["revision"],
            )
        except services.CatalogError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request, _("%(catalog)s is approved.") % {"catalog": catalog}, messages.SUCCESS
            )
        return HttpResponseRedirect(change_url)

    @admin.action(description=gettext_lazy("Approve the selected catalogs"))
    def approve_action(
        self, request: HttpRequest, queryset: QuerySet[SowCatalog]
    ) -> HttpResponse | None:
        catalogs = list(queryset.select_related("partner", "program").order_by("partner__name"))
        if "confirm" not in request.POST:
            return TemplateResponse(
                request,
                "admin/partners/sowcatalog/approve_selected.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": _("Approve SOW catalogs"),
                    "catalogs": catalogs,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        revisions = {
            key.removeprefix("revision-"): value
            for key, value in request.POST.items()
            if key.startswith("revision-")
        }
        approved, refused = 0, []
        for catalog in catalogs:
            seen = revisions.get(str(catalog.pk), "")
            try:
                services.approve_catalog(
                    catalog,
                    user=request.user,  # type: ignore[arg-type]
                    revision=int(seen) if seen.isdigit() else -1,
                )
                approved += 1
            except services.CatalogError as exc:
                refused.append(str(exc))
        if approved:
            self.message_user(
                request, _("%(n)s catalogs approved.") % {"n": approved}, messages.SUCCESS
            )
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)
        return None

    @admin.action(description=gettext_lazy("Export the selected catalogs' items as CSV"))
    def export_action(self, request: HttpRequest, queryset: QuerySet[SowCatalog]) -> HttpResponse:
        return _csv_download(
            queryset.select_related("partner").order_by("partner__partner_id"),
            "sow-catalog-items",
        )

    def export_view(self, request: HttpRequest, catalog_id: int) -> HttpResponse:
        catalog = self._catalog(request, catalog_id)
        return _csv_download(
            [catalog], f"sow-catalog-{catalog.partner.slug}-{catalog.program.slug}"
        )

    def import_view(self, request: HttpRequest, catalog_id: int) -> HttpResponse:
        catalog = self._catalog(request, catalog_id)
        upload_form = CatalogImportForm()
        confirm_form = None
        plan = None
        status = 200
        if request.method == "POST" and "confirm" in request.POST:
            confirm_form = CatalogImportConfirmForm(request.POST)
            if confirm_form.is_valid():
                data = confirm_form.cleaned_data
                try:
                    plan = catalog_csv.apply_import(
                        catalog,
                        data["content"],
                        user=request.user,  # type: ignore[arg-type]
                        fingerprint=data["fingerprint"],
                        filename=data["filename"],
                        replace=data["replace"],
                    )
                except services.CatalogError as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                    catalog.refresh_from_db()
                    plan = catalog_csv.plan_import(
                        catalog, data["content"], filename=data["filename"], replace=data["replace"]
                    )
                    confirm_form = _confirm_form(plan, data["content"])
                    status = 409
                else:
                    counts = plan.counts()
                    self.message_user(
                        request,
                        _(
                            "Imported %(file)s: %(create)s added, %(update)s changed, "
                            "%(delete)s removed, %(unchanged)s unchanged."
                        )
                        % {"file": plan.filename or _("the file"), **counts},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:partners_sowcatalog_change", args=[catalog.pk])
                    )
            else:
                status = 400
                self.message_user(
                    request, _("The preview was lost; upload the file again."), messages.ERROR
                )
                confirm_form = None
        elif request.method == "POST":
            upload_form = CatalogImportForm(request.POST, request.FILES)
            if upload_form.is_valid():
                upload = upload_form.cleaned_data["file"]
                content = upload.read()
                plan = catalog_csv.plan_import(
                    catalog,
                    content,
                    filename=upload.name or "",
                    replace=upload_form.cleaned_data["replace"],
                )
                if plan.ok:
                    confirm_form = _confirm_form(plan, content)
                else:
                    status = 400
            else:
                status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": catalog,
            "title": _("Import items into %(catalog)s") % {"catalog": catalog},
            "catalog": catalog,
            "upload_form": upload_form,
            "confirm_form": confirm_form,
            "plan": plan,
            "counts": plan.counts() if plan else None,
            "columns": catalog_csv.COLUMNS,
        }
        return TemplateResponse(
            request, "admin/partners/sowcatalog/import.html", context, status=status
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        context["approve_form"] = (
            ApproveCatalogForm(initial={"revision": obj.revision}) if obj is not None else None
        )
        return super().render_change_form(request, context, add, change, form_url, obj)


def _confirm_form(plan: catalog_csv.ImportPlan, content: bytes) -> CatalogImportConfirmForm:
    return CatalogImportConfirmForm(
        initial={
            "content": CatalogImportConfirmForm.encode(content),
            "filename": plan.filename,
            "replace": plan.replace,
            "fingerprint": plan.fingerprint(),
        }
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_download(catalogs: Any, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in catalog_csv.export_rows(catalogs)),
        content_type="text/csv; charset=utf-8",
    )
    # Slugs only: nothing in the name needs quoting.
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response
