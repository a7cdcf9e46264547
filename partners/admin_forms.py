"""Forms of the admin tools for programs and SOW catalogs (copy, import, approve)."""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partners.catalog_csv import MAX_BYTES
from partners.models import Program


class CopyCatalogsForm(forms.Form):
    """Where to copy a program's catalogs: an existing program, or a new period's one."""

    target = forms.ModelChoiceField(
        label=_("Into the program"),
        queryset=Program.objects.none(),
        required=False,
        help_text=_("Pick an existing program, or describe a new one below."),
    )
    new_name = forms.CharField(label=_("New program: name"), max_length=120, required=False)
    new_slug = forms.SlugField(label=_("New program: slug"), max_length=60, required=False)
    new_start = forms.DateField(label=_("New program: start date"), required=False)
    new_end = forms.DateField(label=_("New program: end date"), required=False)

    def __init__(self, *args: Any, source: Program, **kwargs: Any) -> None:
        self.source = source
        length = source.end_date - source.start_date
        start = source.end_date + datetime.timedelta(days=1)
        kwargs.setdefault(
            "initial",
            {"new_start": start, "new_end": start + length, "new_name": "", "new_slug": ""},
        )
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = Program.objects.exclude(pk=source.pk).order_by(  # type: ignore[attr-defined]
            "-start_date", "name"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        new = [data.get(name) for name in ("new_name", "new_slug", "new_start", "new_end")]
        if data.get("target") and any(new[:2]):
            raise forms.ValidationError(
                _("Pick an existing program or describe a new one, not both.")
            )
        if not data.get("target"):
            if not all(new):
                raise forms.ValidationError(
                    _("Pick a program, or give the new program a name, slug, start and end date.")
                )
            if Program.objects.filter(slug=data["new_slug"]).exists():
                self.add_error(
                    "new_slug",
                    _("A program with this slug exists; pick it as the program to copy into."),
                )
            if data["new_end"] < data["new_start"]:
                self.add_error("new_end", _("A program cannot end before it starts."))
        return data

    def target_program(self) -> Program:
        """The target (unsaved when it is a new period's program, for the preview)."""
        data = self.cleaned_data
        if data.get("target"):
            return data["target"]
        return Program(
            name=data["new_name"],
            slug=data["new_slug"],
            start_date=data["new_start"],
            end_date=data["new_end"],
        )


class CatalogImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Columns: partner_id, workload, max_seats, valid_from, valid_until."),
    )
    replace = forms.BooleanField(
        label=_("Remove the catalog's items the file does not list"), required=False
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(kb)s KB.") % {"kb": MAX_BYTES // 1024}
            )
        return upload


class CatalogImportConfirmForm(forms.Form):
    """The previewed file, sent back to be applied exactly as it was shown."""

    content = forms.CharField(widget=forms.HiddenInput)
    filename = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)
    replace = forms.BooleanField(widget=forms.HiddenInput, required=False)
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_content(self) -> bytes:
        try:
            content = base64.b64decode(self.cleaned_data["content"], validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(_("The previewed file did not come back intact.")) from None
        if len(content) > MAX_BYTES:
            raise forms.ValidationError(_("The file is too large."))
        return content

    @staticmethod
    def encode(content: bytes) -> str:
        return base64.b64encode(content).decode()


class ApproveCatalogForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
