"""The form that makes a batch: which households, how long the codes work, letter or SMS."""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.invitations.models import (
    DAYS_DEFAULT,
    DAYS_MAX,
    DAYS_MIN,
    InvitationChannel,
    InvitationSelection,
)

DAYS_MESSAGE = _("Give a number of days from 1 to 90.")


class BatchForm(forms.Form):
    selection = forms.ChoiceField(
        label=_("Households"),
        choices=InvitationSelection.choices,
        initial=InvitationSelection.BUILDING,
        widget=forms.RadioSelect,
    )
    building = forms.IntegerField(label=_("Building"), required=False, min_value=1)
    grid_unit = forms.IntegerField(label=_("Grid unit"), required=False, min_value=1)
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=DAYS_MIN,
        max_value=DAYS_MAX,
        initial=DAYS_DEFAULT,
        error_messages={
            "required": DAYS_MESSAGE,
            "invalid": DAYS_MESSAGE,
            "min_value": DAYS_MESSAGE,
            "max_value": DAYS_MESSAGE,
        },
    )
    channel = forms.ChoiceField(
        label=_("Send by"),
        choices=InvitationChannel.choices,
        initial=InvitationChannel.LETTER,
        widget=forms.RadioSelect,
    )
    print_names = forms.BooleanField(label=_("Print the resident's name"), required=False)
    skip_registered = forms.BooleanField(
        label=_("Skip households where someone already has a login"),
        required=False,
        initial=True,
    )

    def clean(self):
        cleaned = super().clean()
        selection = cleaned.get("selection")
        # A value that is there but wrong already has its own message.
        if selection == InvitationSelection.BUILDING and "building" not in self.errors:
            if not cleaned.get("building"):
                self.add_error("building", _("Choose a building."))
        if selection == InvitationSelection.GRID_UNIT and "grid_unit" not in self.errors:
            if not cleaned.get("grid_unit"):
                self.add_error("grid_unit", _("Choose a building group or micro-grid."))
        return cleaned
