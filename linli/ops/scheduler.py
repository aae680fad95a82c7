"""`linli scheduler`: runs each periodic job (settings.LINLI_JOBS) when it is due.

The scheduler runs the jobs itself, each in one of a few threads of its own, rather than
sending them to the Celery worker: periodic work then needs no broker at all (the embedded
default has none to spare, and a Redis outage does not stop escalations), the process that
ran a job is the one that records how it went, and a slow job (a 12 s weekly snapshot) never
holds up a quick one (the 30 s outbox sweep). Each job is still its Celery task, called in
this process, so the code is the same whoever runs it.

Several schedulers may run at once (on several hosts, or a second one started by mistake):
a job is run by whoever takes its lease, with one conditional UPDATE that succeeds for
exactly one of them (`JobState.lease_expires_at < now`), on SQLite and PostgreSQL alike.
The lease is renewed while the job runs and given back when it ends; a scheduler that dies
lets it expire, and the job runs again once it has. A job that was due while nothing ran
runs once when a scheduler comes back, then keeps its schedule from there.
"""

import json
import logging
import os
import queue
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connections,
    transaction,
)
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F, Q

from linli import clock
from linli.ops.jobs import Job, registry
from linli.ops.models import JobOutcome, JobRun, JobState, SchedulerHeartbeat

logger = logging.getLogger(__name__)

# The newest runs kept per job: at one run every 30 s, about an hour and a half of history;
# at one a week, years of it. Runs and failures since records began are counted in JobState.
KEEP_RUNS_PER_JOB = 200
# Heartbeats of schedulers gone this long are removed.
KEEP_HEARTBEATS = timedelta(days=1)
# Stored texts are cut to these lengths (the full traceback goes to the log).
RESULT_LENGTH = 200
ERROR_LENGTH = 2000


