"""The two-factor pages: set up an authenticator, enter a code, recovery codes, and the
street administrator's list of staff whose sign-in they may reset.

Thin: the rules and every write are in linli.accounts.two_factor."""

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts import two_factor
from linli.accounts.models import User
from linli.accounts.two_factor import CodeRefusal


class CodeForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("two-factor", "Code"),
        max_length=20,
        error_messages={"required": gettext_lazy("Type the code.")},
    )


class ResetForm(forms.Form):
    reason = forms.CharField(
        label=pgettext_lazy("two-factor reset", "Why"),
        max_length=200,
        error_messages={"required": gettext_lazy("Say why, for the audit log.")},
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("web:home")


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _session_verified(request: HttpRequest) -> bool:
    """Whether this session has shown a second factor (or needs none)."""
    user = request.user
    return user.is_verified() or not two_factor.two_factor_required(user)


def _mark_verified(request: HttpRequest, device) -> None:
    # A new session key for the stronger session, as at login.
    request.session.cycle_key()
    otp_login(request, device)


def _keep_fresh_codes(request: HttpRequest, codes: list[str]) -> None:
    """Codes just made wait in the session until the codes page has shown them once."""
    request.session[two_factor.FRESH_CODES_SESSION_KEY] = codes
    request.session.pop(two_factor.FRESH_CODES_SHOWN_SESSION_KEY, None)


def _forget_fresh_codes(request: HttpRequest) -> None:
    request.session.pop(two_factor.FRESH_CODES_SESSION_KEY, None)
    request.session.pop(two_factor.FRESH_CODES_SHOWN_SESSION_KEY, None)


def _qr_svg(url: str) -> str:
    # segno writes only rectangles' path data: nothing from the request reaches the markup.
    svg = segno.make(url, error="m").svg_inline(
        scale=5, border=2, light="white", title=_("QR code for your authenticator app")
    )
    return mark_safe(svg)  # noqa: S308


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
def status(request: HttpRequest) -> HttpResponse:
    user = request.user
    totp = two_factor.confirmed_totp(user)
    return render(
        request,
        "accounts/two_factor_status.html",
        {
            "device": totp,
            "required": two_factor.needs_two_factor(user),
            "enforced": two_factor.enforced(),
            "codes_left": two_factor.recovery_codes_left(user) if totp else 0,
            "verified": _session_verified(request),
            "may_reset_others": two_factor.may_reset_others(actor=user),
        },
    )


@never_cache
@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if two_factor.is_enrolled(user) and not _session_verified(request):
        # Replacing an authenticator takes the current one (or a recovery code) first.
        return redirect(_with_next("two_factor:verify", reverse("two_factor:enrol")))
    device = two_factor.two_factor_enrolment_start(user=user)
    form = CodeForm(request.POST or None)
    refusal: CodeRefusal | None = None
    if request.method == "POST" and form.is_valid():
        result = two_factor.two_factor_enrolment_confirm(
            user=user, device=device, code=form.cleaned_data["code"], request=request
        )
        if isinstance(result, CodeRefusal):
            refusal = result
        else:
            confirmed, codes = result
            _mark_verified(request, confirmed)
            _keep_fresh_codes(request, codes)
            return redirect(_with_next("two_factor:recovery_codes", _next_url(request)))
    return render(
        request,
        "accounts/two_factor_enrol.html",
        {
            "form": form,
            "refusal": refusal,
            "qr_svg": _qr_svg(device.config_url),
            "secret": _grouped(b32encode(device.bin_key).decode()),
            "replacing": two_factor.is_enrolled(user),
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=400 if refusal else 200,
    )


@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not two_factor.is_enrolled(user):
        return redirect(_with_next("two_factor:enrol", _next_url(request)))
    form = CodeForm(request.POST or None)
    refusal: CodeRefusal | None = None
    if request.method == "POST" and form.is_valid():
        result = two_factor.two_factor_verify(
            user=user, code=form.cleaned_data["code"], request=request
        )
        if isinstance(result, CodeRefusal):
            refusal = result
        else:
            _mark_verified(request, result)
            if isinstance(result, StaticDevice):
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code; %(count)s are left. If your "
                        "phone is lost, make new codes and ask your street administrator to "
                        "reset your authenticator."
                    )
                    % {"count": left},
                )
            return redirect(_next_url(request))
    return render(
        request,
        "accounts/two_factor_verify.html",
        {
            "form": form,
            "refusal": refusal,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=400 if refusal else 200,
    )


@never_cache
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """GET: the codes just made, on the first visit only (the page says they are shown only
    now; a second visit, a reload included, drops them); else how many are left. POST: make
    new ones."""
    user = request.user
    if request.method == "POST":
        if not two_factor.is_enrolled(user) or not _session_verified(request):
            raise Http404
        codes = two_factor.two_factor_recovery_codes_regenerate(user=user, request=request)
        _keep_fresh_codes(request, codes)
        return redirect("two_factor:recovery_codes")
    fresh = request.session.get(two_factor.FRESH_CODES_SESSION_KEY) or []
    already_shown = bool(fresh) and bool(
        request.session.get(two_factor.FRESH_CODES_SHOWN_SESSION_KEY)
    )
    if already_shown:
        _forget_fresh_codes(request)
        fresh = []
    elif fresh:
        request.session[two_factor.FRESH_CODES_SHOWN_SESSION_KEY] = True
    return render(
        request,
        "accounts/two_factor_recovery_codes.html",
        {
            "codes": [two_factor.format_recovery_code(code) for code in fresh],
            "codes_left": two_factor.recovery_codes_left(user),
            "enrolled": two_factor.is_enrolled(user),
            "already_shown": already_shown,
            "next": request.GET.get("next", ""),
        },
    )


@never_cache
@login_required
def recovery_codes_download(request: HttpRequest) -> HttpResponse:
    fresh = request.session.get(two_factor.FRESH_CODES_SESSION_KEY) or []
    if not fresh:
        raise Http404
    lines = [
        _("Linli recovery codes for %(username)s") % {"username": request.user.get_username()},
        _("Each code works once, when your authenticator app is not at hand."),
        "",
        *(two_factor.format_recovery_code(code) for code in fresh),
        "",
    ]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="linli-recovery-codes.txt"'
    return response


@require_POST
@login_required
def recovery_codes_done(request: HttpRequest) -> HttpResponse:
    """The person has kept the codes: they are not shown again."""
    _forget_fresh_codes(request)
    return redirect(_next_url(request))


@never_cache
@login_required
def staff(request: HttpRequest) -> HttpResponse:
    """For a street administrator (or superuser): who in their street needs two-factor
    sign-in, who has set it up, and a reset for a lost phone."""
    actor = request.user
    if not two_factor.may_reset_others(actor=actor) or not _session_verified(request):
        raise Http404
    people = list(two_factor.staff_for_reset(actor=actor))
    enrolled = set(
        TOTPDevice.objects.filter(user__in=people, confirmed=True).values_list("user_id", flat=True)
    )
    rows = [{"person": person, "enrolled": person.pk in enrolled} for person in people]
    return render(request, "accounts/two_factor_staff.html", {"rows": rows, "form": ResetForm()})


@require_POST
@login_required
def staff_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id)
    if not _session_verified(request) or not two_factor.may_reset_for(
        actor=request.user, user=person
    ):
        raise Http404
    form = ResetForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reason"][0])
        return redirect("two_factor:staff")
    two_factor.two_factor_reset(
        user=person, actor=request.user, reason=form.cleaned_data["reason"], request=request
    )
    messages.success(
        request,
        _(
            "Two-factor sign-in of %(person)s is reset: at their next page they set up an "
            "authenticator app again."
        )
        % {"person": person},
    )
    return redirect("two_factor:staff")
