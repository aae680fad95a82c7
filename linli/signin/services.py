"""Getting in without a password: one-time codes by SMS, and password reset.

A code is 6 digits for one number and one purpose (PhoneCodePurpose), stored as a keyed hash,
good for LINLI_PHONE_CODE_TTL_SECONDS and dead after LINLI_PHONE_CODE_MAX_TRIES wrong tries.
Asking for codes is limited per number and purpose (one every
LINLI_PHONE_CODE_RESEND_SECONDS), per number (LINLI_PHONE_CODES_PER_NUMBER_HOUR an hour) and
per client address (LINLI_PHONE_CODES_PER_ADDRESS_HOUR an hour, reset e-mails included).
Every limit counts rows of the last hour: it runs out by itself, so nobody can lock a
resident out for longer than that.

No oracle: for a login or reset code the answer is the same whether or not an account has
the number. The account is looked up and a code made, hashed and recorded either way (so the
limits count alike); only the SMS is left out for a number without an account. Delivery
happens after the commit, outside the request, so the two answers also take the same time
but for the outbox's two rows. Reset e-mails follow the same rule.
"""

import math
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli import clock
from linli.accounts.models import ApiToken, AuditAction, TokenRevocation, User
from linli.accounts.services import audit_record, tokens_revoke_for_user, user_home_path
from linli.accounts.two_factor import CodeRefusal, token_otp_refusal
from linli.errors import Invalid, RateLimited
from linli.notify.models import Channel
from linli.notify.services import message_send_to_address
from linli.signin.models import EmailResetRequest, PhoneCode, PhoneCodePurpose

CODE_DIGITS = 6
HOUR = timedelta(hours=1)
# Rows older than this are deleted (signin.purge_expired): the limits look back an hour.
KEEP_FOR = timedelta(days=1)
# Codes sent only to a number that has an account; the others (register, bind) go to any.
ACCOUNT_PURPOSES = frozenset({PhoneCodePurpose.LOGIN, PhoneCodePurpose.RESET})
SMS_KIND = "phone_code"
RESET_EMAIL_KIND = "password_reset"

_MOBILE = re.compile(r"1[3-9][0-9]{9}")


# Numbers, addresses and digests -------------------------------------------------------------


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits: full-width digits read as digits, spaces and
    dashes dropped, a +86 or 86 in front taken off."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = re.sub(r"[\s\-‐‑–—()]", "", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    if not _MOBILE.fullmatch(text):
        raise Invalid(
            _("Enter an 11-digit mainland mobile number, such as 13812345678."), field="phone"
        )
    return text


def normalise_code(raw: str) -> str:
    """What a person types as a code: full-width digits read as digits, spaces dropped."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw or ""))


def _digest(kind: str, value: str) -> str:
    # Keyed with the site's secret: the table alone does not tell which number or code it is.
    return salted_hmac(f"linli.signin.{kind}", value, algorithm="sha256").hexdigest()


def phone_digest(phone: str) -> str:
    return _digest("phone", phone)


def _code_digest(digest: str, purpose: str, code: str) -> str:
    return _digest("code", f"{digest}|{purpose}|{code}")


def _check_purpose(purpose: str) -> None:
    if purpose not in PhoneCodePurpose.values:
        raise Invalid(_("Unknown purpose for a code."), field="purpose")


def active_accounts_with_phone(phone: str):
    """The active logins whose phone is `phone` (normalised)."""
    return User.objects.filter(phone=phone, is_active=True).order_by("pk")


def _username_for(phone: str) -> str:
    """A new login's name: the phone number, or the number and a count when taken."""
    username, count = phone, 1
    while User.objects.filter(username=username).exists():
        count += 1
        username = f"{phone}-{count}"
    return username


def account_create_for_phone(*, phone: str, name: str) -> User:
    """A login for someone who proved `phone` (normalised) with a code and has none: named
    after the number, no usable password (they sign in with a phone code), the phone set
    for messages, `name` shown. Raises IntegrityError when the same name was taken at the
    same instant twice in a row; the caller decides what a race means for it."""
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=_username_for(phone), password=None, phone=phone, display_name=name
            )
    except IntegrityError:  # the name taken at the same instant: one more try
        return User.objects.create_user(
            username=_username_for(phone), password=None, phone=phone, display_name=name
        )


# Limits --------------------------------------------------------------------------------------


