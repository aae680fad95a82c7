"""What the emergency pages share."""

from django.core.exceptions import ValidationError


def refusal_words(error: ValidationError) -> str:
    """A service's refusal in its own words, for a message or a 403 page."""
    return " ".join(error.messages)


def int_or_none(value) -> int | None:
    """A posted id or version, or None when it is not a whole number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
