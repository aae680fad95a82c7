from celery import shared_task

from linli.participation.services import reminders_send


@shared_task(name="participation.remind_upcoming")
def remind_upcoming() -> int:
    """The scheduled sweep (Celery beat): a reminder in the inbox about a day ahead."""
    return reminders_send()
