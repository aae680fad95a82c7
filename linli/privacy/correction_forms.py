"""Forms of the correction pages: a resident's request, staff's decision."""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.grids.models import PartyMembership, ResidencyType
from linli.privacy.models import (
    CORRECTION_NOTE_MAX_LENGTH,
    CORRECTION_VALUE_MAX_LENGTH,
    DECISION_NOTE_MAX_LENGTH,
    CorrectionField,
)


class CorrectionRequestForm(forms.Form):
    resident = forms.TypedChoiceField(label=_("Who"), coerce=int)
    field = forms.ChoiceField(label=_("What is wrong"), choices=CorrectionField.choices)
    requested_value = forms.CharField(
        label=_("The correct value"),
        max_length=CORRECTION_VALUE_MAX_LENGTH,
        required=False,
        help_text=_("E.g. the right spelling of the name, or the new mobile number."),
    )
    note = forms.CharField(
        label=_("Anything else the committee should know"),
        max_length=CORRECTION_NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, residents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resident"].choices = [(resident.pk, resident.name) for resident in residents]


def value_choices(field: str) -> list[tuple[str, str]] | None:
    """The values a coded field takes (for the staff's select), None for free text."""
    if field == CorrectionField.RESIDENCY_TYPE:
        return list(ResidencyType.choices)
    if field == CorrectionField.PARTY_MEMBERSHIP:
        return [("", "—"), *PartyMembership.choices]
    return None


class ApplyForm(forms.Form):
    value = forms.CharField(
        label=_("Value to record"), max_length=CORRECTION_VALUE_MAX_LENGTH, required=False
    )
    decision_note = forms.CharField(
        label=_("Note to the resident"), max_length=DECISION_NOTE_MAX_LENGTH, required=False
    )

    def __init__(self, *args, field: str, **kwargs):
        super().__init__(*args, **kwargs)
        choices = value_choices(field)
        if choices is not None:
            self.fields["value"] = forms.ChoiceField(
                label=self.fields["value"].label, choices=choices, required=False
            )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why not"),
        max_length=DECISION_NOTE_MAX_LENGTH,
        help_text=_("The resident reads this."),
    )
