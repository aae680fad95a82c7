"""Nobody uses Linli before accepting the current privacy notice.

A signed-in person who has not accepted LINLI_PRIVACY_NOTICE_VERSION is sent to the notice
(`/privacy/notice/`) from every page but the notice itself, signing in and out, the
two-factor pages, the language switch, static files and the operations endpoints. The API
answers 403 with `field: "privacy_notice"` — for the web's session and for an app's bearer
token alike: an app shows the notice (`GET /api/v1/privacy/notice`) and accepts it
(`POST /api/v1/privacy/notice/accept`), which stay open, as do the token routes (an app can
still sign out) and the API's documentation.

Installed after the two-factor middleware: a person who owes a second factor enters it
first. The version a session has accepted is kept in the session, so the check costs one
query per session, not per request.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.services import token_user
from linli.privacy import notice
from linli.redirects import send_to_step


def _open_prefixes() -> tuple[str, ...]:
    return (
        reverse("privacy:notice"),
        reverse("web:login"),
        reverse("web:logout"),
        reverse("two_factor:status"),  # every two-factor page lies under it
        reverse("set_language"),
        reverse("admin:logout"),
        reverse("healthz"),
        reverse("readyz"),
        reverse("metrics"),
        settings.STATIC_URL,
    )


def _open_api_prefixes() -> tuple[str, ...]:
    return (
        reverse("api-v1:privacy_notice"),  # and …/accept
        reverse("api-v1:create_token"),  # the token routes: sign in and out
        reverse("api-v1:openapi-json"),
        reverse("api-v1:openapi-view"),
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(reverse("api-v1:api-root"))


def _bearer_user(request: HttpRequest):
    header = request.headers.get("Authorization", "")
    scheme, _space, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return token_user(key=key.strip())


def _accepted(request: HttpRequest, user, *, in_session: bool) -> bool:
    version = notice.current_version()
    if in_session and request.session.get(notice.SESSION_KEY) == version:
        return True
    if not notice.has_accepted(user=user, version=version):
        return False
    if in_session:
        request.session[notice.SESSION_KEY] = version
    return True


def refusal_message() -> str:
    return _(
        "Read and accept the privacy notice first: GET /api/v1/privacy/notice, then "
        "POST /api/v1/privacy/notice/accept."
    )


class PrivacyNoticeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not notice.required():
            return self.get_response(request)
        path = request.path
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if not signed_in and not request.headers.get("Authorization"):
            # Nobody to ask (a visitor, a health probe): no lookup, no URL reversing.
            return self.get_response(request)
        if _is_api(request):
            if path.startswith(_open_api_prefixes()):
                return self.get_response(request)
            if request.headers.get("Authorization"):
                user, in_session = _bearer_user(request), False
            else:
                user, in_session = getattr(request, "user", None), True
            if user is None or not user.is_authenticated:
                return self.get_response(request)  # the API answers 401 itself
            if _accepted(request, user, in_session=in_session):
                return self.get_response(request)
            return JsonResponse(
                {"message": refusal_message(), "field": "privacy_notice"}, status=403
            )
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or path.startswith(_open_prefixes()):
            return self.get_response(request)
        if _accepted(request, user, in_session=True):
            return self.get_response(request)
        return send_to_step(request, reverse("privacy:notice"))
