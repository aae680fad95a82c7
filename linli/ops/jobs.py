"""The periodic jobs: read from settings.LINLI_JOBS, when each is due, and when it is late.

A job is an existing Celery task run on a schedule, so the same task code runs whoever runs
it (`linli scheduler`, beside `linli serve` or on its own). The settings entry is
`name: {"task": "<celery task name>", "schedule": <seconds | timedelta | crontab>}`, with an
optional "title" (the name shown on the jobs page when the task is not one listed below).
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from celery.schedules import crontab
from celery.schedules import schedule as celery_interval
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

# A job that runs every N is late when nothing started within N plus this of its due time,
# i.e. about two intervals and a bit after the last start.
INTERVAL_GRACE = timedelta(minutes=2)
# A job at set times (daily, weekly) is late this long after the time it was due.
TIMETABLE_ALLOWANCE = timedelta(minutes=30)
# After a failed run the job is tried again this soon (or at its next slot, if sooner): a
# weekly job must not wait a week because the database was restarting.
FAILURE_RETRY = timedelta(minutes=5)

# How the jobs page names each task and reads its result (a count).
TASK_TITLES = {
    "notify.retry_outbox": gettext_lazy("Send notifications still waiting in the outbox"),
    "cases.escalate_overdue": gettext_lazy("Escalate overdue cases up the grid"),
    "resilience.weekly_snapshot": gettext_lazy("Weekly resilience snapshot"),
    "emergency.sweep_tasks": gettext_lazy("Move on unacknowledged emergency tasks"),
    "participation.remind_upcoming": gettext_lazy("Remind people of activities a day ahead"),
    "participation.rebuild_ties": gettext_lazy("Rebuild the network of ties between residents"),
    "idempotency.purge_expired": gettext_lazy("Delete stored answers to retried requests"),
    "privacy.retention_run": gettext_lazy("Anonymise what is past its retention period"),
}
TASK_RESULTS = {
    "notify.retry_outbox": ngettext_lazy(
        "%(count)d message sent", "%(count)d messages sent", "count"
    ),
    "cases.escalate_overdue": ngettext_lazy(
        "%(count)d case escalated", "%(count)d cases escalated", "count"
    ),
    "resilience.weekly_snapshot": ngettext_lazy(
        "%(count)d grid unit measured", "%(count)d grid units measured", "count"
    ),
    "emergency.sweep_tasks": ngettext_lazy(
        "%(count)d task moved on", "%(count)d tasks moved on", "count"
    ),
    "participation.remind_upcoming": ngettext_lazy(
        "%(count)d reminder sent", "%(count)d reminders sent", "count"
    ),
    "participation.rebuild_ties": ngettext_lazy(
        "%(count)d network rebuilt", "%(count)d networks rebuilt", "count"
    ),
    "idempotency.purge_expired": ngettext_lazy(
        "%(count)d expired answer deleted", "%(count)d expired answers deleted", "count"
    ),
    "privacy.retention_run": ngettext_lazy(
        "%(count)d record anonymised", "%(count)d records anonymised", "count"
    ),
}


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    every: timedelta | None = None
    timetable: crontab | None = None
    title_override: str = ""

    # When ----------------------------------------------------------------------------------

    @property
    def schedule_key(self) -> str:
        """The schedule as stable text, stored with the job's state to notice a change."""
        if self.every is not None:
            return f"every {self.every.total_seconds():g}s"
        cron = self.timetable
        return "cron " + " ".join(
            ",".join(str(value) for value in sorted(values))
            for values in (
                cron.minute,
                cron.hour,
                cron.day_of_month,
                cron.month_of_year,
                cron.day_of_week,
            )
        )

    def first_run(self, now: datetime) -> datetime:
        """When a job seen for the first time is due: interval jobs at once, timetabled jobs
        at their next time (a fresh install does not take last week's snapshot at 3 pm)."""
        return now if self.every is not None else self.next_after(now)

    def next_after(self, moment: datetime) -> datetime:
        """The first slot strictly after `moment` (aware, UTC)."""
        if self.every is not None:
            return moment + self.every
        return _timetable_next(self.timetable, moment)

    def next_after_failure(self, moment: datetime) -> datetime:
        return min(self.next_after(moment), moment + FAILURE_RETRY)

    @property
    def allowance(self) -> timedelta:
        """How long past its due time the job may stay unstarted before it is late."""
        if self.every is not None:
            return self.every + INTERVAL_GRACE
        return TIMETABLE_ALLOWANCE

    # In words -------------------------------------------------------------------------------

    @property
    def title(self) -> str:
        return str(self.title_override or TASK_TITLES.get(self.task) or self.name)

    def describe(self) -> str:
        if self.every is not None:
            return _describe_interval(int(self.every.total_seconds()))
        return _describe_timetable(self.timetable)

    def describe_result(self, stored: str) -> str:
        """A run's result (stored as JSON) in words: "3 cases escalated"."""
        if not stored:
            return ""
        try:
            value = json.loads(stored)
        except ValueError:
            return stored
        if isinstance(value, dict) and len(value) == 1:
            (value,) = value.values()
        phrase = TASK_RESULTS.get(self.task)
        if phrase is not None and isinstance(value, int) and not isinstance(value, bool):
            return phrase % {"count": value}
        if value is None:
            return _("Done")
        return stored


