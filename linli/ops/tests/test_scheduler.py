"""The scheduler: jobs run when due, once per slot however long the platform was down, never
twice at once, and a late or failing job (or a silent scheduler) fails readiness."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from linli.conftest import run_together
from linli.ops.jobs import FAILURE_RETRY, registry
from linli.ops.models import JobOutcome, JobRun, JobState, SchedulerHeartbeat
from linli.ops.scheduler import KEEP_RUNS_PER_JOB, Scheduler, celery_task
from linli.ops.scheduling import job_metrics, scheduler_readiness
from linli.ops.tests import jobs_support
from linli.ops.tests.jobs_support import FAILURE_MESSAGE, SHANGHAI, SUNDAY_NOON, TEST_JOBS


@pytest.fixture
def test_jobs(settings):
    settings.LINLI_JOBS = dict(TEST_JOBS)
    settings.LINLI_SCHEDULER_TICK_SECONDS = 10
    jobs_support.RUNS.clear()
    yield settings.LINLI_JOBS
    jobs_support.RUNS.clear()


def runs_of(name: str) -> list[JobRun]:
    return list(JobRun.objects.filter(job=name).order_by("id"))


def test_every_job_in_settings_is_a_registered_celery_task():
    for job in registry():
        assert celery_task(job.task).name == job.task


@pytest.mark.django_db
def test_a_fresh_scheduler_runs_interval_jobs_at_once_and_timetabled_ones_at_their_time(
    test_jobs,
):
    with time_machine.travel(SUNDAY_NOON, tick=False):
        assert Scheduler().run_due_once(then_stop=False) == {"count-every-minute": "succeeded"}
        # Nothing more is due at the same moment, whoever asks.
        assert Scheduler().run_due_once(then_stop=False) == {}
    minute = JobState.objects.get(name="count-every-minute")
    assert minute.next_run_at == SUNDAY_NOON + timedelta(minutes=1)
    assert (minute.run_count, minute.failure_count, minute.last_outcome) == (1, 0, "succeeded")
    assert minute.last_result == "1"
    weekly = JobState.objects.get(name="count-weekly")
    assert weekly.next_run_at == datetime(2027, 3, 8, 1, 30, tzinfo=SHANGHAI)
    assert weekly.run_count == 0
    (run,) = runs_of("count-every-minute")
    assert (run.outcome, run.started_at, run.scheduled_for) == (
        JobOutcome.SUCCEEDED,
        SUNDAY_NOON,
        SUNDAY_NOON,
    )
    assert run.duration_seconds is not None and run.finished_at == SUNDAY_NOON


@pytest.mark.django_db
def test_jobs_missed_while_the_platform_was_down_run_once_when_it_comes_back(test_jobs):
    with time_machine.travel(SUNDAY_NOON, tick=False):
        Scheduler().run_due_once(then_stop=False)
    # Down from Sunday noon to Wednesday 09:00: 4,260 one-minute slots and one Monday 01:30.
    back = datetime(2027, 3, 10, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(back, tick=False):
        outcomes = Scheduler().run_due_once(then_stop=False)
        assert outcomes == {"count-every-minute": "succeeded", "count-weekly": "succeeded"}
        assert Scheduler().run_due_once(then_stop=False) == {}
    assert len(runs_of("count-every-minute")) == 2
    (weekly_run,) = runs_of("count-weekly")
    assert weekly_run.scheduled_for == datetime(2027, 3, 8, 1, 30, tzinfo=SHANGHAI)
    assert weekly_run.started_at == back
    # From there each keeps its own schedule: a minute on, and next Monday 01:30.
    assert JobState.objects.get(name="count-every-minute").next_run_at == back + timedelta(
        minutes=1
    )
    assert JobState.objects.get(name="count-weekly").next_run_at == datetime(
        2027, 3, 15, 1, 30, tzinfo=SHANGHAI
    )
    assert jobs_support.RUNS == ["count", "count", "count"]


@pytest.mark.django_db
def test_a_failing_job_is_recorded_retried_soon_and_fails_readiness_until_it_succeeds(
    test_jobs, settings
):
    settings.LINLI_JOBS = {"flaky": {"task": "ops_tests.fail", "schedule": 3600.0}}
    with time_machine.travel(SUNDAY_NOON, tick=False):
        assert Scheduler().run_due_once(then_stop=False) == {"flaky": "failed"}
        readiness = scheduler_readiness()
    assert not readiness.ok
    assert "failing: flaky (RuntimeError: the gateway did not answer)" in readiness.detail
    assert readiness.data["failing"] == ["flaky"]
    state = JobState.objects.get(name="flaky")
    assert (state.run_count, state.failure_count) == (1, 1)
    assert state.last_error == f"RuntimeError: {FAILURE_MESSAGE}"
    # Tried again in five minutes, not in an hour.
    assert state.next_run_at == SUNDAY_NOON + FAILURE_RETRY
    (run,) = runs_of("flaky")
    assert (run.outcome, run.error) == (JobOutcome.FAILED, f"RuntimeError: {FAILURE_MESSAGE}")

    settings.LINLI_JOBS = {"flaky": {"task": "ops_tests.count", "schedule": 3600.0}}
    with time_machine.travel(SUNDAY_NOON + FAILURE_RETRY, tick=False):
        assert Scheduler().run_due_once(then_stop=False) == {"flaky": "succeeded"}
        readiness = scheduler_readiness()
    assert readiness.ok, readiness.detail
    state.refresh_from_db()
    assert (state.run_count, state.failure_count, state.last_error) == (2, 1, "")


@pytest.mark.django_db
def test_a_job_not_run_when_due_is_late_and_fails_readiness(test_jobs):
    with time_machine.travel(SUNDAY_NOON, tick=False):
        Scheduler().run_due_once(then_stop=False)
        assert scheduler_readiness().ok
    # Due at 12:01; an interval job may be a minute and two more late: at 12:04:01 it is late.
    with time_machine.travel(SUNDAY_NOON + timedelta(minutes=4), tick=False):
        SchedulerHeartbeat.objects.update(beat_at=SUNDAY_NOON + timedelta(minutes=4))
        assert scheduler_readiness().ok
    with time_machine.travel(SUNDAY_NOON + timedelta(minutes=4, seconds=1), tick=False):
        SchedulerHeartbeat.objects.update(beat_at=SUNDAY_NOON + timedelta(minutes=4))
        readiness = scheduler_readiness()
        (metrics,) = [row for row in job_metrics() if row.name == "count-every-minute"]
    assert not readiness.ok
    assert readiness.detail == "late: count-every-minute"
    assert readiness.data["late"] == ["count-every-minute"]
    assert metrics.late and metrics.runs == 1 and metrics.failures == 0
    assert metrics.last_success_at == SUNDAY_NOON.timestamp()


@pytest.mark.django_db
def test_readiness_fails_without_a_scheduler_heartbeat_within_three_ticks(test_jobs):
    readiness = scheduler_readiness()
    assert not readiness.ok
    assert readiness.detail.startswith("no scheduler has ever run")

    with time_machine.travel(SUNDAY_NOON, tick=False):
        scheduler = Scheduler()
        scheduler.sync_states(SUNDAY_NOON)
        scheduler.beat(SUNDAY_NOON)
    with time_machine.travel(SUNDAY_NOON + timedelta(seconds=30), tick=False):
        # Nothing has run yet, but nothing is late either: 30 s is three ticks of 10 s.
        assert scheduler_readiness().ok
    with time_machine.travel(SUNDAY_NOON + timedelta(seconds=31), tick=False):
        readiness = scheduler_readiness()
    assert not readiness.ok
    assert readiness.detail == "no scheduler running: last heartbeat 31 s ago (stale after 30 s)"


@pytest.mark.django_db
def test_a_scheduler_that_stopped_cleanly_is_not_running(test_jobs):
    with time_machine.travel(SUNDAY_NOON, tick=False):
        Scheduler().run_due_once()  # beats, runs, then says it stopped
        readiness = scheduler_readiness()
    assert not readiness.ok
    assert readiness.detail.startswith("no scheduler running: last heartbeat 0 s ago")


@pytest.mark.django_db
def test_a_job_leased_by_another_scheduler_waits_until_the_lease_runs_out(test_jobs, settings):
    settings.LINLI_JOB_LEASE_SECONDS = 120
    with time_machine.travel(SUNDAY_NOON, tick=False):
        first = Scheduler(owner="host-a:1:aaaaaa")
        first.sync_states(SUNDAY_NOON)
        job = next(job for job in first.jobs if job.name == "count-every-minute")
        claim = first.claim(job, SUNDAY_NOON)
        assert claim is not None
        # The first scheduler dies here, with its run unfinished and the lease held.
        assert Scheduler(owner="host-b:2:bbbbbb").run_due_once(then_stop=False) == {}
    with time_machine.travel(SUNDAY_NOON + timedelta(seconds=119), tick=False):
        assert Scheduler(owner="host-b:2:bbbbbb").run_due_once(then_stop=False) == {}
    with time_machine.travel(SUNDAY_NOON + timedelta(seconds=121), tick=False):
        assert Scheduler(owner="host-b:2:bbbbbb").run_due_once(then_stop=False) == {
            "count-every-minute": "succeeded"
        }
    interrupted, finished = runs_of("count-every-minute")
    assert (interrupted.runner, interrupted.outcome) == ("host-a:1:aaaaaa", JobOutcome.INTERRUPTED)
    assert (finished.runner, finished.outcome) == ("host-b:2:bbbbbb", JobOutcome.SUCCEEDED)
    # The dead scheduler, if it came back, could not record over the new holder's run.
    first.finish(claim, outcome=JobOutcome.FAILED, result="", error="late", duration=200.0)
    state = JobState.objects.get(name="count-every-minute")
    assert (state.last_outcome, state.run_count, state.lease_owner) == ("succeeded", 1, "")


@pytest.mark.django_db
def test_a_changed_schedule_is_worked_out_again_from_the_last_start(test_jobs, settings):
    with time_machine.travel(SUNDAY_NOON, tick=False):
        Scheduler().run_due_once(then_stop=False)
    settings.LINLI_JOBS = {"count-every-minute": {"task": "ops_tests.count", "schedule": 3600}}
    with time_machine.travel(SUNDAY_NOON + timedelta(minutes=5), tick=False):
        assert Scheduler().run_due_once(then_stop=False) == {}
    state = JobState.objects.get(name="count-every-minute")
    assert (state.schedule, state.next_run_at) == ("every 3600s", SUNDAY_NOON + timedelta(hours=1))


@pytest.mark.django_db
def test_run_history_keeps_the_newest_runs_of_each_job(test_jobs, settings):
    settings.LINLI_JOBS = {"count-every-minute": TEST_JOBS["count-every-minute"]}
    moment = SUNDAY_NOON
    with time_machine.travel(moment, tick=False):
        Scheduler().run_due_once(then_stop=False)
    JobRun.objects.bulk_create(
        JobRun(
            job="count-every-minute",
            runner="old",
            started_at=moment - timedelta(minutes=number),
            outcome=JobOutcome.SUCCEEDED,
        )
        for number in range(1, KEEP_RUNS_PER_JOB + 20)
    )
    JobRun.objects.create(
        job="another-job", runner="old", started_at=moment, outcome=JobOutcome.SUCCEEDED
    )
    with time_machine.travel(moment + timedelta(minutes=1), tick=False):
        Scheduler().run_due_once(then_stop=False)
    kept = JobRun.objects.filter(job="count-every-minute")
    assert kept.count() == KEEP_RUNS_PER_JOB
    assert kept.filter(runner="old").count() == KEEP_RUNS_PER_JOB - 1
    assert JobRun.objects.filter(job="another-job").count() == 1


# Real threads need a database that several connections share: PostgreSQL (the SQLite test
# database lives in memory; test_scheduler_processes.py runs schedulers as processes on an
# SQLite file).
on_postgresql = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real threads on PostgreSQL"),
]


def apply(marks):
    def decorate(function):
        for mark in reversed(marks):
            function = mark(function)
        return function

    return decorate


@apply(on_postgresql)
def test_two_schedulers_at_once_run_a_due_job_once(test_jobs, settings):
    settings.LINLI_JOBS = {"slow": {"task": "ops_tests.slow", "schedule": 3600.0}}
    outcomes: list[dict] = []
    schedulers = [Scheduler(owner=f"host-{letter}:1:000000") for letter in "abcd"]
    for scheduler in schedulers[:1]:
        scheduler.sync_states(datetime.now(UTC))
    errors = run_together(*(lambda s=s: outcomes.append(s.run_due_once()) for s in schedulers))
    assert errors == []
    assert sorted(len(outcome) for outcome in outcomes) == [0, 0, 0, 1]
    assert jobs_support.RUNS == ["slow"]
    (run,) = runs_of("slow")
    assert run.outcome == JobOutcome.SUCCEEDED


@apply(on_postgresql)
def test_a_quick_job_does_not_wait_for_a_slow_one(test_jobs, settings):
    settings.LINLI_JOBS = {
        "slow": {"task": "ops_tests.slow", "schedule": 3600.0},
        "quick": {"task": "ops_tests.count", "schedule": 3600.0},
    }
    scheduler = Scheduler(threads=2)
    stop = threading.Event()
    loop = threading.Thread(target=scheduler.serve_forever, args=(stop,), kwargs={"stop_grace": 5})
    loop.start()
    try:
        deadline = time.monotonic() + 20
        while JobRun.objects.filter(outcome=JobOutcome.SUCCEEDED).count() < 2:
            assert time.monotonic() < deadline, "the two jobs did not both finish within 20 s"
            time.sleep(0.05)
    finally:
        stop.set()
        scheduler.stop_waker()
        loop.join(10)
    slow, quick = runs_of("slow")[0], runs_of("quick")[0]
    assert quick.finished_at < slow.finished_at
    assert jobs_support.RUNS == ["count", "slow"]
    heartbeat = SchedulerHeartbeat.objects.get(owner=scheduler.owner)
    assert heartbeat.stopped_at is not None
    assert not JobState.objects.exclude(lease_owner="").exists()
