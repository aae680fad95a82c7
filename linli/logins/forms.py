"""The forms of the login pages. They check shapes only; the rules are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.logins import selectors
from linli.logins.posts import GRANTABLE_ROLES, post_choices
from linli.logins.services import DISPLAY_NAME_MAX_LENGTH, REASON_MAX_LENGTH, SignIn
from linli.logins.signin_bridge import phone_sign_in_available


def _unit_label(unit) -> str:
    return f"{unit.get_level_display()} · {unit.name}"


class _PostFields(forms.Form):
    post = forms.ChoiceField(
        label=pgettext_lazy("staff post", "Post"),
        error_messages={"required": _("Choose a post."), "invalid_choice": _("Choose a post.")},
    )
    grid_unit = forms.ModelChoiceField(
        label=pgettext_lazy("staff post", "Where"),
        queryset=None,
        error_messages={
            "required": _("Choose where the post is held."),
            "invalid_choice": _("Choose where the post is held."),
        },
    )

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["post"].choices = [("", "—"), *post_choices()]
        field = self.fields["grid_unit"]
        field.queryset = selectors.post_units(user=actor)
        field.label_from_instance = _unit_label


class LoginCreateForm(_PostFields):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        error_messages={"required": _("Choose a username.")},
    )
    display_name = forms.CharField(
        label=_("Name"),
        max_length=DISPLAY_NAME_MAX_LENGTH,
        error_messages={"required": _("Give the name people know this person by.")},
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        error_messages={"required": _("Enter an 11-digit mainland mobile number.")},
    )
    email = forms.CharField(label=_("E-mail (optional)"), max_length=254, required=False)
    sign_in = forms.ChoiceField(
        label=_("First sign-in"),
        error_messages={
            "required": _("Choose how the person signs in the first time."),
            "invalid_choice": _("Choose how the person signs in the first time."),
        },
    )

    field_order = ("username", "display_name", "phone", "email", "post", "grid_unit", "sign_in")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (
                SignIn.TEMPORARY_PASSWORD,
                _("A temporary password, shown to you once; they replace it at once"),
            )
        ]
        if phone_sign_in_available():
            choices.insert(0, (SignIn.PHONE_CODE, _("A code sent to their phone (no password)")))
        self.fields["sign_in"].choices = choices
        self.fields["sign_in"].initial = choices[0][0]


class PostAddForm(_PostFields):
    pass


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=pgettext_lazy("login action", "Why"), max_length=REASON_MAX_LENGTH, required=False
    )


class RequiredReasonForm(forms.Form):
    reason = forms.CharField(
        label=pgettext_lazy("login action", "Why"),
        max_length=REASON_MAX_LENGTH,
        error_messages={"required": _("Say why, for the audit log.")},
    )


class LoginFilterForm(forms.Form):
    """The list's search and filters; anything unknown is ignored, never an error page."""

    q = forms.CharField(required=False, max_length=50)
    role = forms.ChoiceField(required=False)
    active = forms.ChoiceField(
        required=False,
        choices=[
            ("", _("Active and deactivated")),
            ("yes", pgettext_lazy("login status", "Active")),
            ("no", pgettext_lazy("login status", "Deactivated")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        roles = [*GRANTABLE_ROLES, Role.RESIDENT]
        self.fields["role"].choices = [
            ("", _("Any post")),
            *((role, Role(role).label) for role in roles),
        ]

    def filters(self) -> dict:
        if not self.is_valid():
            return {"query": "", "role": "", "active": None}
        active = {"yes": True, "no": False}.get(self.cleaned_data["active"])
        return {
            "query": self.cleaned_data["q"],
            "role": self.cleaned_data["role"],
            "active": active,
        }
