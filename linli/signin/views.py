"""The sign-in pages: log in with a phone code, reset a password by phone code or e-mail link,
and the street administrator's trial page of SMS messages that could not leave the machine.

Thin: every rule and write is in linli.signin.services. Between the steps of a flow the
session keeps the number typed (normalised) and where to go afterwards; after a reset code
is accepted, the account whose password may be set, for RESET_WINDOW.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from linli import clock
from linli.accounts.addresses import client_address
from linli.accounts.models import User
from linli.accounts.privacy import mask_phone
from linli.errors import status_for
from linli.forms import form_add_errors
from linli.signin.forms import CodeForm, EmailForm, PhoneForm
from linli.signin.models import PhoneCodePurpose
from linli.signin.selectors import (
    sms_gateway_configured,
    trial_page_visible,
    trial_sms_messages,
)
from linli.signin.services import (
    ResetMethod,
    normalise_phone,
    password_reset_email_request,
    password_reset_set,
    phone_code_account,
    phone_code_request,
)

SESSION_KEY = "linli_signin"
# How long after a reset code was accepted the new password may be set.
RESET_WINDOW = timedelta(minutes=10)
# The sessions's authentication backend after a phone login (a code replaces the password).
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _state(request: HttpRequest) -> dict:
    return dict(request.session.get(SESSION_KEY, {}))


def _save_state(request: HttpRequest, **values) -> None:
    state = _state(request)
    state.update(values)
    request.session[SESSION_KEY] = {key: value for key, value in state.items() if value}


def _next_url(request: HttpRequest, target: str | None) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _trial_context(request: HttpRequest) -> dict:
    """What the code pages say when codes cannot leave the machine (no SMS gateway)."""
    trial = not sms_gateway_configured()
    return {
        "trial": trial,
        "trial_link": trial and trial_page_visible(request.user),
    }


def _request_code(request: HttpRequest, form, purpose: str) -> tuple[str | None, int]:
    """Ask for a code for the number on `form`; the normalised number, or None and the
    status of the refusal shown on the form."""
    try:
        phone = normalise_phone(form.cleaned_data["phone"])
        phone_code_request(phone=phone, purpose=purpose, address=client_address(request))
    except ValidationError as error:
        form_add_errors(form, error)
        return None, status_for(error)
    return phone, 200


def _resend(request: HttpRequest, phone: str, purpose: str) -> tuple[str, int]:
    """Ask again for the number of this flow: an error message and status, or "" and 200."""
    try:
        phone_code_request(phone=phone, purpose=purpose, address=client_address(request))
    except ValidationError as error:
        return error.messages[0], status_for(error)
    messages.success(request, _("A new code is on its way."))
    return "", 200


def _code_data(request: HttpRequest):
    """The code form's data: none on a GET or a resend (nothing to check yet)."""
    if request.method != "POST" or "resend" in request.POST:
        return None
    return request.POST


# Log in with a phone code ----------------------------------------------------------------------


@never_cache
def phone_login(request: HttpRequest) -> HttpResponse:
    """Step 1: the number. The answer is the same whether or not an account has it."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if request.user.is_authenticated:
        return redirect(_next_url(request, target))
    form = PhoneForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        phone, status = _request_code(request, form, PhoneCodePurpose.LOGIN)
        if phone is not None:
            _save_state(request, login_phone=phone, next=target)
            return redirect("signin:phone_code")
    elif request.method == "POST":
        status = 400
    return render(request, "signin/phone_login.html", {"form": form, "next": target}, status=status)


@never_cache
@sensitive_post_parameters("code")
def phone_login_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code; then logged in. Staff who must use two-factor sign-in are taken to
    their second factor next by TwoFactorMiddleware, as after a password."""
    state = _state(request)
    phone = state.get("login_phone")
    if not phone:
        return redirect("signin:phone")
    form = CodeForm(_code_data(request))
    status, resend_error = 200, ""
    if request.method == "POST" and "resend" in request.POST:
        resend_error, status = _resend(request, phone, PhoneCodePurpose.LOGIN)
    elif request.method == "POST" and form.is_valid():
        try:
            user = phone_code_account(
                phone=phone, purpose=PhoneCodePurpose.LOGIN, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form_add_errors(form, error)
            status = status_for(error)
        else:
            request.session.pop(SESSION_KEY, None)
            login(request, user, backend=BACKEND)
            return redirect(_next_url(request, state.get("next")))
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "phone": mask_phone(phone),
        "resend_error": resend_error,
        "resend_seconds": settings.LINLI_PHONE_CODE_RESEND_SECONDS,
        **_trial_context(request),
    }
    return render(request, "signin/phone_code.html", context, status=status)


