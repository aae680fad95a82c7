"""Login with WeChat (the Official Account's web authorisation, OAuth 2.0), binding a WeChat
to a login after a phone code, and a person's own WeChat page. Every page answers 404 while
WeChat is off (LINLI_WECHAT_APP_ID unset).

The flow: /wechat/login/ sends the person to WeChat with a `state` kept in their session;
WeChat sends them back to /wechat/callback/ with a code and that state (checked, once);
the code gives their openid. A bound openid logs its login in (staff who must use two-factor
sign-in then enter their code, as after a password); an unbound one waits in the session
while /wechat/bind/ checks a code sent to the person's phone. A signed-in person binds from
/wechat/account/ (the same round trip, with snsapi_userinfo for the nickname).

Thin: the rules and every write are in linli.wechat.services.
"""

import secrets
from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli import clock
from linli.accounts import two_factor
from linli.accounts.addresses import client_address
from linli.accounts.models import User
from linli.accounts.privacy import mask_phone
from linli.errors import status_for
from linli.forms import form_add_errors
from linli.signin.services import normalise_phone, phone_code_request
from linli.wechat import client, selectors, services
from linli.wechat.client import WeChatIdentity

# The round trip to WeChat under way: {"state", "purpose", "next"}.
OAUTH_SESSION_KEY = "linli_wechat_oauth"
# An unbound WeChat waiting for its phone check: {"openid", "unionid", "nickname", "at",
# "next", "phone"}.
PENDING_SESSION_KEY = "linli_wechat_pending"
# How long an unbound WeChat waits for its phone check.
PENDING_MINUTES = 15
LOGIN, BIND = "login", "bind"
# Logins go through the model backend (the axes backend only guards passwords).
BACKEND = "django.contrib.auth.backends.ModelBackend"


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone number"),
        max_length=20,
        error_messages={"required": gettext_lazy("Type your mobile phone number.")},
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from the SMS"),
        max_length=10,
        error_messages={"required": gettext_lazy("Type the code from the SMS.")},
    )