def _schedule_parts(name: str, schedule) -> dict:
    if isinstance(schedule, bool):
        raise ImproperlyConfigured(f"LINLI_JOBS[{name!r}]: the schedule must not be a boolean.")
    if isinstance(schedule, int | float):
        every = timedelta(seconds=schedule)
    elif isinstance(schedule, timedelta):
        every = schedule
    elif isinstance(schedule, crontab):
        return {"timetable": schedule}
    elif isinstance(schedule, celery_interval):
        every = schedule.run_every
    else:
        raise ImproperlyConfigured(
            f"LINLI_JOBS[{name!r}]: the schedule must be seconds, a timedelta or a crontab, "
            f"got {schedule!r}."
        )
    if every.total_seconds() < 1:
        raise ImproperlyConfigured(f"LINLI_JOBS[{name!r}]: run at most once a second.")
    return {"every": every}


def registry() -> list[Job]:
    """Every job in settings.LINLI_JOBS, in the order written there."""
    jobs = []
    for name, entry in getattr(settings, "LINLI_JOBS", {}).items():
        if not isinstance(entry, dict) or not entry.get("task") or "schedule" not in entry:
            raise ImproperlyConfigured(
                f"LINLI_JOBS[{name!r}] needs a Celery task name ('task') and a 'schedule'."
            )
        if len(name) > 100:
            raise ImproperlyConfigured(f"LINLI_JOBS[{name!r}]: a name has at most 100 characters.")
        jobs.append(
            Job(
                name=name,
                task=entry["task"],
                title_override=entry.get("title", ""),
                **_schedule_parts(name, entry["schedule"]),
            )
        )
    return jobs


def job_by_name() -> dict[str, Job]:
    return {job.name: job for job in registry()}


# Timetables (crontab) ------------------------------------------------------------------------


def _site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_matches(cron: crontab, day: date) -> bool:
    # Celery's crontab wants every field to match (not cron's "either day field"); its
    # weekdays count from Sunday = 0.
    return (
        day.month in cron.month_of_year
        and day.day in cron.day_of_month
        and day.isoweekday() % 7 in cron.day_of_week
    )


def _timetable_next(cron: crontab, moment: datetime) -> datetime:
    """The first time of the timetable strictly after `moment`, read in the site's zone."""
    zone = _site_zone()
    local = moment.astimezone(zone)
    times = sorted((hour, minute) for hour in cron.hour for minute in cron.minute)
    # 28 years cover every weekday-and-date combination, 29 February on a Monday included.
    for offset in range(366 * 28):
        day = local.date() + timedelta(days=offset)
        if not _day_matches(cron, day):
            continue
        for hour, minute in times:
            candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            if candidate > moment:
                return candidate.astimezone(UTC)
    raise ImproperlyConfigured(f"The timetable {cron!r} never comes round.")


def _describe_interval(seconds: int) -> str:
    for unit_seconds, one, many in (
        (86400, _("Every day"), "days"),
        (3600, _("Every hour"), "hours"),
        (60, _("Every minute"), "minutes"),
    ):
        if seconds % unit_seconds == 0:
            count = seconds // unit_seconds
            if count == 1:
                return one
            if many == "days":
                return ngettext("Every %(count)d day", "Every %(count)d days", count) % {
                    "count": count
                }
            if many == "hours":
                return ngettext("Every %(count)d hour", "Every %(count)d hours", count) % {
                    "count": count
                }
            return ngettext("Every %(count)d minute", "Every %(count)d minutes", count) % {
                "count": count
            }
    return ngettext("Every %(count)d second", "Every %(count)d seconds", seconds) % {
        "count": seconds
    }


def _describe_timetable(cron: crontab) -> str:
    hours, minutes = sorted(cron.hour), sorted(cron.minute)
    every_day = (
        len(cron.day_of_week) == 7
        and len(cron.day_of_month) == 31
        and len(cron.month_of_year) == 12
    )
    if every_day and len(hours) == 24:
        if len(minutes) == 1:
            return _("Every hour at %(minute)02d past") % {"minute": minutes[0]}
        step = minutes[1] - minutes[0]
        if minutes == list(range(minutes[0], 60, step)) and 60 % step == 0:
            return _describe_interval(step * 60)
    if len(hours) * len(minutes) > 6:
        return _("At set times (%(count)d a day)") % {"count": len(hours) * len(minutes)}
    times = ", ".join(f"{hour:02d}:{minute:02d}" for hour in hours for minute in minutes)
    if every_day:
        return _("Every day at %(times)s") % {"times": times}
    if len(cron.day_of_month) == 31 and len(cron.month_of_year) == 12:
        # Django's weekday names count from Monday = 0, Celery's from Sunday = 0.
        days = ", ".join(
            str(WEEKDAYS[(day - 1) % 7])
            for day in sorted(cron.day_of_week, key=lambda d: (d - 1) % 7)
        )
        return _("Every week on %(days)s at %(times)s") % {"days": days, "times": times}
    if len(cron.day_of_week) == 7 and len(cron.month_of_year) == 12:
        days = ", ".join(str(day) for day in sorted(cron.day_of_month))
        return _("Every month on day %(days)s at %(times)s") % {"days": days, "times": times}
    return _("At set times of the year, at %(times)s") % {"times": times}


# Who sees the jobs page -----------------------------------------------------------------------


def may_view_jobs(user) -> bool:
    """Street administrators (on a street or a block) and superusers: the jobs serve the whole
    platform, so nobody below the street sees them."""
    from linli.accounts.roles import Role
    from linli.grids.selectors import scope_for

    scope = scope_for(user)
    return scope.unrestricted or Role.STREET_ADMIN in scope.roles
