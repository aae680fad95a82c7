"""Test tasks for the scheduler tests: they count their runs, fail, or take their time.

Registered on the project's Celery app under names no real job uses, so that the scheduler
runs them exactly as it runs the real tasks.
"""

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from celery.schedules import crontab

from linli.celery import app

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Sunday noon in the site's zone: the weekly job (Monday 01:30) is due 13.5 hours later.
SUNDAY_NOON = datetime(2027, 3, 7, 12, 0, tzinfo=SHANGHAI)

RUNS: list[str] = []
_runs_lock = threading.Lock()
FAILURE_MESSAGE = "the gateway did not answer"


@app.task(name="ops_tests.count")
def count_run(*args, **kwargs) -> int:
    with _runs_lock:
        RUNS.append("count")
        return len(RUNS)


@app.task(name="ops_tests.fail")
def fail_run() -> None:
    raise RuntimeError(FAILURE_MESSAGE)


@app.task(name="ops_tests.slow")
def slow_run() -> int:
    # Long enough for a second scheduler to try for the same job while this one runs.
    time.sleep(0.5)
    with _runs_lock:
        RUNS.append("slow")
    return 1


TEST_JOBS = {
    "count-every-minute": {"task": "ops_tests.count", "schedule": 60.0},
    "count-weekly": {
        "task": "ops_tests.count",
        "schedule": crontab(hour=1, minute=30, day_of_week=1),
    },
}
