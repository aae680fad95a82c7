"""Liaison invitation links: staff create one on the partner unit's page (shown once, with a
QR code) and revoke it; the person who opens it registers with their phone and becomes the
unit's liaison.

The public page is made like the residents' registration (linli.registration): one column,
big fields, no script, two buttons ("send me a code", "join"). A link that is unknown, used,
revoked or expired answers with one page whatever the reason.
"""

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from linli.accounts.addresses import client_address
from linli.accounts.privacy import mask_phone
from linli.errors import status_for
from linli.forms import form_add_errors
from linli.partners import selectors
from linli.partners.services.liaison_invitations import (
    DAYS_DEFAULT,
    DAYS_MAX,
    DAYS_MIN,
    liaison_invitation_accept,
    liaison_invitation_create,
    liaison_invitation_for_token,
    liaison_invitation_revoke,
)
from linli.signin.selectors import sms_gateway_configured
from linli.signin.services import normalise_phone
from linli.volunteers.services.join import NAME_MAX_LENGTH, join_code_request

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"

# Staff: create and revoke --------------------------------------------------------------------


class InvitationForm(forms.Form):
    days = forms.CharField(label=gettext_lazy("Valid for (days)"), max_length=8, required=False)


def _qr_svg(url: str) -> str:
    # segno writes only rectangles' path data and the title: nothing typed reaches the markup.
    svg = segno.make(url, error="m").svg_inline(
        scale=4, border=2, light="white", title=_("QR code of the invitation link")
    )
    return mark_safe(svg)  # noqa: S308


@never_cache
@login_required
@require_POST
def invitation_create(request, partner_id: int):
    partner = selectors.partner_get(user=request.user, partner_id=partner_id)
    form = InvitationForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            issued = liaison_invitation_create(
                actor=request.user,
                partner=partner,
                days=form.cleaned_data["days"] or DAYS_DEFAULT,
                ip_address=client_address(request),
            )
        except ValidationError as error:
            if status_for(error) == 403:
                raise  # the one 403 page (linli.web.errors)
            form_add_errors(form, error)
            status = status_for(error)
        else:
            # The only time the link is shown: it is stored as a hash.
            return render(
                request,
                "partners/liaison_invitation_created.html",
                {
                    "partner": partner,
                    "invitation": issued.invitation,
                    "url": issued.url,
                    "qr_svg": _qr_svg(issued.url),
                },
            )
    return render(
        request,
        "partners/liaison_invitation_form.html",
        {"partner": partner, "form": form, "days_min": DAYS_MIN, "days_max": DAYS_MAX},
        status=status,
    )


@login_required
@require_POST
def invitation_revoke(request, partner_id: int, invitation_id: int):
    partner = selectors.partner_get(user=request.user, partner_id=partner_id)
    invitation = partner.liaison_invitations.filter(pk=invitation_id).first()
    if invitation is None:
        raise Http404
    # A refusal (not allowed 403, already used 409) is answered by linli.web.errors.
    liaison_invitation_revoke(
        actor=request.user, invitation=invitation, ip_address=client_address(request)
    )
    messages.success(request, _("The invitation link no longer works."))
    return redirect("partners:partner_detail", partner.pk)


# The person who opens the link ----------------------------------------------------------------


class LiaisonJoinForm(forms.Form):
    """What was typed, no more: every check is the service's, shown at its field."""

    phone = forms.CharField(
        label=gettext_lazy("Mobile phone number"), max_length=32, required=False
    )
    code = forms.CharField(label=gettext_lazy("Code from the SMS"), max_length=12, required=False)
    name = forms.CharField(
        label=gettext_lazy("Your name"), max_length=NAME_MAX_LENGTH * 2, required=False
    )


def _invalid(request):
    return render(request, "partners/liaison_invitation_invalid.html", status=404)


@never_cache
@sensitive_post_parameters("code")
def liaison_join(request, token: str):
    invitation = liaison_invitation_for_token(token)
    if invitation is None:
        return _invalid(request)
    form = LiaisonJoinForm(request.POST if request.method == "POST" else None)
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
                    link, user = liaison_invitation_accept(
                        token=token,
                        phone=values["phone"],
                        code=values["code"],
                        name=values["name"],
                        address=address,
                    )
                    login(request, user, backend=LOGIN_BACKEND)
                    messages.success(
                        request,
                        _("You now act for %(partner)s in Linli.") % {"partner": link.partner},
                    )
                    return redirect("partners:partner_detail", link.partner_id)
            except ValidationError as error:
                if "token" in getattr(error, "error_dict", {}):
                    # Used or revoked by someone else meanwhile: the same page as any dead link.
                    return _invalid(request)
                form_add_errors(form, error)
                status = status_for(error)
        else:
            status = 400
    return render(
        request,
        "partners/liaison_join.html",
        {
            "form": form,
            "partner": invitation.partner,
            "code_sent": code_sent,
            "phone_masked": mask_phone(normalise_phone(form.cleaned_data["phone"]))
            if code_sent
            else "",
            "trial": not sms_gateway_configured(),
        },
        status=status,
    )
