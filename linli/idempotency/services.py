"""Claim a key, store the answer, replay it; purge what has expired.

The rule, for every write a client may retry:

- A request without `Idempotency-Key` runs as it always did.
- A new key: the handler runs, and its answer is stored in the same transaction as its
  write. The record is inserted *before* the handler runs, so on PostgreSQL a second request
  with the same key blocks on the unique index until the first commits, then replays its
  answer (SQLite serialises write transactions, with the same outcome).
- The same key again, with the same method, route, path and body: the stored answer (same
  status, same body) with `Idempotent-Replayed: true`, and nothing is written.
- The same key with a different request: 422, nothing written.
- What is stored: every answer below 500, so a refusal (400, 403, 404, 409) is final for its
  key; fix the request and send it with a new key. A 5xx answer rolls back the write and the
  record both, so a retry with the same key runs again. Input that fails the schema (422)
  and failed authentication (401) are answered before the key is claimed: not stored.
- Records expire after LINLI_IDEMPOTENCY_HOURS (24 by default): `idempotency_records_purge`
  (the periodic job `idempotency.purge_expired`) deletes them, and an expired record still
  in the table is ignored, so the key may be used again.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from linli import clock
from linli.idempotency.models import HEADER, KEY_MAX_LENGTH, KEY_PATTERN, IdempotencyRecord

REPLAYED_HEADER = "Idempotent-Replayed"
# Headers stored with an answer and repeated by its replay (besides Content-Type). Cookies
# never are: a replay must not hand one caller's session to a retry.
REPLAYED_HEADERS = ("Location",)


class IdempotencyRefused(Exception):
    """The key cannot serve this request: a malformed key (422), a key already used for a
    different request (422), or a key whose first request has not finished (409)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


def key_parse(raw: str) -> str:
    """The key from the header's value. A pair of double quotes around it is dropped: the
    IETF draft (draft-ietf-httpapi-idempotency-key-header) sends the key as a quoted string."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not KEY_PATTERN.fullmatch(key):
        raise IdempotencyRefused(
            _(
                "The %(header)s header must be 1 to %(length)d characters: letters, digits "
                "and . _ : ~ + / = -"
            )
            % {"header": HEADER, "length": KEY_MAX_LENGTH},
            422,
        )
    return key


def _canonical_json(body: bytes) -> bytes:
    # The same object sent twice with its keys in another order is the same request.
    try:
        parsed = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return body
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_fingerprint(request: HttpRequest) -> str:
    """SHA-256 of what makes two requests the same request: method, path, query and body.

    Form bodies (urlencoded and multipart) are hashed field by field, files by name and
    content: a multipart body cannot be read raw once Django has parsed it, and the
    boundary string differs between two sends of the same form anyway."""
    digest = hashlib.sha256()

    def add(part: str | bytes) -> None:
        data = part.encode() if isinstance(part, str) else part
        # Length-prefixed, so that no two different sequences of parts hash alike.
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)

    add(request.method or "")
    add(request.path)
    add(json.dumps(sorted(request.GET.lists()), ensure_ascii=False))
    content_type = request.content_type or ""
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        add(json.dumps(sorted(request.POST.lists()), ensure_ascii=False))
        for name, files in sorted(request.FILES.lists()):
            for uploaded in files:
                add(name)
                add(uploaded.name or "")
                content = hashlib.sha256()
                for chunk in uploaded.chunks():
                    content.update(chunk)
                uploaded.seek(0)
                add(content.hexdigest())
    elif content_type == "application/json":
        add(_canonical_json(request.body))
    else:
        add(request.body)
    return digest.hexdigest()


def expiry_cutoff(*, now: datetime | None = None) -> datetime:
    """Records created before this moment have expired."""
    return (now or clock.now()) - timedelta(hours=settings.LINLI_IDEMPOTENCY_HOURS)


def record_claim(
    *, caller: str, key: str, method: str, route: str, request_hash: str
) -> tuple[IdempotencyRecord, bool]:
    """Claim `key` for this request inside the write's own transaction.

    Returns (record, True) for a new key: run the handler, then `record_complete`.
    Returns (record, False) when the key already answered this same request: replay it.
    Raises IdempotencyRefused when the key was used for a different request (422) or its
    first request is still unfinished (409)."""
    if not transaction.get_connection().in_atomic_block:
        # Outside a transaction the record would commit before the write it guards.
        raise RuntimeError("record_claim must run inside the write's transaction")
    # Two rounds at most: the second follows an expired record deleted in the first.
    for _round in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    caller=caller, key=key, method=method, route=route, request_hash=request_hash
                )
            return record, True
        except IntegrityError:
            # On PostgreSQL the insert waited for the other transaction holding this key;
            # it committed, so its record is now visible to a new statement.
            existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
        if existing is None:
            continue  # Purged between the insert and the read: claim it again.
        if existing.created_at < expiry_cutoff():
            existing.delete()
            continue
        if (existing.method, existing.route, existing.request_hash) != (
            method,
            route,
            request_hash,
        ):
            raise IdempotencyRefused(
                _(
                    "This %(header)s was already used for a different request; send a new "
                    "key with a new request."
                )
                % {"header": HEADER},
                422,
            )
        if not existing.completed:
            raise IdempotencyRefused(
                _("The first request with this %(header)s has not finished; retry in a moment.")
                % {"header": HEADER},
                409,
            )
        return existing, False
    raise IdempotencyRefused(
        _("The first request with this %(header)s has not finished; retry in a moment.")
        % {"header": HEADER},
        409,
    )


def record_complete(*, record: IdempotencyRecord, response: HttpResponse) -> None:
    """Store the answer on the claimed record (in the same transaction as the write)."""
    if response.streaming:
        raise TypeError("an idempotent operation must answer with a complete body")
    record.status_code = response.status_code
    record.content_type = response.get("Content-Type", "")
    record.response_body = response.content.decode(response.charset or "utf-8")
    record.response_headers = {
        name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)
    }
    record.completed = True
    record.save(
        update_fields=[
            "status_code",
            "content_type",
            "response_body",
            "response_headers",
            "completed",
        ]
    )


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    """The stored answer again, marked as a replay."""
    response = HttpResponse(
        record.response_body, status=record.status_code, content_type=record.content_type
    )
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent_response(
    request: HttpRequest,
    *,
    caller: str,
    route: str,
    respond: Callable[[], HttpResponse],
    refuse: Callable[[str, int], HttpResponse],
) -> HttpResponse:
    """The whole rule for a plain Django view whose caller is already known (e.g. an Open311
    client by its api_key): `respond` does the write and renders its answer; `refuse`
    renders a refusal (message, status) in the view's own error format."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return respond()
    try:
        key = key_parse(raw)
    except IdempotencyRefused as refusal:
        return refuse(refusal.message, refusal.status)
    with transaction.atomic():
        try:
            record, fresh = record_claim(
                caller=caller,
                key=key,
                method=request.method or "",
                route=route,
                request_hash=request_fingerprint(request),
            )
        except IdempotencyRefused as refusal:
            return refuse(refusal.message, refusal.status)
        if not fresh:
            return replay_response(record)
        response = respond()
        if response.status_code >= 500:
            # Neither the write nor the record: a retry with the same key runs again.
            transaction.set_rollback(True)
        else:
            record_complete(record=record, response=response)
    return response


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete expired records; returns how many. One statement, on the created_at index."""
    deleted, _by_model = IdempotencyRecord.objects.filter(
        created_at__lt=expiry_cutoff(now=now)
    ).delete()
    return deleted
