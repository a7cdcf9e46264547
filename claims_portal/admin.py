"""Admin changes recorded in the audit history, and the history itself (read-only).

`AuditedAdmin` writes one `log_action` entry per save (the changed fields with their old and
new values, and what changed in each inline), per deletion, and shows the object's audited
history behind the admin's "History" button instead of Django's unchained LogEntry.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models.fields.files import FieldFile
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from claims_portal.audit import history, log_action
from claims_portal.models import AuditEntry


def _plain(value: Any) -> Any:
    """A value as the history shows it: JSON-safe and readable."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime.date | datetime.datetime | Decimal):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, models.QuerySet | list | tuple | set):
        return sorted(str(_plain(v)) for v in value)
    return str(value)


def _old_value(form: forms.ModelForm, name: str) -> Any:
    value = form.initial.get(name)
    field = form.fields.get(name)
    if isinstance(field, forms.ModelChoiceField) and not isinstance(
        field, forms.ModelMultipleChoiceField
    ):
        return _plain(field.queryset.filter(pk=value).first()) if value is not None else None
    return _plain(value)


def form_changes(form: forms.ModelForm, *, created: bool) -> dict[str, Any]:
    """Changed fields as {name: [old, new]} (or {name: value} for a new object)."""
    names = form.changed_data if not created else list(form.cleaned_data)
    changes: dict[str, Any] = {}
    for name in names:
        if name not in form.cleaned_data:
            continue
        new = _plain(form.cleaned_data[name])
        changes[name] = new if created else [_old_value(form, name), new]
    return changes


def formset_changes(formset: BaseInlineFormSet) -> dict[str, Any]:
    """What saving the inline formset added, changed and deleted (after `save()`)."""
    changes: dict[str, Any] = {}
    if getattr(formset, "new_objects", None):
        changes["added"] = [str(obj) for obj in formset.new_objects]
    if getattr(formset, "changed_objects", None):
        by_object = {}
        for obj, fields in formset.changed_objects:
            inline_form = next(f for f in formset.forms if f.instance.pk == obj.pk)
            by_object[str(obj)] = {
                name: [_old_value(inline_form, name), _plain(inline_form.cleaned_data.get(name))]
                for name in fields
            }
        changes["changed"] = by_object
    if getattr(formset, "deleted_objects", None):
        changes["deleted"] = [str(obj) for obj in formset.deleted_objects]
    return changes


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose every change is in the object's audited history."""

    def audit_action(self, verb: str) -> str:
        opts = self.model._meta
        return f"{opts.app_label}.{opts.model_name}.{verb}"

    def audit(self, request: HttpRequest, obj: Any, verb: str, data: dict[str, Any]) -> None:
        log_action(obj, self.audit_action(verb), user=request.user, data=data)  # type: ignore[arg-type]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Fields are read before the save (initial values), inlines after it (what was saved).
        fields = form_changes(form, created=not change)
        super().save_related(request, form, formsets, change)
        inlines = {}
        for formset in formsets:
            changed = formset_changes(formset)
            if changed:
                inlines[formset.model._meta.model_name] = changed
        data: dict[str, Any] = {}
        if fields:
            data["fields"] = fields
        if inlines:
            data["inlines"] = inlines
        if not change:
            self.audit(request, form.instance, "created", data)
        elif data:
            self.audit(request, form.instance, "changed", data)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.audit(request, obj, "deleted", {"object": str(obj)})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.audit(request, obj, "deleted", {"object": str(obj)})
        super().delete_queryset(request, queryset)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_or_change_permission(request, obj):
            return super().history_view(request, object_id, extra_context)
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.model._meta,
            "entries": list(history(obj).select_related("actor")),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/portal/audit_history.html", context)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The whole audited history, to read and search; nobody edits or deletes it."""

    list_display = ["created_at", "action", "object_repr", "actor_label"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor_label", "action"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
