from celery import shared_task

from linli.participation.activities.services import reminders_send


@shared_task(name="participation.remind_upcoming")
def remind_upcoming() -> int:
    """The scheduled sweep (Celery beat): a reminder in the inbox about a day ahead."""
    return reminders_send()


@shared_task(name="participation.rebuild_ties")
def rebuild_ties() -> int:
    """Nightly (Celery beat): the co-participation network of every street, stored."""
    from linli.participation.ties.services import ties_rebuild_all

    return ties_rebuild_all()
