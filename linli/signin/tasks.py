"""The periodic purge of old codes and reset requests (linli/settings.py schedules it hourly)."""

from linli.celery import app
from linli.signin.services import signin_records_purge


@app.task(name="signin.purge_expired")
def purge_expired() -> int:
    return signin_records_purge()
