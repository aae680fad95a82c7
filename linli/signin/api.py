"""Sign-in for apps: ask for a code by SMS, then exchange it for an API token.

Both answer without authentication (an app has no token yet) and say the same whether or
not an account has the number; the limits of linli.signin.services apply (429, naming the
field). A staff member who must use two-factor sign-in also sends `otp`, as with a password.
"""

from typing import Literal

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from linli.accounts.addresses import client_address
from linli.accounts.api import TokenOut
from linli.accounts.two_factor import CodeRefusal
from linli.api_shared import ErrorOut
from linli.signin.models import PhoneCodePurpose
from linli.signin.services import phone_code_request, phone_session_create

router = Router(tags=["signin"])


class PhoneCodeIn(Schema):
    # A mainland mobile number; spaces, dashes and +86 are allowed.
    phone: str = Field(..., max_length=32)
    purpose: Literal[*PhoneCodePurpose.values] = PhoneCodePurpose.LOGIN.value  # type: ignore[valid-type]


class PhoneCodeOut(Schema):
    message: str
    # Seconds the code answers for, and before another may be asked for.
    expires_in: int
    resend_after: int


class PhoneSessionIn(Schema):
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=12)
    # Which app or device this token is for, so that its owner can tell their tokens apart.
    name: str = Field("", max_length=100)
    # Staff who must use two-factor sign-in: the code of their authenticator app.
    otp: str = Field("", max_length=20)


@router.post(
    "/phone-codes",
    auth=None,
    response={202: PhoneCodeOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Ask for a sign-in code by SMS",
)
def request_phone_code(request: HttpRequest, payload: PhoneCodeIn):
    phone_code_request(
        phone=payload.phone, purpose=payload.purpose, address=client_address(request)
    )
    return Status(
        202,
        {
            "message": _(
                "If this number can receive a code for this purpose, the code is on its way."
            ),
            "expires_in": settings.LINLI_PHONE_CODE_TTL_SECONDS,
            "resend_after": settings.LINLI_PHONE_CODE_RESEND_SECONDS,
        },
    )


@router.post(
    "/phone-sessions",
    auth=None,
    response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Sign in with a code from the SMS: issue a bearer token",
)
def create_phone_session(request: HttpRequest, payload: PhoneSessionIn):
    result = phone_session_create(
        phone=payload.phone, code=payload.code, otp=payload.otp, name=payload.name
    )
    if isinstance(result, CodeRefusal):
        return Status(401, {"message": result.message, "field": "otp"})
    token, key = result
    user = token.user
    # What a web login announces: last_login is recorded.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return Status(
        200,
        {
            "token": key,
            "username": user.username,
            "name": token.name,
            "expires_at": token.expires_at,
        },
    )
