"""The jobs page (/ops/jobs/): is the clock-driven half of the platform running?

For street administrators and superusers; anyone else gets 404, as for any page outside
their posts. Each job: its schedule in words, the last run (start, duration, result), the
next run and the recent runs; a late or failing job, or a silent scheduler, is an alert at
the top of the page (the same conditions fail /readyz).
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.cache import never_cache

from linli import clock
from linli.ops.jobs import may_view_jobs
from linli.ops.models import JobOutcome
from linli.ops.scheduling import JobStatus, heartbeat_status, job_statuses

RECENT_RUNS = 10


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return _("%(seconds)s s") % {
            "seconds": f"{seconds:.2f}" if seconds < 10 else f"{seconds:.0f}"
        }
    minutes, rest = divmod(int(round(seconds)), 60)
    return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": rest}


def age_text(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return ngettext("%(count)d second ago", "%(count)d seconds ago", seconds) % {
            "count": seconds
        }
    if seconds < 2 * 3600:
        minutes = seconds // 60
        return ngettext("%(count)d minute ago", "%(count)d minutes ago", minutes) % {
            "count": minutes
        }
    if seconds < 2 * 86400:
        hours = seconds // 3600
        return ngettext("%(count)d hour ago", "%(count)d hours ago", hours) % {"count": hours}
    days = seconds // 86400
    return ngettext("%(count)d day ago", "%(count)d days ago", days) % {"count": days}


def with_commands(text: str, **values: str) -> SafeString:
    """A translated alert with the command names in <code>: the translation is escaped, then
    %(serve)s and %(scheduler)s become `linli serve` and `linli scheduler` in code type."""
    commands = {
        "serve": format_html("<code>{}</code>", "linli serve"),
        "scheduler": format_html("<code>{}</code>", "linli scheduler"),
    }
    escaped = {name: conditional_escape(value) for name, value in values.items()}
    return mark_safe(conditional_escape(text) % {**commands, **escaped})


@dataclass
class RunRow:
    started_at: datetime
    outcome: str
    outcome_label: str
    duration: str
    result: str
    error: str


@dataclass
class JobRow:
    name: str
    title: str
    schedule: str
    status: str  # ok, running, late, failing, new, waiting (no scheduler is running)
    status_label: str
    last_started_at: datetime | None
    last_duration: str
    last_result: str
    last_error: str
    next_run_at: datetime | None
    due_now: bool
    scheduler_alive: bool
    runs: int
    failures: int
    recent: list[RunRow]


def _job_row(status: JobStatus, now: datetime, *, scheduler_alive: bool) -> JobRow:
    job, state = status.job, status.state
    if status.failing:
        code, label = "failing", pgettext("job status", "Failing")
    elif status.late and scheduler_alive:
        code, label = "late", pgettext("job status", "Late")
    elif status.running:
        # A worker may still be finishing a run that a scheduler, since stopped, started.
        code, label = "running", pgettext("job status", "Running")
    elif not scheduler_alive:
        # Nothing will start the job however due it is: "on time" or "late" would mislead.
        code, label = "waiting", pgettext("job status", "Waiting: no scheduler running")
    elif state is None or state.last_started_at is None:
        code, label = "new", pgettext("job status", "Not run yet")
    else:
        code, label = "ok", pgettext("job status", "On time")
    return JobRow(
        name=job.name,
        title=job.title,
        schedule=job.describe(),
        status=code,
        status_label=label,
        last_started_at=state.last_started_at if state else None,
        last_duration=duration_text(state.last_duration_seconds) if state else "",
        last_result=job.describe_result(state.last_result) if state else "",
        last_error=state.last_error if state and status.failing else "",
        next_run_at=state.next_run_at if state else None,
        due_now=bool(state and state.next_run_at and state.next_run_at <= now),
        scheduler_alive=scheduler_alive,
        runs=state.run_count if state else 0,
        failures=state.failure_count if state else 0,
        recent=[
            RunRow(
                started_at=run.started_at,
                outcome=run.outcome,
                outcome_label=JobOutcome(run.outcome).label,
                duration=duration_text(run.duration_seconds),
                result=job.describe_result(run.result),
                error=run.error,
            )
            for run in status.recent_runs
        ],
    )


@never_cache
@login_required
def job_list(request):
    if not may_view_jobs(request.user):
        raise Http404
    now = clock.now()
    statuses = job_statuses(recent=RECENT_RUNS, now=now)
    heartbeat = heartbeat_status(now)
    rows = [_job_row(status, now, scheduler_alive=heartbeat.alive) for status in statuses]
    alerts: list[str] = []
    if heartbeat.age_seconds is None:
        alerts.append(
            with_commands(
                _(
                    "No scheduler has run yet, so no periodic job runs. %(serve)s starts one; "
                    "in production, start the %(scheduler)s service."
                )
            )
        )
    elif not heartbeat.alive:
        alerts.append(
            with_commands(
                _(
                    "The scheduler last reported %(age)s: periodic jobs are not running. "
                    "Restart %(serve)s, or the %(scheduler)s service in production."
                ),
                age=age_text(heartbeat.age_seconds),
            )
        )
    for row in rows:
        if row.status == "failing":
            alerts.append(
                _("“%(job)s” failed on its last run; see its error below.") % {"job": row.title}
            )
        elif row.status == "late":
            alerts.append(_("“%(job)s” is late: it was due and has not run.") % {"job": row.title})
    return render(
        request,
        "ops/jobs.html",
        {
            "rows": rows,
            "alerts": alerts,
            "heartbeat": heartbeat,
            "heartbeat_age": age_text(heartbeat.age_seconds)
            if heartbeat.age_seconds is not None
            else "",
        },
    )
