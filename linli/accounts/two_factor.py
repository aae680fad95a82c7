"""Two-factor sign-in for staff: a TOTP authenticator app, with single-use recovery codes.

Who must use it: whoever may reveal a full number, export or import the register (street
administrators, secretaries, micro-grid leads; superusers, who may do everything). With
LINLI_STAFF_TWO_FACTOR on (the default whenever debug mode is off) they enter a code after
their password before anything else, on the web (TwoFactorMiddleware) and when an app asks
for an API token (`token_otp_refusal`).

Devices are django-otp's: one TOTPDevice (the authenticator app) and one StaticDevice (the
recovery codes) per person. django-otp throttles wrong codes on each device (1, 2, 4, 8 … s
between attempts) and refuses a TOTP code used once already. Every enrolment, use of a
recovery code, new set of codes and reset is in the audit log.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli import clock
from linli.accounts.addresses import client_address
from linli.accounts.grid_paths import within
from linli.accounts.models import AuditAction, User
from linli.accounts.roles import ROLE_PERMISSIONS, Permission, Role
from linli.accounts.services import audit_record
from linli.redirects import send_to_step

# The permissions that put the whole register within reach: a second factor guards them.
TWO_FACTOR_PERMISSIONS = frozenset(
    {Permission.REVEAL, Permission.EXPORT_REGISTRY, Permission.IMPORT_REGISTRY}
)
# The roles granting any of them (street administrator, secretary, micro-grid lead).
TWO_FACTOR_ROLES = frozenset(
    role for role, permissions in ROLE_PERMISSIONS.items() if permissions & TWO_FACTOR_PERMISSIONS
)
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
STATIC_DEVICE_NAME = "recovery codes"
# Where the codes made by the last enrolment or regeneration wait to be shown (once) and
# downloaded; cleared when the person says they have kept them.
FRESH_CODES_SESSION_KEY = "linli_two_factor_fresh_codes"
# Set once the codes page has shown them: the next visit drops them instead of showing them again.
FRESH_CODES_SHOWN_SESSION_KEY = "linli_two_factor_fresh_codes_shown"


def needs_two_factor(user: User | Any) -> bool:
    """Whether `user` must sign in with a second factor when enforcement is on: they hold a
    role granting reveal, export or import (anywhere), or are a superuser. Cached on the
    user object for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    cached = getattr(user, "_linli_needs_two_factor", None)
    if cached is None:
        cached = (
            user.is_superuser or user.role_assignments.filter(role__in=TWO_FACTOR_ROLES).exists()
        )
        user._linli_needs_two_factor = cached
    return cached


def enforced() -> bool:
    return settings.LINLI_STAFF_TWO_FACTOR


