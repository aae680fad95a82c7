"""Log records as one JSON object a line, the request id on every record of a request, and
secrets redacted from every record before any handler writes it.

`settings.LOGGING` puts the filters on every handler (a filter on a handler sees the records
that propagate from child loggers; a filter on a logger would not), and `linli serve` puts
them on gunicorn's own error log through `GunicornLogger`.
"""

import json
import logging
import os
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from gunicorn import glogging

REDACTED = "[REDACTED]"

# The request id of the request this thread is serving, for every record logged meanwhile.
current_request_id: ContextVar[str] = ContextVar("linli_request_id", default="")

# Names whose values are secrets wherever they appear: query strings (Open311's api_key, the
# WeCom webhook's key), form bodies, dict or JSON dumps, header dumps.
_SECRET_NAMES = (
    r"api_?key|access_token|refresh_token|token|password|passwd|secret|secret_key|field_key"
    r"|key|signature|sessionid|csrftoken|csrfmiddlewaretoken"
)
# `name: "value"`, `'name': 'value'`, `name='value'` (dicts, JSON, keyword reprs); Django's
# request META dumps name the headers HTTP_AUTHORIZATION and HTTP_COOKIE.
_QUOTED_VALUE = re.compile(
    r"(?i)(?<![A-Za-z0-9])((?:http_)?(?:" + _SECRET_NAMES + r"|authorization|cookie)"
    r"[\"']?\s*[:=]\s*)([\"'])(?:(?!\2).)*\2"
)
# `name=value` in a query string or form body: the value runs to the next separator.
_PARAMETER = re.compile(r"(?i)(?<![A-Za-z0-9])((?:" + _SECRET_NAMES + r")=)[^&\s\"'#;,]+")
# Header lines as written by hand or by an HTTP library: the whole value is the secret.
_HEADER_LINE = re.compile(
    r"(?im)^(\s*(?:authorization|proxy-authorization|cookie|set-cookie|x-api-key)\s*:\s*).+$"
)
_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
# scheme://user:password@host (database, Redis and broker URLs).
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@")


def configured_secrets() -> list[str]:
    """The secret values in the settings, so that they are redacted in whatever form they
    appear (an exception message that quotes a URL, a repr of a client object)."""
    from django.conf import settings

    if not settings.configured:
        return []
    values = [
        getattr(settings, "SECRET_KEY", ""),
        getattr(settings, "FIELD_ENCRYPTION_KEY", ""),
        getattr(settings, "LINLI_SMS_GATEWAY_TOKEN", ""),
        getattr(settings, "EMAIL_HOST_PASSWORD", ""),
        getattr(settings, "LINLI_METRICS_TOKEN", ""),
    ]
    webhook_key = re.search(r"[?&]key=([^&#]+)", getattr(settings, "LINLI_WECOM_WEBHOOK_URL", ""))
    if webhook_key:
        values.append(webhook_key.group(1))
    values.extend(
        database.get("PASSWORD", "") for database in getattr(settings, "DATABASES", {}).values()
    )
    # Short values would redact ordinary words; every real secret here is longer.
    return sorted({value for value in values if isinstance(value, str) and len(value) >= 6})


def redact(text: str) -> str:
    """`text` with every secret it may hold replaced by [REDACTED]."""
    for secret in configured_secrets():
        text = text.replace(secret, REDACTED)
    text = _QUOTED_VALUE.sub(lambda match: f"{match[1]}{match[2]}{REDACTED}{match[2]}", text)
    text = _PARAMETER.sub(rf"\1{REDACTED}", text)
    text = _HEADER_LINE.sub(rf"\1{REDACTED}", text)
    text = _CREDENTIALS.sub(rf"\1 {REDACTED}", text)
    return _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)


class RedactSecrets(logging.Filter):
    """Redacts the message, the traceback and string extras of every record in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # A broken format string: the handler reports it as usual.
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the redacted traceback is written.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class DisallowedHostHint(logging.Filter):
    """A request for a host name not in LINLI_ALLOWED_HOSTS: Django logs an ERROR with a
    traceback each time (any scanner on the internet sends such requests). One WARNING line
    instead, naming the setting to change here, not Django's ALLOWED_HOSTS."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = re.sub(
            r"(?<!LINLI_)\bALLOWED_HOSTS\b", "LINLI_ALLOWED_HOSTS", record.getMessage()
        )
        record.args = None
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = record.exc_text = record.stack_info = None
        return True


