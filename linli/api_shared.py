"""What every `/api/v1` router shares: the error body, limit/offset pages, the 404 that
names the field it could not find, and the 409 for a row that moved on under the caller.

Kept outside the domain apps so that any router (including `notify`, which imports no
domain app) uses the one definition.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from ninja import Field, Schema, Status

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class ErrorOut(Schema):
    message: str
    field: str | None = None


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class PageIn(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


def paginate(queryset: QuerySet, page: PageIn) -> tuple[list, int]:
    # Two queries whatever the page size: the count, then the page itself.
    count = queryset.count()
    return list(queryset[page.offset : page.offset + page.limit]), count


class NotVisible(Http404):
    """Not found, or outside the caller's scope (the two are indistinguishable). The API's
    404 handler puts `field` in the error body."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


def visible_or_404(getter, field: str, **kwargs):
    """Call a scoped `*_get` selector; its 404 names the request field that pointed at it."""
    try:
        return getter(**kwargs)
    except Http404:
        raise NotVisible(field) from None


def conflict_or_raise(exc: ValidationError, conflict_codes: frozenset[str]):
    """409 when the refusal means the row moved on under the caller (a stale version, a step
    the state no longer allows, nothing left to claim): the client reloads and retries.
    Any other refusal is raised again for the API's 400/403 handler."""
    if hasattr(exc, "error_dict"):
        codes = {error.code for errors in exc.error_dict.values() for error in errors}
        field = next(iter(exc.error_dict))
    else:
        codes = {error.code for error in exc.error_list}
        field = None
    if codes & conflict_codes:
        return Status(409, {"message": exc.messages[0], "field": field})
    raise exc
