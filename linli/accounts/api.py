"""Authentication for `/api/v1`: bearer tokens for apps, the session (with CSRF) for the web.

`POST /api/v1/auth/token` checks the password through `django.contrib.auth.authenticate`,
so it is throttled by django-axes exactly like the web login form. A token answers for
LINLI_API_TOKEN_DAYS; `DELETE /auth/token` is an app's logout, and `/auth/tokens` lists and
revokes the caller's own tokens.
"""

from datetime import datetime
from typing import Literal

from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from linli import clock
from linli.accounts.models import ApiToken, TokenRevocation
from linli.accounts.selectors import token_is_live, tokens_of
from linli.accounts.services import (
    TokenRefused,
    client_address,
    token_authenticate,
    token_create,
    token_revoke,
)
from linli.accounts.two_factor import CodeRefusal
from linli.api_shared import ERRORS, ErrorOut, Id, PageIn, paginate
from linli.errors import get_visible_or_404


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        try:
            api_token = token_authenticate(key=token)
        except TokenRefused as refused:
            # Only the token's holder can send it: telling them why it stopped answering
            # reveals nothing to anyone else.
            if refused.why == "expired":
                message = _("This token has expired. Sign in again for a new one.")
            else:
                message = _("This token has been revoked. Sign in again for a new one.")
            raise HttpError(401, message) from None
        if api_token is None:
            return None
        request.user = api_token.user
        # Which token authenticated the request: DELETE /auth/token revokes it, and the
        # list marks it `current`.
        request.api_token = api_token
        return api_token.user


class SessionAuth(NinjaSessionAuth):
    """The web's session, with Django's CSRF check on unsafe methods.

    The CSRF check runs only when there is a logged-in session to protect: an anonymous
    caller is told to authenticate (401), not that a CSRF token is missing (403).
    """

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super().__call__(request)


router = Router(tags=["auth"])


class TokenIn(Schema):
    # The columns' sizes: User.username holds 150 characters. Passwords are bounded so
    # that hashing a huge one cannot hold a worker.
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=4096)
    # Which app or device this token is for, so that its owner can tell their tokens apart.
    name: str = Field("", max_length=100)
    # Staff who must use two-factor sign-in (linli.accounts.two_factor): the 6-digit code of
    # their authenticator app, or a recovery code.
    otp: str = Field("", max_length=20)


class TokenOut(Schema):
    # Shown once: only its hash is stored.
    token: str
    username: str
    name: str
    expires_at: datetime


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Sign in: issue a bearer token",
)
def create_token(request: HttpRequest, payload: TokenIn):
    result = token_create(
        request=request,
        username=payload.username,
        password=payload.password,
        otp=payload.otp,
        name=payload.name,
    )
    if getattr(request, "axes_locked_out", False):
        # Axes refused the credentials before any password check. Answer in the API's own
        # JSON shape; clearing the flag stops AxesMiddleware from swapping this response
        # for the web's HTML lockout page.
        request.axes_locked_out = False
        return Status(
            429,
            {
                "message": _("Too many failed login attempts. Try again later."),
                "field": "username",
            },
        )
    if result is None:
        return Status(401, {"message": _("Invalid username or password."), "field": "password"})
    if isinstance(result, CodeRefusal):
        return Status(401, {"message": result.message, "field": "otp"})
    token, key = result
    user = token.user
    # What `django.contrib.auth.login` announces for the web: it records last_login and
    # lets axes reset the failure count (AXES_RESET_ON_SUCCESS), as a web login does.
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


@router.delete(
    "/token",
    auth=BearerTokenAuth(),
    response={204: None, 401: ErrorOut},
    summary="Sign out: revoke the token this request was made with",
)
def revoke_current_token(request: HttpRequest):
    token_revoke(
        actor=request.user,
        token=request.api_token,
        reason=TokenRevocation.LOGOUT,
        ip_address=client_address(request),
    )
    return Status(204, None)


class TokenItemOut(Schema):
    id: int
    # The token's first characters (the rest is never stored).
    prefix: str
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: Literal["", *TokenRevocation.values]  # type: ignore[valid-type]
    # The reason in words, in the request's language.
    revoked_reason_text: str
    # Still answers: neither revoked nor expired.
    active: bool
    # The token this request was made with.
    current: bool


class TokenPage(Schema):
    items: list[TokenItemOut]
    count: int


def _token_item(token: ApiToken, *, current: ApiToken | None, now: datetime) -> dict:
    return {
        "id": token.pk,
        "prefix": token.key_prefix,
        "name": token.name,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
        "revoked_reason": token.revoked_reason,
        "revoked_reason_text": str(token.get_revoked_reason_display() or ""),
        "active": token_is_live(token, now=now),
        "current": current is not None and token.pk == current.pk,
    }


@router.get("/tokens", response={200: TokenPage, **ERRORS}, summary="My API tokens")
def list_tokens(request: HttpRequest, page: Query[PageIn]):
    tokens, count = paginate(tokens_of(user=request.user), page)
    current = getattr(request, "api_token", None)
    now = clock.now()
    return {"items": [_token_item(t, current=current, now=now) for t in tokens], "count": count}


@router.delete(
    "/tokens/{token_id}",
    response={204: None, **ERRORS},
    summary="Revoke one of my API tokens",
)
def revoke_token(request: HttpRequest, token_id: Id):
    # Another person's token is not found, exactly like one that does not exist.
    token = get_visible_or_404(tokens_of(user=request.user), token_id, field="token_id")
    token_revoke(
        actor=request.user,
        token=token,
        reason=TokenRevocation.BY_OWNER,
        ip_address=client_address(request),
    )
    return Status(204, None)
