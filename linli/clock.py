"""The one clock: every piece of code reads the time through `now()` or `localdate()`.

Tests pin it with time-machine (`time_machine.travel`), which moves every reader at once;
keeping one entry point makes "what time does this code think it is" a single question.
"""

from datetime import date, datetime

from django.utils import timezone


def now() -> datetime:
    """The current moment, aware, in UTC."""
    return timezone.now()


def localdate() -> date:
    """Today in the site's time zone (Asia/Shanghai)."""
    return timezone.localdate(timezone.now())


def localtime(moment: datetime | None = None) -> datetime:
    """`moment` (default: now) in the site's time zone."""
    return timezone.localtime(moment if moment is not None else timezone.now())
