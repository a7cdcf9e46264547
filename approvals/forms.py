from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from approvals.models import RejectionReason
from approvals.services import Verdict

APPROVE, REJECT = "approve", "reject"


def active_reasons() -> QuerySet[RejectionReason]:
    return RejectionReason.objects.filter(is_active=True)


class ReasonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.label)


class ReviewDecisionForm(forms.Form):
    """Per line in review: approve, or reject with a reason and a note; one comment for all."""

    comment = forms.CharField(
        label=_("Comment to the customer and partner"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, lines: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.review_lines = lines
        reasons = active_reasons()
        for line in lines:
            self.fields[f"line_{line.pk}"] = forms.ChoiceField(
                label=str(line.workload),
                choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))],
                widget=forms.RadioSelect,
                error_messages={"required": _("Approve or reject this service.")},
            )
            self.fields[f"reason_{line.pk}"] = ReasonChoiceField(
                label=_("Reason for rejecting"),
                queryset=reasons,
                required=False,
                empty_label=_("Pick a reason…"),
            )
            self.fields[f"note_{line.pk}"] = forms.CharField(
                label=_("Note for the parties"),
                max_length=2000,
                required=False,
                widget=forms.TextInput(),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for line in self.review_lines:
            if data.get(f"line_{line.pk}") == REJECT and not data.get(f"reason_{line.pk}"):
                self.add_error(
                    f"reason_{line.pk}", _("Give the reason for rejecting: pick one from the list.")
                )
        return data

    def verdicts(self) -> dict[int, Verdict]:
        data = self.cleaned_data
        return {
            line.pk: Verdict(
                approved=data[f"line_{line.pk}"] == APPROVE,
                reason=data.get(f"reason_{line.pk}"),
                note=data.get(f"note_{line.pk}", ""),
            )
            for line in self.review_lines
        }

    def line_fields(self) -> list[tuple[Any, Any, Any, Any]]:
        return [
            (line, self[f"line_{line.pk}"], self[f"reason_{line.pk}"], self[f"note_{line.pk}"])
            for line in self.review_lines
        ]


class ReturnToPartnerForm(forms.Form):
    comment = forms.CharField(
        label=_("What the partner needs to do"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AssigneeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.email or obj.get_username())


class AssignForm(forms.Form):
    """A lead gives an item (or several) to someone in the team; empty: unassigned."""

    assignee = AssigneeChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody (unassigned)"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args: Any, members: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[m.pk for m in members]).order_by("email")


class BulkSelectionForm(forms.Form):
    """The claims ticked in the queue (by reference, at most a page's worth and then some)."""

    claims = forms.MultipleChoiceField(
        label=_("Selected claims"),
        error_messages={"required": _("Tick at least one claim in the list.")},
    )

    def __init__(self, *args: Any, references: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["claims"]
        assert isinstance(field, forms.MultipleChoiceField)
        key = self.add_prefix("claims")
        submitted = self.data.getlist(key) if hasattr(self.data, "getlist") else []
        # Any reference may be submitted; the selector decides which exist and are open.
        field.choices = [(ref, ref) for ref in (references or submitted)[:200]]

    def clean_claims(self) -> list[str]:
        refs = self.cleaned_data["claims"]
        if len(refs) > 100:
            raise forms.ValidationError(_("Pick at most 100 claims at a time."))
        return refs


class BulkAssignForm(BulkSelectionForm, AssignForm):
    pass


class BulkRejectForm(BulkSelectionForm):
    reason = ReasonChoiceField(
        label=_("Reason for rejecting"),
        queryset=RejectionReason.objects.none(),
        empty_label=_("Pick a reason…"),
        error_messages={"required": _("Give the reason for rejecting: pick one from the list.")},
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    note = forms.CharField(
        label=_("Note for the parties"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = active_reasons()