# Reset the password by phone code --------------------------------------------------------------


@never_cache
def reset_phone(request: HttpRequest) -> HttpResponse:
    """Step 1 of a reset by phone: the number (or a link to the e-mail way)."""
    form = PhoneForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        phone, status = _request_code(request, form, PhoneCodePurpose.RESET)
        if phone is not None:
            _save_state(request, reset_phone=phone, reset_user=None, reset_until=None)
            return redirect("signin:reset_code")
    elif request.method == "POST":
        status = 400
    return render(request, "signin/reset_phone.html", {"form": form}, status=status)


@never_cache
@sensitive_post_parameters("code")
def reset_phone_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code. Accepted, the account's password may be set for RESET_WINDOW."""
    phone = _state(request).get("reset_phone")
    if not phone:
        return redirect("signin:reset")
    form = CodeForm(_code_data(request))
    status, resend_error = 200, ""
    if request.method == "POST" and "resend" in request.POST:
        resend_error, status = _resend(request, phone, PhoneCodePurpose.RESET)
    elif request.method == "POST" and form.is_valid():
        try:
            user = phone_code_account(
                phone=phone, purpose=PhoneCodePurpose.RESET, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form_add_errors(form, error)
            status = status_for(error)
        else:
            # A new session key: whoever saw the old one cannot set the password.
            request.session.cycle_key()
            _save_state(
                request,
                reset_phone=None,
                reset_user=user.pk,
                reset_until=(clock.now() + RESET_WINDOW).isoformat(),
            )
            return redirect("signin:reset_password")
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "phone": mask_phone(phone),
        "resend_error": resend_error,
        "resend_seconds": settings.LINLI_PHONE_CODE_RESEND_SECONDS,
        **_trial_context(request),
    }
    return render(request, "signin/reset_code.html", context, status=status)


def _reset_user(request: HttpRequest) -> User | None:
    state = _state(request)
    until = parse_datetime(state.get("reset_until") or "")
    if not state.get("reset_user") or until is None or until <= clock.now():
        return None
    return User.objects.filter(pk=state["reset_user"], is_active=True).first()


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
def reset_phone_password(request: HttpRequest) -> HttpResponse:
    """Step 3: the new password, checked by AUTH_PASSWORD_VALIDATORS."""
    user = _reset_user(request)
    if user is None:
        request.session.pop(SESSION_KEY, None)
        messages.error(request, _("That took too long. Ask for a new code."))
        return redirect("signin:reset")
    form = SetPasswordForm(user, request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                password_reset_set(
                    user=user,
                    password=form.cleaned_data["new_password1"],
                    method=ResetMethod.PHONE,
                    ip_address=client_address(request),
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                request.session.pop(SESSION_KEY, None)
                return redirect("signin:reset_done")
    return render(
        request, "signin/reset_password.html", {"form": form, "validlink": True}, status=status
    )


# Reset the password by e-mail --------------------------------------------------------------------


@never_cache
def reset_email(request: HttpRequest) -> HttpResponse:
    """The e-mail way: the same answer whether or not an account has the address."""
    form = EmailForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_email_request(
                email=form.cleaned_data["email"], address=client_address(request)
            )
        except ValidationError as error:
            form_add_errors(form, error)
            status = status_for(error)
        else:
            return redirect("signin:reset_email_sent")
    elif request.method == "POST":
        status = 400
    return render(request, "signin/reset_email.html", {"form": form}, status=status)


def reset_email_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "signin/reset_email_sent.html")


class EmailResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link in the e-mail (Django's token): moves the token into the session, then asks
    for the new password, which linli.signin.services sets (tokens revoked, audited)."""

    template_name = "signin/reset_password.html"
    success_url = reverse_lazy("signin:reset_done")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form):
        try:
            password_reset_set(
                user=self.user,
                password=form.cleaned_data["new_password1"],
                method=ResetMethod.EMAIL,
                ip_address=client_address(self.request),
            )
        except ValidationError as error:
            form_add_errors(form, error)
            return self.form_invalid(form)
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        return HttpResponseRedirect(self.get_success_url())


def reset_done(request: HttpRequest) -> HttpResponse:
    return render(request, "signin/reset_done.html")


# The trial page ------------------------------------------------------------------------------------


@login_required
def trial_messages(request: HttpRequest) -> HttpResponse:
    """SMS messages waiting in the outbox while no gateway is configured: street
    administrators only (404 for everyone else)."""
    waiting = trial_sms_messages(user=request.user)
    return render(
        request,
        "signin/trial_messages.html",
        {"configured": sms_gateway_configured(), "waiting": waiting},
    )
