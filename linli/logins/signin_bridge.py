"""What this app uses of phone-code sign-in (linli.signin): the number's normal form and
the reset code a secretary sends. A peer app, imported directly."""

from django.core.exceptions import ValidationError

from linli.signin import services as signin


def normalise_phone(value: str) -> str:
    """The 11-digit mainland mobile number in `value` ("+86 138-1234-5678" → "13812345678"),
    or "" when it holds none: sign-in's own rule, so that a number saved here is the one a
    code is later asked for."""
    try:
        return signin.normalise_phone(value)
    except ValidationError:
        return ""


def phone_sign_in_available() -> bool:
    """Whether a person can sign in with a code sent to their phone (/signin/phone/): always,
    since linli.signin is part of Linli (without an SMS gateway the codes wait on the street
    administrator's trial page)."""
    return True


def reset_code_send(*, phone: str, address: str | None) -> None:
    """Send a password reset code to `phone`; refusals (too many codes) are raised as they
    come."""
    signin.phone_code_request(phone=phone, purpose="reset", address=address)
