"""Contract between the scheduler (jobs) and the operations endpoints (/readyz, /metrics),
and what the jobs page shows: is each periodic job running when due?

A job is *late* when the time it was due is further in the past than its allowance (one
interval and two minutes for jobs that run every N; 30 minutes for jobs at set times) and no
run has picked it up, or when a run has gone on longer than that allowance. It is *failing*
when its last run raised. The scheduler is *alive* while one of its processes has beaten
within three ticks.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from linli import clock
from linli.ops.jobs import Job, registry
from linli.ops.models import JobOutcome, JobRun, JobState, SchedulerHeartbeat


@dataclass
class Readiness:
    ok: bool
    detail: str
    data: dict = field(default_factory=dict)


@dataclass
class JobMetrics:
    name: str
    runs: int
    failures: int
    last_success_at: float | None  # Unix time
    last_duration_seconds: float | None
    late: bool


@dataclass
class JobStatus:
    job: Job
    state: JobState | None
    late: bool
    failing: bool
    running: bool
    recent_runs: list[JobRun] = field(default_factory=list)


@dataclass
class HeartbeatStatus:
    alive: bool
    age_seconds: float | None  # of the freshest heartbeat; None: no scheduler ever ran
    stale_after_seconds: float
    running_schedulers: list[SchedulerHeartbeat]


def heartbeat_stale_after() -> timedelta:
    return timedelta(seconds=3 * float(settings.LINLI_SCHEDULER_TICK_SECONDS))


def is_running(state: JobState, now: datetime) -> bool:
    return (
        state.last_outcome == JobOutcome.RUNNING
        and state.lease_expires_at is not None
        and state.lease_expires_at > now
    )


def is_late(job: Job, state: JobState | None, now: datetime) -> bool:
    if state is None or state.next_run_at is None:
        return False
    deadline = state.next_run_at + job.allowance
    if is_running(state, now) and state.last_started_at is not None:
        deadline = max(deadline, state.last_started_at + job.allowance)
    return now > deadline


def job_statuses(*, recent: int = 0, now: datetime | None = None) -> list[JobStatus]:
    """Every job in settings with its state; `recent` newest runs of each when asked."""
    now = now or clock.now()
    jobs = registry()
    states = {
        state.name: state for state in JobState.objects.filter(name__in=[j.name for j in jobs])
    }
    statuses = []
    for job in jobs:
        state = states.get(job.name)
        statuses.append(
            JobStatus(
                job=job,
                state=state,
                late=is_late(job, state, now),
                failing=state is not None and state.last_outcome == JobOutcome.FAILED,
                running=state is not None and is_running(state, now),
                recent_runs=list(JobRun.objects.filter(job=job.name).order_by("-id")[:recent])
                if recent
                else [],
            )
        )
    return statuses


def heartbeat_status(now: datetime | None = None) -> HeartbeatStatus:
    now = now or clock.now()
    stale_after = heartbeat_stale_after()
    beats = list(SchedulerHeartbeat.objects.order_by("-beat_at"))
    running = [
        beat for beat in beats if beat.stopped_at is None and now - beat.beat_at <= stale_after
    ]
    return HeartbeatStatus(
        alive=bool(running),
        age_seconds=max(0.0, (now - beats[0].beat_at).total_seconds()) if beats else None,
        stale_after_seconds=stale_after.total_seconds(),
        running_schedulers=running,
    )


def scheduler_readiness() -> Readiness:
    """Scheduler heartbeat fresh and no job late or failing."""
    now = clock.now()
    heartbeat = heartbeat_status(now)
    statuses = job_statuses(now=now)
    late = [status.job.name for status in statuses if status.late]
    failing = {
        status.job.name: status.state.last_error.splitlines()[0][:200]
        if status.state.last_error
        else ""
        for status in statuses
        if status.failing
    }
    problems = []
    if heartbeat.age_seconds is None:
        problems.append("no scheduler has ever run (start `linli scheduler` or `linli serve`)")
    elif not heartbeat.alive:
        problems.append(
            f"no scheduler running: last heartbeat {heartbeat.age_seconds:.0f} s ago "
            f"(stale after {heartbeat.stale_after_seconds:.0f} s)"
        )
    if late:
        problems.append("late: " + ", ".join(late))
    if failing:
        problems.append(
            "failing: "
            + "; ".join(f"{name} ({error})" if error else name for name, error in failing.items())
        )
    data = {
        "heartbeat_age_seconds": None
        if heartbeat.age_seconds is None
        else round(heartbeat.age_seconds, 1),
        "schedulers": [beat.owner for beat in heartbeat.running_schedulers],
        "jobs": len(statuses),
        "late": late,
        "failing": sorted(failing),
    }
    if problems:
        return Readiness(ok=False, detail="; ".join(problems), data=data)
    return Readiness(
        ok=True,
        detail=f"scheduler heartbeat {heartbeat.age_seconds:.0f} s ago; "
        f"{len(statuses)} jobs on time",
        data=data,
    )


def job_metrics() -> list[JobMetrics]:
    """Per job: runs and failures since records began, last success, last duration, late."""
    return [
        JobMetrics(
            name=status.job.name,
            runs=status.state.run_count if status.state else 0,
            failures=status.state.failure_count if status.state else 0,
            last_success_at=status.state.last_succeeded_at.timestamp()
            if status.state and status.state.last_succeeded_at
            else None,
            last_duration_seconds=status.state.last_duration_seconds if status.state else None,
            late=status.late,
        )
        for status in job_statuses()
    ]
