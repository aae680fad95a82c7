"""The `/api/v1` surface: one NinjaAPI, a router per domain app.

Session auth serves the web (with CSRF); bearer tokens serve apps. Every error is JSON of
one shape, `{"message": ..., "field": ...}`, where `field` names the input at fault (or is
null when no single field is).
"""

import json

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.db import DataError
from django.http import Http404, HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from linli.accounts.api import BearerTokenAuth, SessionAuth
from linli.accounts.api import router as accounts_router
from linli.cases.api import router as cases_router
from linli.emergency.api import router as emergency_router
from linli.emergency.api_plans import router as emergency_plans_router
from linli.errors import NotAllowed, error_field, status_for
from linli.grids.api import router as grids_router
from linli.logins.api import router as logins_router
from linli.logins.middleware import refusal_message as temporary_password_refusal
from linli.logins.services import temporary_password_of
from linli.notify.api import router as notify_router
from linli.participation.activities.api import router as activities_router
from linli.participation.deliberation.api import router as deliberation_router
from linli.participation.surveys.api import router as surveys_router
from linli.participation.ties.api import router as ties_router
from linli.partners.api import router as partners_router
from linli.privacy.api import router as privacy_router
from linli.registration.api import router as registration_router
from linli.resilience.api_dashboard import router as resilience_dashboard_router
from linli.resilience.api_map import router as resilience_map_router
from linli.signin.api import router as signin_router
from linli.supplies.api import router as supplies_router
from linli.volunteers.api import router as volunteers_router

NUL_REFUSED = gettext_lazy("Text may not contain the NUL character (0x00).")


