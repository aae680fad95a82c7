"""What every `/api/v1` router shares: the error body, limit/offset pages, the bounded
input types and the 404 that names the field it could not find. Refusals and their statuses
(403, 409, …) are linli.errors', answered once by the API's handler (linli/api.py).

Kept outside the domain apps so that any router (including `notify`, which imports no
domain app) uses the one definition.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from linli.errors import NotVisible

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Far past any list's end, far below what a database's OFFSET overflows at.
MAX_OFFSET = 1_000_000

# The bounds of every date and moment the API accepts: nothing Linli records (visits,
# activities, hours, expiry, agreements) happened before 2000 or is planned past 2100, and a
# year such as 0001 or 9999 would overflow once moved to UTC or stepped by a period.
MIN_YEAR = 2000
MAX_YEAR = 2100
DATE_BOUNDS = f"between {MIN_YEAR}-01-01 and {MAX_YEAR}-12-31"

# Free text kept in a TextField (notes, descriptions, reasons): the one limit the API
# states and enforces, so nothing is cut silently.
TEXT_MAX_LENGTH = 5000
# The largest integer a PostgreSQL `integer` column holds: counts, quantities, minutes.
MAX_INT = 2_147_483_647


class ErrorOut(Schema):
    message: str
    field: str | None = None


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# A write's answers besides its success: the refusals of linli.errors (400 invalid, 403 not
# allowed, 409 moved on under the caller) and the rest of ERRORS.
WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 409: ErrorOut, **ERRORS}


def _within_years(value: date) -> date:
    # Checked on the moment as sent and in UTC: 2100-12-31T23:00:00-14:00 is 2101 in UTC.
    moments = [value]
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            moments.append(value.astimezone(UTC))
        except OverflowError:
            moments.append(datetime.min)
    if any(not MIN_YEAR <= moment.year <= MAX_YEAR for moment in moments):
        raise PydanticCustomError(
            "date_out_of_range",
            _("Enter a date between %(min)s-01-01 and %(max)s-12-31.")
            % {"min": MIN_YEAR, "max": MAX_YEAR},
        )
    return value


# A day or a moment within MIN_YEAR..MAX_YEAR (a moment also once moved to UTC); the bound
# is stated in the OpenAPI document.
BoundedDate = Annotated[
    date,
    AfterValidator(_within_years),
    Field(description=f"A day {DATE_BOUNDS}", json_schema_extra={"x-bounds": DATE_BOUNDS}),
]
BoundedDateTime = Annotated[
    datetime,
    AfterValidator(_within_years),
    Field(description=f"A moment {DATE_BOUNDS}", json_schema_extra={"x-bounds": DATE_BOUNDS}),
]
# Volunteer service hours: what a DecimalField(max_digits=6, decimal_places=2) holds, at
# most a day at a time. `6e240` or `inf` is refused, not rounded into a 500.
Hours = Annotated[Decimal, Field(gt=0, le=24, max_digits=6, decimal_places=2, allow_inf_nan=False)]
# A correction takes hours away or adds them, up to what the ledger's column holds.
CorrectionHours = Annotated[
    Decimal, Field(ge=-9999.99, le=9999.99, max_digits=6, decimal_places=2, allow_inf_nan=False)
]
Latitude = Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6)]
Longitude = Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6)]
LongText = Annotated[str, Field(max_length=TEXT_MAX_LENGTH)]
# A row's id, as a path, query or body value: what the database's key column can hold.
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
# A number that only has to fit an `integer` column (versions, signed quantities).
Int32 = Annotated[int, Field(ge=-MAX_INT, le=MAX_INT)]
# A weight or a target: finite, and far from where float arithmetic stops meaning anything.
Real = Annotated[float, Field(ge=-1_000_000_000, le=1_000_000_000, allow_inf_nan=False)]
# A span added to now (due hours, SLA hours, minutes between retries): within a year, so
# that now plus it is still a date.
HoursSpan = Annotated[int, Field(ge=0, le=24 * 366)]
DaysSpan = Annotated[int, Field(ge=0, le=366)]


def column_text(model, name: str) -> Any:
    """A string input stored in `model.name`: at most what the column holds (a TextField's
    `max_length`, else TEXT_MAX_LENGTH), stated in the schema as maxLength and refused with
    the field named, never cut."""
    field = model._meta.get_field(name)
    return Annotated[str, Field(max_length=field.max_length or TEXT_MAX_LENGTH)]


def column_int(model, name: str) -> Any:
    """An integer input stored in `model.name`: within the column's range on every database
    (a PositiveSmallIntegerField holds 0..32767) and its model validators."""
    from django.core.validators import MaxValueValidator, MinValueValidator
    from django.db.backends.base.operations import BaseDatabaseOperations

    field = model._meta.get_field(name)
    low, high = BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()]
    for validator in field._validators:
        if isinstance(validator, MinValueValidator):
            low = max(low, validator.limit_value)
        elif isinstance(validator, MaxValueValidator):
            high = min(high, validator.limit_value)
    return Annotated[int, Field(ge=low, le=high)]


class PageIn(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def paginate(queryset: QuerySet, page: PageIn) -> tuple[list, int]:
    # Two queries whatever the page size: the count, then the page itself.
    count = queryset.count()
    return list(queryset[page.offset : page.offset + page.limit]), count


def visible_or_404(getter, field: str, **kwargs):
    """Call a scoped `*_get` selector; its 404 names the request field that pointed at it."""
    try:
        return getter(**kwargs)
    except Http404:
        raise NotVisible(field) from None