def wait_text(seconds: int) -> str:
    """ "42 seconds" or "7 minutes", in words, for a message saying when to try again."""
    if seconds < 120:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = -(-seconds // 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _hour_limit_wait(times: list[datetime], limit: int, now: datetime) -> int | None:
    """None while fewer than `limit` of `times` (all within the last hour) are counted; else
    the seconds until enough of them leave the hour."""
    if len(times) < limit:
        return None
    times = sorted(times)
    return _seconds_until(times[len(times) - limit] + HOUR, now)


def _address_times(address: str | None, since: datetime) -> list[datetime]:
    if not address:
        return []
    codes = PhoneCode.objects.filter(address=address, created_at__gt=since)
    mails = EmailResetRequest.objects.filter(address=address, created_at__gt=since)
    return [
        *codes.values_list("created_at", flat=True),
        *mails.values_list("created_at", flat=True),
    ]


def _check_address(address: str | None, now: datetime, field: str) -> None:
    wait = _hour_limit_wait(
        _address_times(address, now - HOUR), settings.LINLI_PHONE_CODES_PER_ADDRESS_HOUR, now
    )
    if wait is not None:
        raise RateLimited(
            _("Too many codes were asked for from this network. Try again in %(wait)s.")
            % {"wait": wait_text(wait)},
            field=field,
        )


def _check_phone_limits(digest: str, purpose: str, address: str | None, now: datetime) -> None:
    recent = list(
        PhoneCode.objects.filter(phone_digest=digest, created_at__gt=now - HOUR).values_list(
            "created_at", "purpose"
        )
    )
    same_purpose = [created for created, kind in recent if kind == purpose]
    if same_purpose:
        next_allowed = max(same_purpose) + timedelta(
            seconds=settings.LINLI_PHONE_CODE_RESEND_SECONDS
        )
        if next_allowed > now:
            raise RateLimited(
                _("A code was just sent. Wait %(wait)s before asking for another.")
                % {"wait": wait_text(_seconds_until(next_allowed, now))},
                field="phone",
            )
    wait = _hour_limit_wait(
        [created for created, _kind in recent], settings.LINLI_PHONE_CODES_PER_NUMBER_HOUR, now
    )
    if wait is not None:
        raise RateLimited(
            _("This number has been sent enough codes for now. Try again in %(wait)s.")
            % {"wait": wait_text(wait)},
            field="phone",
        )
    _check_address(address, now, "phone")


# Codes ---------------------------------------------------------------------------------------


def _code_minutes() -> int:
    return max(1, -(-settings.LINLI_PHONE_CODE_TTL_SECONDS // 60))


def sms_text(*, purpose: str, code: str) -> str:
    """The SMS: the code, what it is for, how long it lasts, and never to pass it on."""
    minutes = _code_minutes()
    params = {"code": code, "minutes": minutes}
    if purpose == PhoneCodePurpose.LOGIN:
        return (
            ngettext(
                "Linli: your login code is %(code)s, valid for %(minutes)d minute. Never tell it "
                "to anyone, staff included.",
                "Linli: your login code is %(code)s, valid for %(minutes)d minutes. Never tell it "
                "to anyone, staff included.",
                minutes,
            )
            % params
        )
    if purpose == PhoneCodePurpose.RESET:
        return (
            ngettext(
                "Linli: your code to reset your password is %(code)s, valid for %(minutes)d "
                "minute. If you did not ask for it, ignore this message.",
                "Linli: your code to reset your password is %(code)s, valid for %(minutes)d "
                "minutes. If you did not ask for it, ignore this message.",
                minutes,
            )
            % params
        )
    if purpose == PhoneCodePurpose.BIND:
        return (
            ngettext(
                "Linli: your code to confirm this phone is %(code)s, valid for %(minutes)d "
                "minute. Never tell it to anyone.",
                "Linli: your code to confirm this phone is %(code)s, valid for %(minutes)d "
                "minutes. Never tell it to anyone.",
                minutes,
            )
            % params
        )
    return (
        ngettext(
            "Linli: your registration code is %(code)s, valid for %(minutes)d minute. Never "
            "tell it to anyone.",
            "Linli: your registration code is %(code)s, valid for %(minutes)d minutes. Never "
            "tell it to anyone.",
            minutes,
        )
        % params
    )


@transaction.atomic
def phone_code_request(*, phone: str, purpose: str, address: str | None) -> None:
    """Make a code for `phone` and `purpose` and send it by SMS (through the outbox).

    Refuses a malformed number (Invalid, field "phone") and a request over a limit
    (RateLimited, field "phone", saying when to try again). For a login or reset code the
    answer is the same whether or not an account has the number: the code is made and
    recorded either way, and sent only to a number that has one."""
    phone = normalise_phone(phone)
    _check_purpose(purpose)
    now = clock.now()
    digest = phone_digest(phone)
    _check_phone_limits(digest, purpose, address, now)
    # Looked up whatever the purpose: the path is the same for every number.
    has_account = active_accounts_with_phone(phone).exists()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    PhoneCode.objects.create(
        phone_digest=digest,
        purpose=purpose,
        code_digest=_code_digest(digest, purpose, code),
        address=address or None,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.LINLI_PHONE_CODE_TTL_SECONDS),
    )
    if has_account or purpose not in ACCOUNT_PURPOSES:
        message_send_to_address(
            channel=Channel.SMS,
            address=phone,
            kind=SMS_KIND,
            title=sms_text(purpose=purpose, code=code),
        )


def _wrong_code() -> Invalid:
    # One message for wrong, expired, used, replaced and never sent: nothing for a guesser.
    return Invalid(
        _("That code is wrong or no longer valid. Check it, or ask for a new one."), field="code"
    )


def _too_many_tries() -> RateLimited:
    return RateLimited(
        _("That code was typed wrongly too many times. Ask for a new one."), field="code"
    )


def _failures_key(row: PhoneCode) -> str:
    return f"linli:signin:code-failures:{row.pk}"


@transaction.atomic
def _phone_code_check(*, phone: str, purpose: str, code: str) -> ValidationError | None:
    digest = phone_digest(phone)
    now = clock.now()
    row = (
        PhoneCode.objects.select_for_update()
        .filter(phone_digest=digest, purpose=purpose)
        .order_by("-created_at", "-id")
        .first()
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return _wrong_code()
    # Also counted in the cache: a caller that verifies inside its own transaction and rolls
    # it back on the refusal rolls back the row's count too, never the cache's.
    failures = max(row.failed_attempts, cache.get(_failures_key(row), 0))
    if failures >= settings.LINLI_PHONE_CODE_MAX_TRIES:
        return _too_many_tries()
    if not constant_time_compare(row.code_digest, _code_digest(digest, purpose, code)):
        failures += 1
        PhoneCode.objects.filter(pk=row.pk).update(failed_attempts=failures)
        cache.set(_failures_key(row), failures, settings.LINLI_PHONE_CODE_TTL_SECONDS + 60)
        if failures >= settings.LINLI_PHONE_CODE_MAX_TRIES:
            return _too_many_tries()
        return _wrong_code()
    PhoneCode.objects.filter(pk=row.pk).update(used_at=now)
    return None


def phone_code_verify(*, phone: str, purpose: str, code: str) -> None:
    """Use up the code sent to `phone` for `purpose`. Refuses with Invalid (field "code")
    a code that is wrong, expired, used or replaced by a newer one, all in the same words,
    and with RateLimited (field "code") once the code had too many wrong tries.

    The wrong try is counted in its own transaction before the refusal is raised; call it
    outside a transaction that would roll that back, or rely on the cache's count."""
    phone = normalise_phone(phone)
    _check_purpose(purpose)
    code = normalise_code(code)
    if not (len(code) == CODE_DIGITS and code.isascii() and code.isdigit()):
        # Not a try: a code of another shape can never be right, so nothing is counted.
        raise Invalid(
            _("Type the %(digits)d digits of the code.") % {"digits": CODE_DIGITS}, field="code"
        )
    refusal = _phone_code_check(phone=phone, purpose=purpose, code=code)
    if refusal is not None:
        raise refusal


def phone_code_account(*, phone: str, purpose: str, code: str) -> User:
    """Use up a login or reset code and return the one active account with that number.

    A number without an account never got a code, so it is refused like a wrong code; a
    number that two accounts share is refused (field "phone") only after the right code,
    so only the phone's holder learns it."""
    phone = normalise_phone(phone)
    phone_code_verify(phone=phone, purpose=purpose, code=code)
    accounts = list(active_accounts_with_phone(phone)[:2])
    if not accounts:
        raise _wrong_code()
    if len(accounts) > 1:
        raise Invalid(
            _(
                "More than one account uses this number. Log in with your username and "
                "password, or ask your community office."
            ),
            field="phone",
        )
    return accounts[0]


def phone_session_create(
    *, phone: str, code: str, otp: str = "", name: str = ""
) -> tuple[ApiToken, str] | CodeRefusal:
    """An API token for the account of `phone`, in exchange for its login code: the app's
    sign-in (POST /api/v1/signin/phone-sessions). Staff who must use two-factor sign-in also
    name a current code of their authenticator as `otp`; without it the refusal is returned
    (the phone code is used up all the same).

    Not one transaction: a wrong phone code's count and the authenticator's throttle must
    outlive the refusal."""
    user = phone_code_account(phone=phone, purpose=PhoneCodePurpose.LOGIN, code=code)
    refusal = token_otp_refusal(user=user, otp=otp)
    if refusal is not None:
        return refusal
    # As linli.accounts.services.token_create issues one after a password.
    key = ApiToken.new_key()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            key_hash=ApiToken.hash_key(key),
            key_prefix=key[:8],
            name=name,
            expires_at=clock.now() + timedelta(days=settings.LINLI_API_TOKEN_DAYS),
        )
    return token, key


# Password reset ------------------------------------------------------------------------------


class ResetMethod:
    PHONE = "phone"
    EMAIL = "email"


@transaction.atomic
def password_reset_set(
    *, user: User, password: str, method: str, ip_address: str | None = None
) -> None:
    """Give `user` a new password after a reset by phone code or e-mail link: checked by
    AUTH_PASSWORD_VALIDATORS (Invalid, field "new_password1"), every API token revoked, and
    the reset audited."""
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise Invalid(error.messages, field="new_password1") from None
    tokens_revoke_for_user(
        user=user, reason=TokenRevocation.PASSWORD_CHANGED, actor=user, ip_address=ip_address
    )
    user.set_password(password)
    user.save(update_fields=["password"])
    reason = (
        _("Password reset with a code sent by SMS")
        if method == ResetMethod.PHONE
        else _("Password reset with a link sent by e-mail")
    )
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=user.pk,
        object_label=str(user),
        field="password",
        reason=reason,
        reason_code=f"password_reset_{method}",
        grid_path=user_home_path(user),
        ip_address=ip_address,
    )


def normalise_email(raw: str) -> str:
    email = (raw or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise Invalid(_("Enter a valid e-mail address."), field="email") from None
    return email


def reset_link(user: User) -> str:
    """The absolute address of the reset page for `user`, from LINLI_SITE_URL."""
    path = reverse(
        "signin:reset_email_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.LINLI_SITE_URL}{path}"


def _check_email_limits(digest: str, address: str | None, now: datetime) -> None:
    recent = list(
        EmailResetRequest.objects.filter(
            email_digest=digest, created_at__gt=now - HOUR
        ).values_list("created_at", flat=True)
    )
    if recent:
        next_allowed = max(recent) + timedelta(seconds=settings.LINLI_PHONE_CODE_RESEND_SECONDS)
        if next_allowed > now:
            raise RateLimited(
                _("An e-mail was just sent. Wait %(wait)s before asking for another.")
                % {"wait": wait_text(_seconds_until(next_allowed, now))},
                field="email",
            )
    wait = _hour_limit_wait(recent, settings.LINLI_PHONE_CODES_PER_NUMBER_HOUR, now)
    if wait is not None:
        raise RateLimited(
            _("This address has been sent enough e-mails for now. Try again in %(wait)s.")
            % {"wait": wait_text(wait)},
            field="email",
        )
    _check_address(address, now, "email")


@transaction.atomic
def password_reset_email_request(*, email: str, address: str | None) -> None:
    """Send a reset link to every active account with this e-mail address (through the
    outbox). The same answer whether or not one has it; the limits count either way."""
    email = normalise_email(email)
    now = clock.now()
    digest = _digest("email", email.lower())
    _check_email_limits(digest, address, now)
    EmailResetRequest.objects.create(email_digest=digest, address=address or None, created_at=now)
    hours = max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)
    for user in User.objects.filter(email__iexact=email, is_active=True).order_by("pk"):
        body = ngettext(
            "Someone asked to reset the password of the Linli account %(username)s. To choose "
            "a new password, open this link within %(hours)d hour:",
            "Someone asked to reset the password of the Linli account %(username)s. To choose "
            "a new password, open this link within %(hours)d hours:",
            hours,
        ) % {"username": user.get_username(), "hours": hours}
        ignore = _("If it was not you, ignore this e-mail: your password stays as it is.")
        message_send_to_address(
            channel=Channel.EMAIL,
            address=user.email,
            kind=RESET_EMAIL_KIND,
            title=_("Linli: reset your password"),
            body=f"{body}\n{reset_link(user)}\n\n{ignore}",
        )


# Housekeeping --------------------------------------------------------------------------------


@transaction.atomic
def signin_records_purge() -> int:
    """Delete codes and reset requests older than a day (the limits look back an hour)."""
    before = clock.now() - KEEP_FOR
    codes, _rows = PhoneCode.objects.filter(created_at__lt=before).delete()
    mails, _rows = EmailResetRequest.objects.filter(created_at__lt=before).delete()
    return codes + mails