def _nul_location(value, path: tuple = ()) -> tuple | None:
    """Where in a decoded JSON body a string holds NUL, or None. No column can store it
    (PostgreSQL refuses it outright): a schema-valid string with NUL is refused here, at
    the field, instead of failing in the database."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _nul_location(item, (*path, key))
        if found is not None:
            return found
    return None


class NulRefusalMiddleware:
    """Refuses a JSON body with NUL in any text before any handler runs, with a 422 naming
    the field, on every database alike (ninja turns a parser's exception into a bare 400)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and request.content_type == "application/json":
            try:
                data = json.loads(request.body or b"null")
            except ValueError:
                data = None  # ninja answers malformed JSON itself
            where = _nul_location(data)
            if where:
                return JsonResponse(
                    {"message": str(NUL_REFUSED), "field": ".".join(map(str, where))},
                    status=422,
                )
        return self.get_response(request)


class NulRefusingParser(Parser):
    """ninja's JSON and query parsing: NUL in a query is refused with a 422 naming the
    parameter; in a JSON body its place is noted for nul_refused."""

    def parse_body(self, request):
        data = super().parse_body(request)
        # ninja turns any exception raised here into a bare 400: the place is noted instead,
        # and the database's refusal of NUL (unavoidable, should a handler write it) is
        # answered as a 422 naming it (nul_refused below).
        request.nul_field = _nul_location(data)
        return data

    def parse_querydict(self, data, list_fields, request):
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise ValidationError([{"loc": ("query", key), "msg": str(NUL_REFUSED)}])
        return super().parse_querydict(data, list_fields, request)


class OwnPasswordBearerAuth(BearerTokenAuth):
    """A bearer token, refused (403 naming `password`) while its login still has the
    temporary password a secretary gave it (linli.logins): a token got with that password is
    no way around setting one's own. Checked here, after the route is known, and only for
    token requests; the web's session is held by linli.logins.middleware."""

    def authenticate(self, request: HttpRequest, token: str):
        user = super().authenticate(request, token)
        if user is not None and temporary_password_of(user=user) is not None:
            raise NotAllowed(temporary_password_refusal(), field="password")
        return user


api = NinjaAPI(
    parser=NulRefusingParser(),
    title="Linli API",
    version="1",
    urls_namespace="api-v1",
    auth=[OwnPasswordBearerAuth(), SessionAuth()],
    docs_url="/docs",
)


def error_response(request, message, field: str | None, status: int):
    return api.create_response(request, {"message": str(message), "field": field}, status=status)


@api.exception_handler(ValidationError)
def schema_validation_error(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    location = [
        str(part)
        for part in first.get("loc", [])
        if part not in ("body", "query", "path", "payload", "filters", "pagination")
    ]
    # An error of the body as a whole (none sent, not an object) names the body.
    body_at_fault = "body" if list(first.get("loc", []))[:1] == ["body"] else None
    return error_response(
        request, first.get("msg", _("Invalid input.")), ".".join(location) or body_at_fault, 422
    )


@api.exception_handler(DjangoValidationError)
def domain_refusal(request, exc: DjangoValidationError):
    """A service's refusal (linli.errors): 403, 409, 400 and the rest, by its codes, with the
    first message and the field it names."""
    field = error_field(exc)
    messages = exc.message_dict.get(field or "__all__") if hasattr(exc, "error_dict") else None
    message = (messages or exc.messages)[0]
    return error_response(request, message, field, status_for(exc))


@api.exception_handler(Http404)
def not_found(request, exc):
    # Out of scope and nonexistent look the same: the answer reveals nothing.
    return error_response(request, _("Not found."), getattr(exc, "field", None), 404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return error_response(request, _("Authentication required."), None, 401)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    message = str(exc)
    if exc.status_code == 403 and "CSRF" in message:
        # Ninja's session auth refused an unsafe request without the CSRF token.
        message = _("CSRF check failed: send the X-CSRFToken header with session requests.")
    return error_response(request, message, None, exc.status_code)


@api.exception_handler(DataError)
def nul_refused(request, exc: DataError):
    """PostgreSQL refuses NUL in text (SQLite stores it): the caller's input, not a fault."""
    where = getattr(request, "nul_field", None)
    if where is None:
        return unexpected_error(request, exc)
    field = ".".join(str(part) for part in where) or None
    return error_response(request, NUL_REFUSED, field, 422)


@api.exception_handler(Exception)
def unexpected_error(request, exc: Exception):
    """Anything else a handler raised. Django's own refusals keep their 4xx; the rest is a 500
    in the API's error shape with the request id to quote, not Django's HTML page, and it is
    logged with its traceback (secrets redacted, linli.ops.logging) like any 500."""
    if isinstance(exc, PermissionDenied):
        return error_response(request, _("Permission denied."), None, 403)
    # A multipart body without its boundary: Django's own handler answers it 400 too.
    if isinstance(exc, SuspiciousOperation | BadRequest | MultiPartParserError):
        return error_response(request, _("Bad request."), None, 400)
    request_id = getattr(request, "request_id", "")
    message = _("Server error. Quote the request id %(request_id)s when reporting it.") % {
        "request_id": request_id
    }
    response = api.create_response(
        request, {"message": message, "field": None, "request_id": request_id}, status=500
    )
    got_request_exception.send(sender=None, request=request)
    log_response(
        "Internal Server Error: %s", request.path, response=response, request=request, exception=exc
    )
    return response


api.add_router("/auth", accounts_router)
api.add_router("/", grids_router)
api.add_router("/notifications", notify_router)
api.add_router("/cases", cases_router)
api.add_router("/volunteers", volunteers_router)
api.add_router("/partners", partners_router)
api.add_router("/supplies", supplies_router)
api.add_router("/activities", activities_router)
api.add_router("/deliberation", deliberation_router)
api.add_router("/surveys", surveys_router)
api.add_router("/ties", ties_router)
api.add_router("/emergency", emergency_router)
api.add_router("/emergency", emergency_plans_router)
api.add_router("/resilience/map", resilience_map_router)
api.add_router("/resilience", resilience_dashboard_router)
api.add_router("/privacy", privacy_router)
api.add_router("/registration", registration_router)
api.add_router("/logins", logins_router)
api.add_router("/signin", signin_router)
