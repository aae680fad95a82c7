"""Double-submit protection for web forms, on the same store as the API's Idempotency-Key.

A form carries a one-time token (`{% load idempotency %}{% once_token %}` inside the form),
and its view is decorated with `@once_per_form`. A second POST of the same form with the
same token — a double tap on a slow phone, a browser resending after a dropped connection —
answers the first answer's redirect again and writes nothing. Only redirects are stored (the
answer of a form that did its work); a form redisplayed with errors is not, and carries a
fresh token. A token sent with a different form body (the browser restored an old form and
the user changed it) is an ordinary submission.
"""

import uuid
from collections.abc import Callable
from functools import wraps

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from linli.idempotency.services import (
    IdempotencyRefused,
    key_parse,
    record_claim,
    record_complete,
    replay_response,
    request_fingerprint,
)

FIELD_NAME = "once_token"


def once_token_new() -> str:
    return uuid.uuid4().hex


def once_per_form(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    route = f"{view.__module__}.{view.__qualname__}"

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        raw = request.POST.get(FIELD_NAME) if request.method == "POST" else None
        user_id = getattr(getattr(request, "user", None), "pk", None)
        if not raw or user_id is None:
            return view(request, *args, **kwargs)
        try:
            key = key_parse(raw)
        except IdempotencyRefused:
            # A mangled token protects nothing, but the form itself is still good.
            return view(request, *args, **kwargs)
        with transaction.atomic():
            try:
                record, fresh = record_claim(
                    caller=f"user:{user_id}",
                    key=key,
                    method=request.method,
                    route=route,
                    request_hash=request_fingerprint(request),
                )
            except IdempotencyRefused:
                return view(request, *args, **kwargs)
            if not fresh:
                return replay_response(record)
            response = view(request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            elif 300 <= response.status_code < 400:
                record_complete(record=record, response=response)
            else:
                # Redisplayed with errors: nothing to replay; the new form has a new token.
                record.delete()
        return response

    return wrapper
