"""The domain's refusals, written once, and what each means over HTTP.

Services raise these; the API maps them in one handler (linli/api.py) and the web in one
place (`status_for` for a page that answers a refusal itself, the 403/404 pages otherwise):

- `NotVisible`  404: not there, or outside the caller's scope; the two look the same.
- `NotAllowed`  403: the caller may see the row but not do this to it.
- `Conflict`    409: the row moved on under the caller (a stale version, a step the state no
  longer allows, nothing left to claim); reload and try again.
- `Invalid`     400: the input is wrong; `field` names what to correct.

Refusals other than `NotVisible` are Django `ValidationError`s, so a form shows them at their
field (`linli.forms.form_add_errors`) and code that catches `ValidationError` keeps working.
The status is read from the error codes, because a `ValidationError` that gathers several
refusals (one per field) keeps their codes but not their classes.

Kept below every app: the kernel imports nothing of Linli.
"""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

PERMISSION_DENIED = "permission_denied"
CONFLICT = "conflict"
INVALID = "invalid"
# The storage refused an upload (full, read-only disk; linli.storage), and a per-person
# upload quota (linli.uploads): not the client's fault, and worth retrying later.
STORAGE_UNAVAILABLE = "storage_unavailable"
RATE_LIMITED = "rate_limited"
# Codes that mean "the row moved on under you" besides CONFLICT: a case or claim whose state
# no longer allows the step, a deliberation round already open or closed, a survey already
# answered by this resident.
CONFLICT_CODES = frozenset(
    {CONFLICT, "illegal_transition", "round_open", "round_closed", "already_responded"}
)


class NotVisible(Http404):
    """Not found, or outside the caller's scope (the two are indistinguishable). `field`
    names the request value that pointed at the row; the API puts it in the error body."""

    def __init__(self, field: str | None = None):
        super().__init__(field or "")
        self.field = field


class _Refusal(ValidationError):
    code_name = INVALID

    def __init__(self, message, *, field: str | None = None, code: str | None = None):
        error = ValidationError(message, code=code or self.code_name)
        super().__init__({field: error} if field else error)


class NotAllowed(_Refusal):
    """The caller may not do this (403)."""

    code_name = PERMISSION_DENIED


class Conflict(_Refusal):
    """The row moved on under the caller (409)."""

    code_name = CONFLICT


class Invalid(_Refusal):
    """The input is wrong (400); `field` names it."""

    code_name = INVALID


class RateLimited(_Refusal):
    """Too many tries in a while (429): codes requested, logins, uploads. Worth retrying
    later; the message says when."""

    code_name = RATE_LIMITED


def error_codes(error: ValidationError) -> set[str | None]:
    """Every code in a refusal, whatever its shape (message, list or per-field dict)."""
    if hasattr(error, "error_dict"):
        return {item.code for items in error.error_dict.values() for item in items}
    return {getattr(item, "code", None) for item in error.error_list}


def _status_of(codes: set[str | None]) -> int:
    if PERMISSION_DENIED in codes:
        return 403
    if codes & CONFLICT_CODES:
        return 409
    if STORAGE_UNAVAILABLE in codes:
        return 503
    if RATE_LIMITED in codes:
        return 429
    return 400


# Which refusal speaks for a refusal of several fields: a denial before a conflict before the
# server's trouble before a wrong input.
_PRECEDENCE = {403: 0, 409: 1, 503: 2, 429: 3, 400: 4}


def error_field(error: ValidationError) -> str | None:
    """The field whose refusal sets the status: the first of the strongest kind (None for a
    refusal of the request as a whole). Its message is the one an answer shows."""
    if not hasattr(error, "error_dict"):
        return None
    field, _ = min(
        error.error_dict.items(),
        key=lambda item: _PRECEDENCE[_status_of({entry.code for entry in item[1]})],
    )
    return None if field == "__all__" else field


def status_for(error: ValidationError) -> int:
    """The HTTP status of a refusal, for the API and the web alike."""
    return _status_of(error_codes(error))


def get_visible_or_404(queryset: QuerySet, pk, *, field: str | None = None):
    """One row of a scoped queryset. Absent, out of scope and a malformed id all answer the
    same 404, naming `field` when the id came from the request."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotVisible(field) from None
