from datetime import timedelta

from celery import shared_task

from linli import clock
from linli.resilience.engine import week_end
from linli.resilience.services import snapshots_take_all


@shared_task(name="resilience.weekly_snapshot")
def weekly_snapshot() -> int:
    """The scheduled snapshot (Celery beat, early Monday) of the week that just closed."""
    return snapshots_take_all(end=week_end(clock.localdate() - timedelta(days=1)))