def wechat_on(view):
    """404 while WeChat is off, before anything else (a login redirect included)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not client.enabled():
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _problem(
    request: HttpRequest, message: str, *, status: int, again: str = "wechat:login"
) -> HttpResponse:
    """A refusal in words, with the way to start again (WeChat login, or the account page
    for someone binding while signed in)."""
    return render(
        request,
        "wechat/problem.html",
        {"message": message, "again": reverse(again), "binding": again == "wechat:account"},
        status=status,
    )


def _to_wechat(request: HttpRequest, *, purpose: str, scope: str, next_url: str) -> HttpResponse:
    state = secrets.token_urlsafe(16)
    request.session[OAUTH_SESSION_KEY] = {"state": state, "purpose": purpose, "next": next_url}
    redirect_uri = f"{settings.LINLI_SITE_URL}{reverse('wechat:callback')}"
    return redirect(client.authorize_url(redirect_uri=redirect_uri, scope=scope, state=state))


def _log_in(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """Sign the person in; staff who must use two-factor sign-in are sent to enter their
    code (or set up an authenticator) first, as after a password — the middleware would
    stop them at the next page anyway."""
    login(request, user, backend=BACKEND)
    if two_factor.two_factor_required(user):
        step = "two_factor:verify" if two_factor.is_enrolled(user) else "two_factor:enrol"
        return redirect(f"{reverse(step)}?{urlencode({'next': next_url})}")
    return redirect(next_url)


@wechat_on
@never_cache
@require_GET
def login_start(request: HttpRequest) -> HttpResponse:
    """Log in with WeChat: off to WeChat (snsapi_base: no consent page, the openid only)."""
    next_url = _safe_next(request, request.GET.get("next", ""))
    if request.user.is_authenticated:
        return redirect(next_url)
    return _to_wechat(request, purpose=LOGIN, scope=client.SCOPE_BASE, next_url=next_url)


@wechat_on
@never_cache
@require_POST
@login_required
def bind_start(request: HttpRequest) -> HttpResponse:
    """A signed-in person binds the WeChat they are using (snsapi_userinfo: WeChat asks them,
    and the nickname lets them tell which WeChat is bound)."""
    return _to_wechat(
        request,
        purpose=BIND,
        scope=client.SCOPE_USERINFO,
        next_url=reverse("wechat:account"),
    )


@wechat_on
@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    started = request.session.pop(OAUTH_SESSION_KEY, None)
    state = request.GET.get("state", "")
    if (
        not isinstance(started, dict)
        or not state
        or not secrets.compare_digest(str(started.get("state", "")), state)
    ):
        # Not begun in this browser (an old or forwarded link, or someone else's code).
        return _problem(
            request,
            _("This WeChat sign-in was not started here or has expired. Start again."),
            status=400,
        )
    code = request.GET.get("code", "")
    if not code:
        return _problem(request, _("WeChat sign-in was cancelled. Start again."), status=400)
    try:
        identity = client.identity_for_code(code)
    except client.WeChatError:
        return _problem(
            request,
            _("WeChat did not confirm this sign-in (its code was used or expired). Start again."),
            status=400,
        )
    except client.WeChatUnreachable:
        return _problem(
            request, _("WeChat did not answer. Wait a moment and start again."), status=502
        )
    next_url = _safe_next(request, str(started.get("next", "")))
    if started.get("purpose") == BIND:
        return _bind_signed_in(request, identity)
    user = selectors.user_for_openid(identity.openid)
    if user is not None:
        if not user.is_active:
            return _problem(
                request,
                _("The account bound to this WeChat is not in use. Ask your community office."),
                status=403,
            )
        return _log_in(request, user, next_url)
    request.session[PENDING_SESSION_KEY] = {
        "openid": identity.openid,
        "unionid": identity.unionid,
        "nickname": identity.nickname,
        "at": clock.now().isoformat(),
        "next": next_url,
        "phone": "",
    }
    return redirect("wechat:bind")


def _bind_signed_in(request: HttpRequest, identity: WeChatIdentity) -> HttpResponse:
    if not request.user.is_authenticated:
        # Signed out during the round trip: start over.
        return _problem(request, _("You are no longer logged in. Log in again."), status=400)
    try:
        services.wechat_bind(
            user=request.user,
            identity=identity,
            actor=request.user,
            ip_address=client_address(request),
        )
    except ValidationError as error:
        return _problem(
            request, " ".join(error.messages), status=status_for(error), again="wechat:account"
        )
    messages.success(request, _("WeChat is bound: you can log in with it and get messages."))
    return redirect("wechat:account")


def _pending(request: HttpRequest) -> dict | None:
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or not pending.get("openid"):
        return None
    try:
        at = datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if clock.now() - at > timedelta(minutes=PENDING_MINUTES):
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    return pending


@wechat_on
@never_cache
@require_http_methods(["GET", "POST"])
def bind(request: HttpRequest) -> HttpResponse:
    """An unbound WeChat: the person names their phone, gets a code, types it; the login
    with that phone gets the WeChat and is signed in."""
    pending = _pending(request)
    if pending is None:
        return _problem(
            request,
            _("This WeChat sign-in has expired. Log in with WeChat again."),
            status=400,
        )
    phone_form = PhoneForm(initial={"phone": pending.get("phone", "")})
    code_form = CodeForm()
    status = 200
    action = request.POST.get("action")
    if request.method == "POST" and action == "send":
        phone_form = PhoneForm(request.POST)
        if phone_form.is_valid():
            try:
                phone = normalise_phone(phone_form.cleaned_data["phone"])
                phone_code_request(
                    phone=phone,
                    purpose=services.PHONE_CODE_PURPOSE,
                    address=client_address(request),
                )
            except ValidationError as error:
                form_add_errors(phone_form, error)
                status = status_for(error)
            else:
                pending["phone"] = phone
                request.session[PENDING_SESSION_KEY] = pending
                messages.info(
                    request,
                    _("A code is on its way by SMS to %(phone)s.") % {"phone": mask_phone(phone)},
                )
                return redirect("wechat:bind")
        else:
            status = 400
    elif request.method == "POST" and action == "verify" and pending.get("phone"):
        code_form = CodeForm(request.POST)
        if code_form.is_valid():
            identity = WeChatIdentity(
                openid=pending["openid"],
                unionid=pending.get("unionid", ""),
                nickname=pending.get("nickname", ""),
            )
            try:
                result = services.wechat_bind_by_phone(
                    phone=pending["phone"],
                    code=code_form.cleaned_data["code"],
                    identity=identity,
                    ip_address=client_address(request),
                )
            except ValidationError as error:
                form_add_errors(code_form, error)
                status = status_for(error)
            else:
                request.session.pop(PENDING_SESSION_KEY, None)
                if result.user is not None:
                    messages.success(request, _("WeChat is bound to your account."))
                    next_url = _safe_next(request, pending.get("next", ""))
                    return _log_in(request, result.user, next_url)
                return render(
                    request,
                    "wechat/no_account.html",
                    {"several": result.several, "phone": mask_phone(pending["phone"])},
                )
        else:
            status = 400
    elif request.method == "POST":
        return _problem(request, _("Start with your phone number."), status=400)
    return render(
        request,
        "wechat/bind.html",
        {
            "phone_form": phone_form,
            "code_form": code_form,
            "phone": mask_phone(pending.get("phone", "")),
            "nickname": pending.get("nickname", ""),
        },
        status=status,
    )


@wechat_on
@never_cache
@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "wechat/account.html",
        {"binding": selectors.wechat_account_of(request.user)},
    )


@wechat_on
@never_cache
@require_POST
@login_required
def unbind(request: HttpRequest) -> HttpResponse:
    if services.wechat_unbind(
        user=request.user, actor=request.user, ip_address=client_address(request)
    ):
        messages.success(
            request, _("WeChat is unbound: it no longer logs you in or gets messages.")
        )
    return redirect("wechat:account")
