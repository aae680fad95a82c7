"""The person's notification settings, as a form (the page and staff acting for a resident)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.notify.models import NotificationPreference


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = [
            "sms",
            "email",
            "wechat",
            "sms_phone",
            "quiet_from",
            "quiet_until",
            "daily_digest",
        ]
        widgets = {
            "quiet_from": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_until": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "sms_phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        }
        help_texts = {
            "sms_phone": _("Leave empty to use the phone of your login or volunteer profile."),
            "quiet_from": _(
                "Nothing but emergencies by SMS, e-mail or WeChat in these hours; "
                "the inbox always has everything."
            ),
            "daily_digest": _("One message a day at 19:00 instead of one per event."),
        }

    def clean_sms_phone(self) -> str:
        phone = "".join(self.cleaned_data["sms_phone"].split()).replace("-", "")
        if phone.startswith("+86"):
            phone = phone[3:]
        if phone and not (len(phone) == 11 and phone.isdigit() and phone[0] == "1"):
            raise forms.ValidationError(_("Give an 11-digit mobile number."))
        return phone

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("quiet_from") is None) != (cleaned.get("quiet_until") is None):
            self.add_error("quiet_until", _("Give both ends of the quiet hours, or neither."))
        return cleaned

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