class AddRequestId(logging.Filter):
    """Gives every record logged while a request is served that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id and not getattr(record, "request_id", ""):
            record.request_id = request_id
        return True


_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def record_extras(record: logging.LogRecord) -> dict:
    """The plain values that the caller passed in `extra` (Django also passes objects such
    as the request: those are left out)."""
    return {
        name: value
        for name, value in vars(record).items()
        if name not in _RECORD_ATTRIBUTES
        and not name.startswith("_")
        and (value is None or isinstance(value, str | int | float | bool))
    }


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **record_extras(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a person at a terminal: time, level, logger, message, then the extras as
    key=value."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        name = record.name
        # Gunicorn logs everything, "Starting gunicorn" included, on "gunicorn.error".
        record.name = "gunicorn" if name == "gunicorn.error" else name
        try:
            line = super().format(record)
        finally:
            record.name = name
        extras = {key: value for key, value in record_extras(record).items() if value is not None}
        if record.name == "linli.request":
            # The message already says method, route, status and duration.
            extras = {key: extras[key] for key in ("request_id", "user_id") if key in extras}
        if not extras:
            return line
        head, _newline, rest = line.partition("\n")
        pairs = " ".join(f"{key}={value}" for key, value in extras.items())
        return f"{head} {pairs}" + (f"\n{rest}" if rest else "")


LOG_FORMATS = ("json", "text")


def log_format_from_environment() -> str:
    """LINLI_LOG_FORMAT: json, text, or auto (the default): JSON, unless standard error is a
    terminal. Under systemd, docker or any log collector it is JSON; a person who runs
    `make demo` in a terminal reads text lines (LINLI_LOG_FORMAT=json shows the JSON there)."""
    chosen = os.environ.get("LINLI_LOG_FORMAT", "auto").strip().lower() or "auto"
    if chosen == "auto":
        return "text" if sys.stderr.isatty() else "json"
    if chosen not in LOG_FORMATS:
        raise ValueError(f"LINLI_LOG_FORMAT must be json, text or auto, got {chosen!r}")
    return chosen


def logging_config(*, log_format: str, level: str) -> dict:
    """settings.LOGGING: every record through one handler on standard error, which adds the
    request id and redacts secrets; the request log at INFO, everything else from `level`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "linli.ops.logging.AddRequestId"},
            "redact_secrets": {"()": "linli.ops.logging.RedactSecrets"},
            "disallowed_host_hint": {"()": "linli.ops.logging.DisallowedHostHint"},
        },
        "formatters": {
            "json": {"()": "linli.ops.logging.JsonFormatter"},
            "text": {"()": "linli.ops.logging.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id", "redact_secrets"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own handlers (a console only in debug mode, mail to ADMINS) are
            # replaced by the one above, so that nothing is written unredacted.
            "django": {"level": "INFO"},
            # A refused request is already one line of the request log; the "Not Found:
            # /path" warning would repeat it with the raw path. 5xx still log a traceback.
            "django.request": {"level": "ERROR"},
            # `runserver`'s access log has full query strings: through the redacting handler.
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "linli.request": {"level": "INFO"},
            "django.security.DisallowedHost": {"filters": ["disallowed_host_hint"]},
            # What `linli serve`, `linli scheduler` and `linli worker` say about themselves
            # (started, stopping, restarted): see `say`.
            "linli.serve": {"level": "INFO"},
            "linli.scheduler": {"level": "INFO"},
            "linli.worker": {"level": "INFO"},
        },
    }


def say(logger_name: str, message: str, *, out: TextIO, prefix: str = "") -> None:
    """A process's word about itself: under LINLI_LOG_FORMAT=json a log record (INFO) on
    `logger_name`, so that every line a log collector reads is a JSON object; for a person at
    a terminal (text), a plain line on `out` as before."""
    from django.conf import settings

    if getattr(settings, "LINLI_LOG_FORMAT", "text") == "json":
        logging.getLogger(logger_name).info(message)
        return
    out.write(f"{prefix}{message}\n")
    out.flush()


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


class GunicornLogger(glogging.Logger):
    """Gunicorn's error log in the platform's format, with secrets redacted. Its access log
    stays off: the request log (linli.ops.middleware) replaces it, without query strings."""

    def setup(self, cfg):
        super().setup(cfg)
        from django.conf import settings

        for handler in self.error_log.handlers:
            handler.setFormatter(formatter_for(settings.LINLI_LOG_FORMAT))
            handler.addFilter(RedactSecrets())
