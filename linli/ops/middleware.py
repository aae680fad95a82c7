"""One middleware, first in the chain, that observes every request: a request id (taken from
the proxy or made here), one log line, and the request metrics.

It sees what leaves the process, static files and redirects included, and it reads nothing
from the database: the user id is logged only when the request already loaded the user.
"""

import logging
import re
import time
import uuid

from django.conf import settings
from django.utils.functional import SimpleLazyObject, empty

from linli.ops import metrics
from linli.ops.logging import current_request_id

request_logger = logging.getLogger("linli.request")

# What a proxy may send (nginx's $request_id, a UUID, a trace id): anything else is replaced,
# so that a client cannot put arbitrary text into the logs or the response headers.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Any other method (a scanner's invention) is counted as "other": a label per made-up method
# would grow the metrics without bound.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_id_for(request) -> str:
    incoming = request.headers.get("X-Request-ID", "")
    if VALID_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def route_of(request) -> str:
    """The URL pattern's name (never the path, which may hold anything a client typed)."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    if request.path.startswith(settings.STATIC_URL):
        return "static"  # Served by whitenoise before URL resolution.
    return "unmatched"


def user_id_of(request) -> int | None:
    user = getattr(request, "user", None)
    # Still lazy: nothing in this request needed the user, and loading it now would cost a
    # query (or fail, with the database down).
    if user is None or (type(user) is SimpleLazyObject and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


class RequestObservationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_for(request)
        reset_token = current_request_id.set(request.request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            # Streaming responses (exports) are timed to their first byte.
            seconds = time.perf_counter() - started
            response["X-Request-ID"] = request.request_id
            self.observe(request, response.status_code, seconds)
            return response
        finally:
            current_request_id.reset(reset_token)

    def observe(self, request, status: int, seconds: float) -> None:
        route = route_of(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        user_id = user_id_of(request)
        duration_ms = round(seconds * 1000, 1)
        request_logger.info(
            "%s %s %s %s ms",
            method,
            route,
            status,
            duration_ms,
            extra={
                "request_id": request.request_id,
                "user_id": user_id,
                "route": route,
                "method": method,
                "status": status,
                "duration_ms": duration_ms,
            },
        )
        try:
            metrics.request_observe(route=route, method=method, status=status, seconds=seconds)
        except Exception:
            # Metrics must never cost a user their answer (e.g. a full disk under the
            # multiprocess directory).
            request_logger.exception("Could not record the request metrics.")
