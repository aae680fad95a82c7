"""The `/api/v1` surface: one NinjaAPI, a router per domain app.

Session auth serves the web (with CSRF); bearer tokens serve apps. Errors are JSON with a
message and, where one field is at fault, the field's name.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from linli.accounts.api import BearerTokenAuth, SessionAuth
from linli.accounts.api import router as accounts_router
from linli.grids.api import router as grids_router

api = NinjaAPI(
    title="Linli API",
    version="1",
    urls_namespace="api-v1",
    auth=[BearerTokenAuth(), SessionAuth()],
    docs_url="/docs",
)


@api.exception_handler(ValidationError)
def schema_validation_error(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    location = [
        str(part)
        for part in first.get("loc", [])
        if part not in ("body", "query", "path", "payload")
    ]
    return api.create_response(
        request,
        {
            "message": first.get("msg", "Invalid input"),
            "field": ".".join(location) or None,
            "errors": exc.errors,
        },
        status=422,
    )


@api.exception_handler(DjangoValidationError)
def domain_validation_error(request, exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.message_dict.items()))
        return api.create_response(
            request,
            {"message": errors[0], "field": None if field == "__all__" else field},
            status=400,
        )
    return api.create_response(request, {"message": exc.messages[0], "field": None}, status=400)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"message": "Not found", "field": None}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request, {"message": "Authentication required", "field": None}, status=401
    )


api.add_router("/auth", accounts_router)
api.add_router("/", grids_router)