def runner_identity() -> str:
    """host:pid:random — unique per process, readable on the jobs page."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def unapplied_migrations() -> list[str]:
    """The migrations `migrate` would apply, as "app.name" (what `migrate --check` checks)."""
    executor = MigrationExecutor(connections["default"])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def tick_seconds() -> float:
    return float(settings.LINLI_SCHEDULER_TICK_SECONDS)


def celery_task(name: str):
    from django.utils.module_loading import autodiscover_modules

    from linli.celery import app

    # Tasks are registered when their modules are imported: every app's `tasks` module, as
    # a worker imports them at start (without the worker's model checks on every call).
    autodiscover_modules("tasks")
    try:
        return app.tasks[name]
    except KeyError:
        raise LookupError(f"No Celery task is registered under the name {name!r}.") from None


@dataclass
class Claim:
    job: Job
    run_id: int
    scheduled_for: datetime | None
    started_at: datetime
    started: float  # time.monotonic() at the start, for the duration


class Scheduler:
    def __init__(
        self,
        *,
        owner: str | None = None,
        threads: int | None = None,
        jobs: list[Job] | None = None,
        lease: timedelta | None = None,
    ) -> None:
        self.owner = owner or runner_identity()
        self.threads = max(1, threads or settings.LINLI_SCHEDULER_THREADS)
        self.jobs = jobs if jobs is not None else registry()
        self.lease = lease or timedelta(seconds=settings.LINLI_JOB_LEASE_SECONDS)
        self.started_at = clock.now()
        self._running: dict[str, Claim] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[Claim | None] = queue.Queue()
        self._wake = threading.Event()
        self._workers: list[threading.Thread] = []

    # State in the database ----------------------------------------------------------------------

    def sync_states(self, now: datetime) -> None:
        """A state row for every job in settings; a changed schedule is worked out again."""
        existing = {state.name: state for state in JobState.objects.all()}
        for job in self.jobs:
            state = existing.get(job.name)
            if state is None:
                try:
                    with transaction.atomic():
                        JobState.objects.create(
                            name=job.name,
                            schedule=job.schedule_key,
                            next_run_at=job.first_run(now),
                        )
                except IntegrityError:
                    pass  # another scheduler created it a moment ago
            elif state.schedule != job.schedule_key:
                since = state.last_started_at
                JobState.objects.filter(pk=state.pk, schedule=state.schedule).update(
                    schedule=job.schedule_key,
                    next_run_at=job.next_after(since) if since else job.first_run(now),
                )

    def beat(self, now: datetime) -> None:
        """This process is alive; also renews the leases of the jobs it is running."""
        updated = SchedulerHeartbeat.objects.filter(owner=self.owner).update(
            beat_at=now, stopped_at=None
        )
        if not updated:
            SchedulerHeartbeat.objects.create(
                owner=self.owner,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                started_at=self.started_at,
                beat_at=now,
            )
        with self._lock:
            running = list(self._running)
        if running:
            JobState.objects.filter(name__in=running, lease_owner=self.owner).update(
                lease_expires_at=now + self.lease
            )

    def prune_heartbeats(self, now: datetime) -> None:
        SchedulerHeartbeat.objects.filter(beat_at__lt=now - KEEP_HEARTBEATS).delete()

    def claim(self, job: Job, now: datetime) -> Claim | None:
        """Take the job's lease if it is due and nobody holds it; record the run's start."""
        taken = (
            JobState.objects.filter(name=job.name, next_run_at__lte=now)
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
            .update(
                lease_owner=self.owner,
                lease_expires_at=now + self.lease,
                last_started_at=now,
                last_scheduled_for=F("next_run_at"),
                last_outcome=JobOutcome.RUNNING,
            )
        )
        if not taken:
            return None
        # Whoever ran it before and never said how it went (its process died) was cut short.
        JobRun.objects.filter(job=job.name, outcome=JobOutcome.RUNNING).update(
            outcome=JobOutcome.INTERRUPTED
        )
        scheduled_for = (
            JobState.objects.filter(name=job.name).values_list("next_run_at", flat=True).first()
        )
        run = JobRun.objects.create(
            job=job.name,
            runner=self.owner,
            scheduled_for=scheduled_for,
            started_at=now,
            outcome=JobOutcome.RUNNING,
        )
        return Claim(
            job=job,
            run_id=run.pk,
            scheduled_for=scheduled_for,
            started_at=now,
            started=time.monotonic(),
        )

    def execute(self, claim: Claim) -> str:
        """Run the job's task here and record the outcome; returns the outcome."""
        job = claim.job
        result_text = error_text = ""
        try:
            result = celery_task(job.task)()
        except Exception as error:
            outcome = JobOutcome.FAILED
            error_text = (f"{type(error).__name__}: {error}")[:ERROR_LENGTH]
            logger.exception("Job %s failed", job.name)
        else:
            outcome = JobOutcome.SUCCEEDED
            result_text = json.dumps(result, default=str, ensure_ascii=False)[:RESULT_LENGTH]
        duration = time.monotonic() - claim.started
        self.finish(claim, outcome=outcome, result=result_text, error=error_text, duration=duration)
        logger.info("Job %s %s in %.2f s: %s", job.name, outcome, duration, result_text)
        return outcome

    def finish(self, claim: Claim, *, outcome: str, result: str, error: str, duration: float):
        job, now = claim.job, clock.now()
        succeeded = outcome == JobOutcome.SUCCEEDED
        JobRun.objects.filter(pk=claim.run_id).update(
            finished_at=now,
            duration_seconds=duration,
            outcome=outcome,
            result=result,
            error=error,
        )
        # From the start of this run: a run that catches up on missed slots is the one run for
        # all of them, and the next is a whole interval (or the next time) away.
        started_at = claim.started_at
        updates = {
            "last_finished_at": now,
            "last_duration_seconds": duration,
            "last_outcome": outcome,
            "last_result": result,
            "last_error": error,
            "run_count": F("run_count") + 1,
            "next_run_at": job.next_after(started_at)
            if succeeded
            else job.next_after_failure(started_at),
            "lease_owner": "",
            "lease_expires_at": None,
        }
        if succeeded:
            updates["last_succeeded_at"] = now
        else:
            updates["failure_count"] = F("failure_count") + 1
        # Only while this process still holds the lease: one that lost it (it stalled past the
        # lease) must not overwrite what the new holder records.
        JobState.objects.filter(name=job.name, lease_owner=self.owner).update(**updates)
        self.prune_runs(job.name)

    def prune_runs(self, job_name: str) -> None:
        boundary = list(
            JobRun.objects.filter(job=job_name)
            .order_by("-id")
            .values_list("id", flat=True)[KEEP_RUNS_PER_JOB : KEEP_RUNS_PER_JOB + 1]
        )
        if boundary:
            JobRun.objects.filter(job=job_name, id__lte=boundary[0]).delete()

    def release_idle(self) -> None:
        """On a clean stop: the heartbeat says so, and no lease of an idle job is left."""
        now = clock.now()
        SchedulerHeartbeat.objects.filter(owner=self.owner).update(beat_at=now, stopped_at=now)
        with self._lock:
            running = list(self._running)
        JobState.objects.filter(lease_owner=self.owner).exclude(name__in=running).update(
            lease_owner="", lease_expires_at=None
        )

    # Running ------------------------------------------------------------------------------------

    def run_due_once(self, *, then_stop: bool = True) -> dict[str, str]:
        """Every due job, one after the other in this thread; returns each one's outcome.

        For `linli scheduler --once` (e.g. from cron), which then says it stopped, and for
        tests (`then_stop=False`: the heartbeat stays that of a running scheduler).
        """
        now = clock.now()
        self.sync_states(now)
        self.beat(now)
        outcomes = {}
        for job in self.jobs:
            claim = self.claim(job, now)
            if claim is not None:
                outcomes[job.name] = self.execute(claim)
        if then_stop:
            self.release_idle()
        return outcomes

    def dispatch_due(self, now: datetime) -> datetime | None:
        """Hand every due, free job to a thread (as many as are idle); returns when the
        earliest job not running here is due."""
        with self._lock:
            running = set(self._running)
        free = self.threads - len(running)
        due_times = dict(
            JobState.objects.filter(name__in=[job.name for job in self.jobs]).values_list(
                "name", "next_run_at"
            )
        )
        earliest = None
        for job in sorted(self.jobs, key=lambda job: due_times.get(job.name) or now):
            if job.name in running:
                continue
            due = due_times.get(job.name)
            if due is None:
                continue
            if due <= now and free > 0:
                claim = self.claim(job, now)
                if claim is not None:
                    with self._lock:
                        self._running[job.name] = claim
                    self._queue.put(claim)
                    free -= 1
                    continue
            if due > now and (earliest is None or due < earliest):
                earliest = due
        return earliest

    def _work(self) -> None:
        while True:
            claim = self._queue.get()
            if claim is None:
                return
            try:
                self.execute(claim)
            except Exception:
                # Recording the outcome failed (the database went away): the lease runs out
                # and the job is run again; this thread carries on.
                logger.exception("Could not record the run of %s", claim.job.name)
            finally:
                with self._lock:
                    self._running.pop(claim.job.name, None)
                connections.close_all()  # this thread's connections
                self._wake.set()

    def serve_forever(self, stop: threading.Event, *, stop_grace: float = 10.0) -> None:
        """Run jobs as they come due until `stop` is set."""
        tick = tick_seconds()
        for number in range(self.threads):
            worker = threading.Thread(target=self._work, name=f"job-{number}", daemon=True)
            worker.start()
            self._workers.append(worker)
        next_beat = 0.0
        next_prune = 0.0
        while not stop.is_set():
            wait = tick
            close_old_connections()
            try:
                now = clock.now()
                if time.monotonic() >= next_beat:
                    self.sync_states(now)
                    self.beat(now)
                    next_beat = time.monotonic() + tick
                if time.monotonic() >= next_prune:
                    self.prune_heartbeats(now)
                    next_prune = time.monotonic() + 3600
                earliest = self.dispatch_due(now)
                wait = max(0.0, next_beat - time.monotonic())
                if earliest is not None:
                    wait = min(wait, max(0.0, (earliest - clock.now()).total_seconds()))
            except DatabaseError:
                logger.exception("Scheduler: the database did not answer; trying again")
                connections.close_all()
            self._wake.wait(max(wait, 0.05))
            self._wake.clear()
            # A stop request also wakes the loop (see `stop_waker`).
        self.shutdown(stop_grace)

    def stop_waker(self) -> None:
        """Call from a signal handler, after setting the stop event: ends the wait at once."""
        self._wake.set()

    def shutdown(self, grace: float) -> None:
        for _worker in self._workers:
            self._queue.put(None)
        deadline = time.monotonic() + grace
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            still_running = sorted(self._running)
        if still_running:
            # Their leases run out and another scheduler (or this one, restarted) runs them.
            logger.warning("Scheduler stopping with jobs still running: %s", still_running)
        try:
            close_old_connections()
            self.release_idle()
        except DatabaseError:
            logger.exception("Scheduler: could not record the stop")
