"""The one clock: every piece of code reads the time through `now()` or `localdate()`.

Tests pin it with time-machine (`time_machine.travel`), which moves every reader at once;
keeping one entry point makes "what time does this code think it is" a single question.
Model fields keep `default=timezone.now`: pointing them here would rewrite every app's
migrations for nothing, since time-machine moves `timezone.now` too. Durations inside one
process (timeouts, back-off of a supervisor) use `time.monotonic()`, which is not a date.
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
