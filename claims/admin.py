from __future__ import annotations

from django.contrib import admin

from claims.models import Claim, ClaimLine, Comment, Event, Notification


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ClaimLineInline(ReadOnlyInline):
    model = ClaimLine
    fields = ["workload", "target_start", "target_end", "seats", "survey_contact_email", "status"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = Event
    fields = ["seq", "created_at", "action", "actor_label", "from_status", "to_status", "comment"]
    readonly_fields = fields
    ordering = ["seq"]


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    """Claims change only through the life cycle, so the admin shows them read-only."""

    list_display = ["reference", "customer", "partner", "program", "status", "created_at"]
    list_filter = ["status", "program"]
    search_fields = ["reference", "customer__name", "partner__name"]
    list_select_related = ["customer", "partner", "program"]
    inlines = [ClaimLineInline, EventInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = [
        "claim",
        "seq",
        "action",
        "actor_label",
        "from_status",
        "to_status",
        "created_at",
    ]
    list_filter = ["action"]
    search_fields = ["claim__reference", "actor_label"]
    list_select_related = ["claim"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["claim", "author", "internal", "created_at"]
    raw_id_fields = ["claim", "author"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "user", "created_at", "emailed_at", "attempts"]
    list_filter = ["emailed_at"]
    raw_id_fields = ["user", "claim", "event"]
