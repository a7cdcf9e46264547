from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

APPROVE, REJECT = "approve", "reject"


class ReviewDecisionForm(forms.Form):
    """One approve/reject choice per line in review, and a comment for the parties."""

    comment = forms.CharField(
        label=_("Comment to the customer and partner"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.review_lines = lines
        for line in lines:
            self.fields[f"line_{line.pk}"] = forms.ChoiceField(
                label=str(line.workload),
                choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))],
                widget=forms.RadioSelect,
                error_messages={"required": _("Approve or reject this service.")},
            )

    def line_approvals(self) -> dict[int, bool]:
        return {
            line.pk: self.cleaned_data[f"line_{line.pk}"] == APPROVE for line in self.review_lines
        }

    def line_fields(self):
        return [(line, self[f"line_{line.pk}"]) for line in self.review_lines]
