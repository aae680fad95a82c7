"""Text that goes into a length-limited column: stored whole or refused naming the field, never
cut silently (issue 13, item 19). Below the domain apps, so any service may use it."""

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


def column_fit(value: str | None, model, name: str, *, field: str | None = None) -> str:
    """`value` stripped, or a ValidationError naming `field` (default: the column's name) when
    it is longer than `model.name` holds. The message is Django's own max-length message."""
    text = (value or "").strip()
    limit = model._meta.get_field(name).max_length
    if limit is not None and len(text) > limit:
        raise ValidationError(
            {
                field or name: ngettext(
                    "Ensure this value has at most %(limit_value)d character (it has "
                    "%(show_value)d).",
                    "Ensure this value has at most %(limit_value)d characters (it has "
                    "%(show_value)d).",
                    limit,
                )
                % {"limit_value": limit, "show_value": len(text)}
            },
            code="max_length",
        )
    return text
