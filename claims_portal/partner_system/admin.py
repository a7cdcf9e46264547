"""Sync runs, their files, rejected rows, conflicts and exports: to read in admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims_portal.partner_system.models import (
    DecisionExport,
    SyncConflict,
    SyncFile,
    SyncRejection,
    SyncRun,
)
from claims_portal.partner_system.tasks import sync_partner_system

REJECTIONS_SHOWN = 100


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by sync runs only; administrators read."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SyncFileInline(admin.TabularInline):
    model = SyncFile
    extra = 0
    can_delete = False
    fields = [
        "kind",
        "name",
        "status",
        "rows_read",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
        "conflicts",
        "error",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "started_at",
        "status",
        "trigger",
        "dry_run",
        "files_imported",
        "files_rejected",
        "rows_read",
        "rows_created",
        "rows_updated",
        "rows_rejected",
        "conflicts",
        "decisions_exported",
    ]
    list_display_links = ["pk", "started_at"]
    list_filter = ["status", "trigger", "dry_run"]
    date_hierarchy = "started_at"
    inlines = [SyncFileInline]
    change_form_template = "admin/partner_system/syncrun/change_form.html"
    change_list_template = "admin/partner_system/syncrun/change_list.html"
    fieldsets = [
        (None, {"fields": ["status", "trigger", "adapter", "dry_run", "since", "error"]}),
        (
            gettext_lazy("When"),
            {"fields": ["started_at", "heartbeat_at", "finished_at"]},
        ),
        (gettext_lazy("Counts"), {"fields": list(SyncRun.COUNTERS)}),
    ]

    def get_urls(self) -> list[Any]:
        return [
            path(
                "sync-now/",
                self.admin_site.admin_view(self.sync_now_view),
                name="partner_system_syncrun_sync_now",
            ),
            *super().get_urls(),
        ]

    def sync_now_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:partner_system_syncrun_changelist"))
        if not request.user.has_perm("partner_system.add_syncrun"):
            raise PermissionDenied
        sync_partner_system.delay(SyncRun.Trigger.ADMIN)
        self.message_user(
            request,
            _("A sync was started; it shows here when it has run (or was skipped)."),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:partner_system_syncrun_changelist"))

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context["rejections"] = list(
                SyncRejection.objects.filter(run=obj)
                .select_related("file")
                .order_by("file_id", "row_number")[:REJECTIONS_SHOWN]
            )
            context["rejections_url"] = (
                reverse("admin:partner_system_syncrejection_changelist")
                + f"?run__id__exact={obj.pk}"
            )
            context["conflicts_url"] = reverse("sync_conflicts") + f"?run={obj.pk}&state="
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(SyncRejection)
class SyncRejectionAdmin(ReadOnlyAdmin):
    list_display = ["run", "file", "row_number", "reason", "raw"]
    list_filter = ["file__kind"]
    search_fields = ["reason", "raw"]
    list_select_related = ["run", "file"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncRejection]:
        return super().get_queryset(request).order_by("-run_id", "file_id", "row_number")


@admin.register(SyncConflict)
class SyncConflictAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "customer",
        "workload",
        "portal_partner",
        "imported_partner",
        "kind",
        "state",
        "times_seen",
    ]
    list_filter = ["state", "kind"]
    search_fields = ["customer__name", "customer__tenant_id"]
    list_select_related = ["customer", "workload", "portal_partner", "imported_partner"]


@admin.register(DecisionExport)
class DecisionExportAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "run", "created_at", "delivered_at", "line_count", "location"]
    list_filter = ["delivered_at"]
