"""The public page where a volunteer registers without an operator: the mobile number, the
code sent to it and a name; then the person is signed in and lands on the volunteer sign-up
form (volunteers:signup), whose application the secretary reviews.

Made for a phone in an older hand, like the residents' registration (linli.registration):
big fields, one column, no script, two buttons ("send me a code", "continue"). Whether the
number already had a login or one was made now, the person reads the same words.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from linli.accounts.addresses import client_address
from linli.accounts.privacy import mask_phone
from linli.errors import status_for
from linli.forms import form_add_errors
from linli.signin.selectors import sms_gateway_configured
from linli.signin.services import normalise_phone
from linli.volunteers.services.join import NAME_MAX_LENGTH, join_code_request, volunteer_join

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


class JoinForm(forms.Form):
    """What was typed, no more: every check is the service's, shown at its field."""

    phone = forms.CharField(
        label=gettext_lazy("Mobile phone number"), max_length=32, required=False
    )
    code = forms.CharField(label=gettext_lazy("Code from the SMS"), max_length=12, required=False)
    name = forms.CharField(
        label=gettext_lazy("Your name"), max_length=NAME_MAX_LENGTH * 2, required=False
    )


def welcome(request, user) -> None:
    """Sign the person in, with the same words whether the login is old or new."""
    login(request, user, backend=LOGIN_BACKEND)
    messages.success(request, _("You are signed in. Now tell us how you would like to help."))


@never_cache
@sensitive_post_parameters("code")
def join(request):
    if request.user.is_authenticated:
        return redirect("volunteers:signup")
    form = JoinForm(request.POST if request.method == "POST" else None)
    status, code_sent = 200, False
    if request.method == "POST":
        if form.is_valid():
            values = form.cleaned_data
            address = client_address(request)
            try:
                if request.POST.get("action") == "code":
                    join_code_request(phone=values["phone"], address=address)
                    code_sent = True
                else:
                    user, _created = volunteer_join(
                        phone=values["phone"],
                        code=values["code"],
                        name=values["name"],
                        address=address,
                    )
                    welcome(request, user)
                    return redirect("volunteers:signup")
            except ValidationError as error:
                form_add_errors(form, error)
                status = status_for(error)
        else:
            status = 400
    return render(
        request,
        "volunteers/join.html",
        {
            "form": form,
            "code_sent": code_sent,
            "phone_masked": mask_phone(normalise_phone(form.cleaned_data["phone"]))
            if code_sent
            else "",
            # No SMS gateway (the embedded default): the codes wait on the trial page.
            "trial": not sms_gateway_configured(),
        },
        status=status,
    )
