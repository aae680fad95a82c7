"""Staff's one-step forms for a message sent in."""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.cases.models import CaseCategory
from linli.emergency.models import HelpKind, Urgency
from linli.grids.models import Building


class CaseFromMessageForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=CaseCategory.objects.none(),
    )
    building = forms.ModelChoiceField(label=_("Building"), queryset=Building.objects.none())
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, max_length=2000)

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["category"].queryset = CaseCategory.objects.filter(
            parent__isnull=False, is_active=True
        ).order_by("sort_order", "code")


class HelpFromMessageForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of help"), choices=HelpKind.choices)
    urgency = forms.TypedChoiceField(label=_("Urgency"), choices=Urgency.choices, coerce=int)
    description = forms.CharField(label=_("What is needed"), widget=forms.Textarea, max_length=1000)


class DismissForm(forms.Form):
    reason = forms.CharField(label=_("Why dismissed"), max_length=300)
