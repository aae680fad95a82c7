"""Whoever signed in with a temporary password sets their own before anything else.

A secretary who makes a login (or resets a forgotten password) may show a temporary password
once; it is marked by a TemporaryPassword row until the person replaces it. While the mark
stands, every page sends them to /logins/password/ (coming back afterwards), except signing
in and out, the two-factor pages, the privacy notice, the language switch, static files and
the operations endpoints; the API answers 403 naming `password`, for the web's session and
for an app's bearer token alike (a token is no way around the step).

Installed after the two-factor and privacy-notice middlewares: a person who owes a second
factor or the notice does that first. A page costs no query: the session is marked when its
login signs in with the temporary password still standing (user_logged_in), and only a marked
session is checked. Issuing a temporary password ends the person's sessions (and changes
their password's hash), so every session afterwards starts with a sign-in that marks it. An
app's bearer token is checked on each API request (one indexed query).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from linli.logins.models import TemporaryPassword
from linli.redirects import send_to_step

# Set at sign-in (linli.logins.apps) on a session whose login still has the temporary
# password it was given; pages read only the session, so a clear session costs no query.
OWES_SESSION_KEY = "linli_logins_owes_password"


def _reversible(*names: str) -> tuple[str, ...]:
    """The paths of the routes that exist in the URL configuration in force (a test may run
    with one of its own)."""
    paths = []
    for name in names:
        try:
            paths.append(reverse(name))
        except NoReverseMatch:
            continue
    return tuple(paths)


def _open_prefixes() -> tuple[str, ...]:
    return (
        *_reversible(
            "logins:password",
            "web:login",
            "web:logout",
            "two_factor:status",  # every two-factor page lies under it
            "privacy:notice",
            "set_language",
            "admin:logout",
            "healthz",
            "readyz",
            "metrics",
        ),
        settings.STATIC_URL,
    )


def _open_api_prefixes() -> tuple[str, ...]:
    # The token routes (sign in and out) and the API's description.
    return _reversible("api-v1:create_token", "api-v1:openapi-json", "api-v1:openapi-view")


def _is_api(request: HttpRequest) -> bool:
    api_root = _reversible("api-v1:api-root")
    return bool(api_root) and request.path.startswith(api_root[0])


def _bearer_key(request: HttpRequest) -> str:
    scheme, _space, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def mark_session_at_sign_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: note on the session that its login owes its own password."""
    session = getattr(request, "session", None)
    if session is not None and TemporaryPassword.objects.filter(user=user).exists():
        session[OWES_SESSION_KEY] = user.pk


def _session_marked(request: HttpRequest, user) -> bool:
    """Whether the signed-in person still owes their own password. Only a session marked at
    sign-in is checked against the table (the password may have been set since)."""
    session = request.session
    if session.get(OWES_SESSION_KEY) != user.pk:
        return False
    if TemporaryPassword.objects.filter(user=user).exists():
        return True
    del session[OWES_SESSION_KEY]
    return False


def refusal_message() -> str:
    return _(
        "This login still has the temporary password it was given: set your own password on "
        "the website first (/logins/password/)."
    )


class TemporaryPasswordMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The paths first: an open path (health checks, static files, signing in) must not
        # load the session or the user.
        if _is_api(request):
            if request.path.startswith(_open_api_prefixes()):
                return self.get_response(request)
            if _bearer_key(request):
                # A token is checked by the API's authentication (linli.api), once the
                # token and its login are read anyway.
                return self.get_response(request)
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and _session_marked(request, user):
                return JsonResponse({"message": refusal_message(), "field": "password"}, status=403)
            return self.get_response(request)
        if request.path.startswith(_open_prefixes()):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and _session_marked(request, user):
            return send_to_step(request, reverse("logins:password"))
        return self.get_response(request)
