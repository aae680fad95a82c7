from celery import shared_task

from linli.cases.services import cases_escalate_overdue


@shared_task(name="cases.escalate_overdue")
def escalate_overdue() -> int:
    """The scheduled sweep (Celery beat): overdue cases go one level up the grid."""
    return cases_escalate_overdue()
