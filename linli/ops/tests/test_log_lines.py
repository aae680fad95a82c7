"""Log lines a person reads at a terminal: gunicorn's logger shown as "gunicorn" (not
"gunicorn.error"), and a request for an unknown host one warning that names
LINLI_ALLOWED_HOSTS, without a traceback."""

import logging
import re

from django.test import Client

from linli.ops.logging import TextFormatter
from linli.ops.tests.support import captured_logs


def test_gunicorn_lines_name_gunicorn_not_gunicorn_error():
    record = logging.LogRecord(
        "gunicorn.error", logging.INFO, __file__, 1, "Starting gunicorn %s", ("27.0.1",), None
    )
    line = TextFormatter().format(record)
    assert line.split(" ", 1)[1] == "INFO gunicorn Starting gunicorn 27.0.1"
    assert record.name == "gunicorn.error"  # other handlers see the record unchanged


def test_a_request_for_an_unknown_host_is_one_warning_naming_linli_allowed_hosts(db, settings):
    settings.ALLOWED_HOSTS = ["linli.example"]
    with captured_logs() as stream:
        response = Client().get("/healthz", HTTP_HOST="scanner.invalid")
    assert response.status_code == 400
    text = stream.getvalue()
    assert "Traceback" not in text and '"exception"' not in text
    security = [line for line in text.splitlines() if "django.security" in line]
    assert len(security) == 1
    # The same record through the text formatter, as a person at a terminal reads it.
    records: list[logging.LogRecord] = []
    capture = logging.Handler()
    capture.emit = records.append
    logger = logging.getLogger("django.security.DisallowedHost")
    logger.addHandler(capture)
    try:
        Client().get("/healthz", HTTP_HOST="scanner.invalid")
    finally:
        logger.removeHandler(capture)
    (record,) = records
    line = TextFormatter().format(record)
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d WARNING django\.security\.DisallowedHost Invalid HTTP_HOST header: "
        r"'scanner\.invalid'\. You may need to add 'scanner\.invalid' to LINLI_ALLOWED_HOSTS\. "
        r"status_code=400 request_id=[0-9a-f]{32}",
        line,
    )
    assert "\n" not in line