def two_factor_required(user: User | Any) -> bool:
    return enforced() and needs_two_factor(user)


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def recovery_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def is_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def format_recovery_code(code: str) -> str:
    """ "abcd2345" → "abcd-2345": easier to copy from paper."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def normalise_code(code: str) -> str:
    """What a person types: spaces and dashes dropped, letters in lower case."""
    return "".join(code.split()).replace("-", "").lower()


def is_totp_code(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


# Refusals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeRefusal:
    """Why a code was not accepted, in words for the person who typed it."""

    message: str
    locked_until: datetime | None = None


def _throttled(device) -> CodeRefusal | None:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    locked_until = (data or {}).get("locked_until")
    seconds = 1
    if locked_until is not None:
        seconds = max(1, math.ceil((locked_until - clock.now()).total_seconds()))
    return CodeRefusal(
        # django-otp waits 1 s after the first wrong code, then 2, 4, 8 …: say what
        # happened and how long, not "too many" after a single slip.
        ngettext(
            "That code was not accepted. Wait %(seconds)d second before the next try.",
            "That code was not accepted. Wait %(seconds)d seconds before the next try.",
            seconds,
        )
        % {"seconds": seconds},
        locked_until,
    )


def _wrong_code() -> CodeRefusal:
    return CodeRefusal(
        _(
            "That code is not right. Type the 6 digits your authenticator app shows now, "
            "or one of your recovery codes."
        )
    )


def _audit(*, actor: User | None, user: User, reason: str, request: HttpRequest | None):
    audit_record(
        actor=actor,
        action=AuditAction.TWO_FACTOR,
        object_type="user",
        object_id=user.pk,
        object_label=str(user),
        reason=reason,
        grid_path=_home_path(user),
        ip_address=client_address(request),
    )


def _home_path(user: User) -> str:
    """The widest unit on which the person holds a role guarded by two-factor sign-in: the
    audit entry is read there and above (their secretary, their street administrator)."""
    paths = user.role_assignments.filter(role__in=TWO_FACTOR_ROLES).values_list(
        "grid_path", flat=True
    )
    return min(paths, key=len, default="")


# Services ---------------------------------------------------------------------------------


@transaction.atomic
def two_factor_enrolment_start(*, user: User) -> TOTPDevice:
    """The authenticator being set up: a new secret, kept unconfirmed until a code from the
    app proves it was scanned. Opening the page again shows the same secret."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=STATIC_DEVICE_NAME, confirmed=True)
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def two_factor_enrolment_confirm(
    *, user: User, device: TOTPDevice, code: str, request: HttpRequest | None = None
) -> tuple[TOTPDevice, list[str]] | CodeRefusal:
    """Confirm the authenticator with the code it shows: it replaces any earlier one, a new
    set of recovery codes is made (returned, to be shown once) and the enrolment audited.

    A wrong code is returned as a refusal, not raised: the device's failure count (its
    throttle) must be kept, and raising would roll it back."""
    code = normalise_code(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        if device.confirmed:
            return _wrong_code()
        refusal = _throttled(device)
        if refusal is not None:
            return refusal
        if not is_totp_code(code) or not device.verify_token(code):
            if not is_totp_code(code):
                device.throttle_increment()
            return _wrong_code()
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        _audit(
            actor=user,
            user=user,
            reason=_("Set up an authenticator app and %(count)s recovery codes")
            % {"count": RECOVERY_CODE_COUNT},
            request=request,
        )
    return device, codes


def two_factor_verify(
    *, user: User, code: str, request: HttpRequest | None = None
) -> TOTPDevice | StaticDevice | CodeRefusal:
    """Check a code from the authenticator app (6 digits) or a recovery code (used up).

    Returns the device that accepted it, or a refusal; each device throttles its own wrong
    codes, and a TOTP code is accepted once only."""
    code = normalise_code(code)
    model = TOTPDevice if is_totp_code(code) else StaticDevice
    with transaction.atomic():
        device = (
            model.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("-id")
            .first()
        )
        if device is None:
            if model is StaticDevice:
                # No recovery codes left: the authenticator's throttle counts the attempt.
                totp = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)
                totp = totp.order_by("-id").first()
                if totp is not None:
                    refusal = _throttled(totp)
                    if refusal is not None:
                        return refusal
                    totp.throttle_increment()
            return _wrong_code()
        refusal = _throttled(device)
        if refusal is not None:
            return refusal
        if not code or not device.verify_token(code):
            if not code:
                device.throttle_increment()
            return _wrong_code()
        if model is StaticDevice:
            _audit(
                actor=user,
                user=user,
                reason=_("Signed in with a recovery code (%(count)s left)")
                % {"count": device.token_set.count()},
                request=request,
            )
    return device


@transaction.atomic
def two_factor_recovery_codes_regenerate(
    *, user: User, request: HttpRequest | None = None
) -> list[str]:
    """A new set of recovery codes for an enrolled person; the old ones stop working."""
    if not is_enrolled(user):
        raise ValueError("recovery codes need an enrolled authenticator")
    codes = _new_recovery_codes(user)
    _audit(
        actor=user,
        user=user,
        reason=_("Made %(count)s new recovery codes; the old ones no longer work")
        % {"count": RECOVERY_CODE_COUNT},
        request=request,
    )
    return codes


def may_reset_others(*, actor: User) -> bool:
    """Superusers and street administrators reset other people's two-factor sign-in."""
    if not actor.is_authenticated or not actor.is_active:
        return False
    return actor.is_superuser or actor.role_assignments.filter(role=Role.STREET_ADMIN).exists()


def may_reset_for(*, actor: User, user: User) -> bool:
    """A superuser resets anyone's; a street administrator those of people holding a role
    within their street (themselves excepted: they ask another administrator)."""
    if not actor.is_authenticated or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    if actor.pk == user.pk:
        return False
    paths = list(
        actor.role_assignments.filter(role=Role.STREET_ADMIN).values_list("grid_path", flat=True)
    )
    return user.role_assignments.filter(within(paths)).exists()


