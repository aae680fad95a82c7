"""What the capacity indicators share: the drill-down's row limit, the community and the
last day of a period, and the serving volunteers (one grouped query, memoised on the
context, read by the volunteer, skill and redundancy indicators)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from linli.accounts.grid_paths import path_at_depth, path_depth
from linli.resilience.engine import Context
from linli.volunteers.models import SERVING_STATUSES, Volunteer
from linli.volunteers.selectors import COMMUNITY_DEPTH

DRILLDOWN_LIMIT = 200


def community_path_of(path: str) -> str | None:
    """`/S/B/A/A1/` → `/S/B/A/`; None above the community level."""
    if path_depth(path) < COMMUNITY_DEPTH:
        return None
    return path_at_depth(path, COMMUNITY_DEPTH)


def last_day(context: Context) -> date:
    """The last calendar day of the period (`end` is exclusive)."""
    return timezone.localdate(context.end - timedelta(microseconds=1))


def day_text(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "—"


def serving_volunteers(context: Context) -> list[tuple[str, str, int]]:
    """(grid path, skills, how many) of the serving volunteers registered before the end:
    one grouped query shared by the volunteer, skill and redundancy indicators."""

    def fetch():
        return list(
            Volunteer.objects.filter(
                grid_path__startswith=context.root_path,
                status__in=SERVING_STATUSES,
                created_at__lt=context.end,
            )
            .values("grid_path", "skills")
            .annotate(n=Count("id"))
            .values_list("grid_path", "skills", "n")
            .order_by()
        )

    return context.memo("capacity.volunteers", fetch)
