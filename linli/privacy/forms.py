from django import forms
from django.utils.translation import gettext_lazy as _

from linli.privacy.services import REASON_MAX_LENGTH


class MoveOutForm(forms.Form):
    moved_out_on = forms.DateField(
        label=_("Moved out on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class AnonymiseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why now"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("E.g. the resident's written request of 10 March, or: moved abroad."),
    )
    confirm = forms.BooleanField(
        label=_("I understand that name, numbers and tags are erased for good."),
    )
