from celery import shared_task

from linli.grids.importing.runs import import_run_execute


@shared_task(name="grids.import_run")
def import_run_task(run_id: int) -> int:
    """A large registry import (queued by the import page); returns the rows read."""
    run = import_run_execute(run_id=run_id)
    return run.rows_read if run is not None else 0
