"""Error pages: 400, 403, 404, 500 and a refused form (CSRF), in the site's layout.

They render from a slim layout without the context processors: no user, no menu, no query.
So a 500 still renders with the database down, and a 404 reads the same, byte for byte,
whether the thing asked for does not exist or lies outside the person's scope. The language
is the request's (LocaleMiddleware has already chosen it). Nothing from the exception is
shown, except a 403's reason, which the code base writes for the user.

Under /api/ the same errors answer in the API's one JSON shape, `{"message", "field"}`, with
the words of the API's own handlers (linli/api.py): these answer what never reached them (an
unknown route, an error in a middleware).
"""

import logging

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from linli.errors import status_for

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

# The last resort when even the template cannot render (a broken static manifest, a full
# disk): plain HTML that needs nothing but this module.
BARE_500 = (
    "<!doctype html><html><head><meta charset='utf-8'>"
    "<meta name='viewport' content='width=device-width, initial-scale=1'>"
    "<title>500</title></head><body><h1>500</h1><p><a href='/'>/</a></p></body></html>"
)


def _request_id(request: HttpRequest) -> str:
    # Set by the request-id middleware when it runs; an error raised before it has none.
    return str(getattr(request, "request_id", "") or "")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _page(request: HttpRequest, name: str, status: int, **context) -> HttpResponse:
    template = loader.get_template(f"web/errors/{name}.html")
    # No `request` passed: a plain Context, so the context processors (which query the
    # database for the menu and the emergency banner) do not run.
    body = template.render({"request_id": _request_id(request), **context})
    return HttpResponse(body, status=status)


def _api(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"message": message, "field": None, **extra}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api(_("Bad request."), 400)
    return _page(request, "400", 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Views raise PermissionDenied with a sentence for the person ("You may not edit the
    # plans of A社区."); Django's own carry none.
    reason = str(exception) if exception is not None and exception.args else ""
    if _is_api(request):
        return _api(reason or _("Permission denied."), 403)
    return _page(request, "403", 403, reason=reason)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Never the exception's text: it would tell "outside your scope" from "does not exist".
    if _is_api(request):
        # The API's own 404 for an unknown route: the same words as its handler's.
        return _api(_("Not found."), 404)
    return _page(request, "404", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        request_id = _request_id(request)
        message = _("Server error. Quote the request id %(request_id)s when reporting it.") % {
            "request_id": request_id
        }
        return _api(message, 500, request_id=request_id)
    try:
        return _page(request, "500", 500)
    except Exception:  # noqa: BLE001 - the error page itself must not fail
        logger.exception("The 500 page could not be rendered; answering the bare page.")
        return HttpResponse(BARE_500, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the form was refused. Says why in plain words; never `reason`."""
    if _is_api(request):
        message = _("CSRF check failed: send the X-CSRFToken header with session requests.")
        return _api(message, 403)
    return _page(request, "csrf_failure", 403, back=_same_site_referer(request))


def _same_site_referer(request: HttpRequest) -> str:
    """The page the refused form came from, to open it again with a fresh token; only an
    address on this site."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except Exception:  # noqa: BLE001 - a host not allowed: no way back but home
        return ""
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    )
    return referer if referer and safe else ""


class DomainRefusalMiddleware:
    """The web's one mapping of a service's refusal (linli.errors) that no view caught: a
    403 page with the service's sentence for NotAllowed, a 409 page ("reload and try again")
    for Conflict, a 400 page for anything else. Pages that show a refusal on their form
    catch it themselves (linli.forms.form_add_errors); the API has its own handler."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if _is_api(request) or not isinstance(exception, ValidationError):
            return None
        status = status_for(exception)
        reason = exception.messages[0] if exception.messages else ""
        if status == 403:
            return _page(request, "403", 403, reason=reason)
        if status == 409:
            return _page(request, "409", 409, reason=reason, back=_same_site_referer(request))
        return _page(request, "400", 400, reason=reason)
