from celery import shared_task

from linli.emergency.services import tasks_sweep


@shared_task(name="emergency.sweep_tasks")
def sweep_tasks() -> dict:
    """The scheduled sweep (Celery beat): tasks left unacknowledged past the plan's time
    go to the next best volunteer."""
    return tasks_sweep()
