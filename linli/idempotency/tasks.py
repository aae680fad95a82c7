"""The periodic purge of expired records (linli/settings.py schedules it hourly)."""

from linli.celery import app
from linli.idempotency.services import idempotency_records_purge


@app.task(name="idempotency.purge_expired")
def purge_expired() -> int:
    return idempotency_records_purge()
