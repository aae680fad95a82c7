from celery import shared_task

from linli.partners.services.notices import waiting_needs_notify


@shared_task(name="partners.notify_waiting_needs")
def notify_waiting_needs() -> int:
    """Daily (LINLI_JOBS): tell the list keepers of needs that waited too long for a claim."""
    return waiting_needs_notify()
