from django import forms
from django.utils.translation import gettext_lazy as _


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=32,
        error_messages={"required": _("Enter your mobile phone number.")},
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        error_messages={"required": _("Type the code from the SMS.")},
    )


class EmailForm(forms.Form):
    email = forms.CharField(
        label=_("E-mail address"),
        max_length=254,
        error_messages={"required": _("Enter the e-mail address of your account.")},
    )