def staff_for_reset(*, actor: User):
    """People whose two-factor sign-in `actor` may reset and who need it: for a street
    administrator, those holding a guarded role within their street."""
    staff = User.objects.filter(is_active=True)
    if actor.is_superuser:
        guarded = staff.filter(role_assignments__role__in=TWO_FACTOR_ROLES)
        return (guarded | staff.filter(is_superuser=True)).distinct().order_by("username")
    paths = list(
        actor.role_assignments.filter(role=Role.STREET_ADMIN).values_list("grid_path", flat=True)
    )
    if not paths:
        return User.objects.none()
    return (
        staff.filter(
            within(paths, "role_assignments__grid_path"),
            role_assignments__role__in=TWO_FACTOR_ROLES,
        )
        .exclude(pk=actor.pk)
        .distinct()
        .order_by("username")
    )


@transaction.atomic
def two_factor_reset(
    *, user: User, actor: User | None, reason: str = "", request: HttpRequest | None = None
) -> None:
    """Remove the person's authenticator and recovery codes (a lost or new phone): at their
    next page they set up an authenticator again. `actor` None is IT at the command line."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    who = _("by IT at the command line") if actor is None else _("by an administrator")
    text = _("Two-factor sign-in reset %(who)s") % {"who": who}
    if reason:
        text = f"{text}: {reason}"
    _audit(actor=actor, user=user, reason=text, request=request)


# The API token ----------------------------------------------------------------------------


def token_otp_refusal(*, user: User, otp: str) -> CodeRefusal | None:
    """For `POST /api/v1/auth/token`: None when the token may be issued; otherwise why not.
    People who need a second factor name a current code (or a recovery code) as `otp`."""
    if not two_factor_required(user):
        return None
    if not is_enrolled(user):
        return CodeRefusal(
            _(
                "This account needs two-factor sign-in: log in on the website once to set up "
                "an authenticator app, then send its code as otp."
            )
        )
    if not normalise_code(otp or ""):
        return CodeRefusal(_("Send the 6-digit code from your authenticator app as otp."))
    result = two_factor_verify(user=user, code=otp)
    return result if isinstance(result, CodeRefusal) else None


# The web ------------------------------------------------------------------------------------


def _open_prefixes() -> tuple[str, ...]:
    """Paths an unverified person may still open: logging in and out, setting up an
    authenticator and entering a code, the language switch, static files and the operations
    endpoints. (Recovery codes and resets are for verified sessions only.)"""
    return (
        reverse("web:login"),
        reverse("web:logout"),
        reverse("two_factor:enrol"),
        reverse("two_factor:verify"),
        reverse("set_language"),
        reverse("admin:logout"),
        reverse("healthz"),
        reverse("readyz"),
        reverse("metrics"),
        settings.STATIC_URL,
    )


def _open_api_paths() -> frozenset[str]:
    # The API's own door: a token request checks the code itself (token_otp_refusal); the
    # documentation is public.
    return frozenset(
        {
            reverse("api-v1:create_token"),
            reverse("api-v1:openapi-json"),
            reverse("api-v1:openapi-view"),
        }
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(reverse("api-v1:api-root"))


def _needs_verification(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if not two_factor_required(user):
        return False
    return not (hasattr(user, "is_verified") and user.is_verified())


class TwoFactorMiddleware:
    """Stops a person who must use two-factor sign-in, logged in with their password only,
    from reaching anything but the two-factor pages: a page sends them to enter their code
    (or to set up an authenticator first); the API answers 403, naming the code.

    Installed after django-otp's OTPMiddleware, which marks a session verified."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not enforced() or not _needs_verification(request):
            return self.get_response(request)
        path = request.path
        if path in _open_api_paths() or path.startswith(_open_prefixes()):
            return self.get_response(request)
        if _is_api(request):
            if request.headers.get("Authorization"):
                # An app's bearer token (issued with a code) speaks for itself; the
                # unverified session beside it must not.
                request.user = AnonymousUser()
                return self.get_response(request)
            return JsonResponse(
                {
                    "message": _(
                        "Two-factor sign-in needed: enter the code from your authenticator "
                        "app on the website first."
                    ),
                    "field": "otp",
                },
                status=403,
            )
        user = request.user
        return send_to_step(
            request, reverse("two_factor:verify" if is_enrolled(user) else "two_factor:enrol")
        )
