"""`@idempotent` for django-ninja operations.

    @router.post("/needs/{need_id}/claims", response={201: ClaimDetailOut, **WRITE_ERRORS})
    @idempotent
    def need_claim(request, need_id: int, payload: ClaimIn): ...

It works in two layers, because the caller is only known once ninja has authenticated the
request, while the answer to store is only known once ninja has rendered the handler's result
(or turned its exception into a 4xx):

- around the whole operation (`Operation.run`): check the key's format, open the
  transaction, and after the answer is rendered store it on the claimed record (below 500)
  or roll everything back (5xx);
- around the handler (`Operation.view_func`, after authentication and input validation):
  claim the key for this caller, or answer with the stored answer (or a refusal) instead of
  running the handler.

The function itself is returned unchanged, so a handler that calls another decorated
handler directly does not claim twice. The header is documented in the operation's OpenAPI parameters.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja.decorators import decorate_view
from ninja.utils import contribute_operation_callback

from linli.idempotency.models import HEADER, KEY_CHARACTERS, KEY_MAX_LENGTH, IdempotencyRecord
from linli.idempotency.services import (
    REPLAYED_HEADER,
    IdempotencyRefused,
    key_parse,
    record_claim,
    record_complete,
    replay_response,
    request_fingerprint,
)

HEADER_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Optional, recommended for every write an app may retry. A fresh random key (a UUID) "
        "for each new write; the same key when retrying it after a timeout or a dropped "
        "connection. Within 24 hours, the same key with the same request answers the first "
        f"answer again (same status and body, with `{REPLAYED_HEADER}: true`) and writes "
        "nothing more; with a different request it answers 422, and 409 while the first "
        "request is still running. Answers below 500 are stored, refusals included; a 5xx "
        "answer leaves nothing behind, so a retry runs again. Keys are per caller."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": KEY_MAX_LENGTH,
        "pattern": f"^[{KEY_CHARACTERS}]+$",
    },
}
REPLAYED_RESPONSE_HEADER = {
    REPLAYED_HEADER: {
        "description": f"`true` when this is the stored answer to an earlier {HEADER}.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
CONFLICT_OR_IN_PROGRESS = (
    f"The first request with this {HEADER} has not finished, or the row moved on under the "
    "caller (reload it and try again)."
)
IN_PROGRESS_RESPONSE = {
    "description": f"The first request with this {HEADER} has not finished.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
                "required": ["message"],
            }
        }
    },
}


@dataclass
class _Pending:
    """What the two layers share for one request: the key, and the record once claimed."""

    key: str
    claimed: bool = False
    record: IdempotencyRecord | None = None


def _error(message: str, status: int) -> HttpResponse:
    # The API's error shape (linli/api.py): the message and the input at fault.
    return HttpResponse(
        json.dumps({"message": message, "field": HEADER}, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _caller(request: HttpRequest) -> str | None:
    user = getattr(request, "auth", None)
    user_id = getattr(user, "pk", None)
    return f"user:{user_id}" if user_id is not None else None


def _one_transaction(run: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(run)
    def wrapper(request: HttpRequest, *args, **kwargs):
        raw = request.headers.get(HEADER)
        if raw is None:
            return run(request, *args, **kwargs)
        try:
            pending = _Pending(key=key_parse(raw))
        except IdempotencyRefused as refusal:
            return _error(refusal.message, refusal.status)
        request.idempotency = pending
        with transaction.atomic():
            response = run(request, *args, **kwargs)
            if pending.record is not None:
                if response.status_code >= 500:
                    # Neither the write nor the record: a retry with the same key runs again.
                    transaction.set_rollback(True)
                else:
                    record_complete(record=pending.record, response=response)
        return response

    return wrapper


def _claiming(view_func: Callable[..., Any]) -> Callable[..., Any]:
    route = f"{view_func.__module__}.{view_func.__qualname__}"

    @wraps(view_func)
    def wrapper(request: HttpRequest, *args, **kwargs):
        pending: _Pending | None = getattr(request, "idempotency", None)
        caller = _caller(request)
        if pending is None or pending.claimed or caller is None:
            return view_func(request, *args, **kwargs)
        pending.claimed = True
        try:
            record, fresh = record_claim(
                caller=caller,
                key=pending.key,
                method=request.method or "",
                route=route,
                request_hash=request_fingerprint(request),
            )
        except IdempotencyRefused as refusal:
            return _error(refusal.message, refusal.status)
        if not fresh:
            return replay_response(record)
        pending.record = record
        return view_func(request, *args, **kwargs)

    return wrapper


def _contribute(operation) -> None:
    operation.view_func = _claiming(operation.view_func)
    extra = dict(operation.openapi_extra or {})
    extra["parameters"] = [*extra.get("parameters", []), HEADER_PARAMETER]
    responses = dict(extra.get("responses", {}))
    for status in operation.response_models:
        # Any stored answer may come back as a replay; a 401 or a 5xx is never stored.
        if isinstance(status, int) and status != 401 and status < 500:
            responses[status] = {**responses.get(status, {}), "headers": REPLAYED_RESPONSE_HEADER}
    if 409 not in operation.response_models:
        responses[409] = IN_PROGRESS_RESPONSE
    else:
        # The operation's own 409 (linli.errors.Conflict) keeps its schema; its description
        # says both reasons.
        responses[409] = {**responses.get(409, {}), "description": CONFLICT_OR_IN_PROGRESS}
    extra["responses"] = responses
    operation.openapi_extra = extra


def idempotent(func: Callable[..., Any]) -> Callable[..., Any]:
    """Make a ninja write operation honour `Idempotency-Key` (see linli.idempotency.services).
    Put it below the `@router.post(...)` line."""
    # Order matters: the handler wrapper must be in place before ninja clones the operation,
    # and decorate_view re-applies the run wrapper to every clone.
    contribute_operation_callback(func, _contribute)
    decorate_view(_one_transaction)(func)
    return func
