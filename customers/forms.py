from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import CustomerMembership


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("Colleague's work email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=CustomerMembership.Role.choices,
        initial=CustomerMembership.Role.CONTRIBUTOR,
        help_text=_("Approvers sign claims and manage members; contributors fill claims in."),
    )


class MemberRoleForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("Role"), choices=CustomerMembership.Role.choices)


class MemberForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)


class InvitationForm(forms.Form):
    invitation = forms.IntegerField(widget=forms.HiddenInput)
