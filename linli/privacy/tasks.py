"""The nightly retention run (linli/settings.py schedules it at 03:30, Asia/Shanghai)."""

from linli.celery import app
from linli.privacy.retention import retention_run


@app.task(name="privacy.retention_run")
def run_retention() -> int:
    return sum(outcome.count for outcome in retention_run(dry_run=False))
