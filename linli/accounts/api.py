"""Authentication for `/api/v1`: bearer tokens for apps, the session (with CSRF) for the web.

`POST /api/v1/auth/token` checks the password through `django.contrib.auth.authenticate`,
so it is throttled by django-axes exactly like the web login form.
"""

from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from linli.accounts.services import token_create, token_user
from linli.api_shared import ErrorOut


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = token_user(key=token)
        if user is not None:
            request.user = user
        return user


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
    username: str
    password: str


class TokenOut(Schema):
    token: str
    username: str


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut, 429: ErrorOut})
def create_token(request: HttpRequest, payload: TokenIn):
    result = token_create(request=request, username=payload.username, password=payload.password)
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
    user, key = result
    # What `django.contrib.auth.login` announces for the web: it records last_login and
    # lets axes reset the failure count (AXES_RESET_ON_SUCCESS), as a web login does.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return Status(200, {"token": key, "username": user.username})
