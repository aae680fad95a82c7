"""The registration form and the leader's decision forms. They only carry what was typed:
every check is the service's (linli.registration.services), shown at its field."""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.registration.models import NAME_MAX_LENGTH, REASON_MAX_LENGTH, ROOM_MAX_LENGTH


class JoinForm(forms.Form):
    phone = forms.CharField(label=_("Mobile phone number"), max_length=32, required=False)
    code = forms.CharField(label=_("Code from the SMS"), max_length=12, required=False)
    name = forms.CharField(label=_("Your name"), max_length=NAME_MAX_LENGTH * 2, required=False)
    room = forms.CharField(label=_("Room"), max_length=ROOM_MAX_LENGTH * 2, required=False)
    id_last4 = forms.CharField(
        label=_("Last four characters of your ID number"), max_length=8, required=False
    )


class ApproveForm(forms.Form):
    resident = forms.IntegerField(min_value=1, max_value=2_147_483_647)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason, sent to the person by SMS"),
        max_length=REASON_MAX_LENGTH * 2,
        required=False,
    )
