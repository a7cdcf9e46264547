from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ResolveConflictForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the record"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
