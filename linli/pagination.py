"""What every `/api/v1` router shares: the error body and limit/offset pages.

Kept outside the domain apps so that any router (including `notify`, which imports no
domain app) uses the one definition.
"""

from typing import Any

from django.db.models import QuerySet
from ninja import Field, Schema

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
