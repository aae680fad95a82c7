"""The request log (one JSON line a request, the request id sent back), secrets redacted
from every log line, and the API's JSON answer to an unexpected error."""

import io
import json
import logging
import re
import sys

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client, RequestFactory

from linli.accounts.roles import Role
from linli.api import unexpected_error
from linli.open311.services import open311_key_create
from linli.ops.logging import (
    REDACTED,
    JsonFormatter,
    TextFormatter,
    log_format_from_environment,
    redact,
)
from linli.ops.tests.support import captured_logs, with_database_unreachable

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def entries(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def request_entries(stream) -> list[dict]:
    return [entry for entry in entries(stream) if entry["logger"] == "linli.request"]


def test_one_json_line_a_request_with_the_request_id_sent_back(db):
    with captured_logs() as stream:
        response = Client().get(
            "/healthz?name=张三&phone=13800138000", HTTP_X_REQUEST_ID="lb-7f3a.01"
        )
    assert response["X-Request-ID"] == "lb-7f3a.01"
    [entry] = request_entries(stream)
    assert set(entry) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "user_id",
        "route",
        "method",
        "status",
        "duration_ms",
    }
    assert entry["request_id"] == "lb-7f3a.01"
    assert (entry["route"], entry["method"], entry["status"], entry["user_id"]) == (
        "healthz",
        "GET",
        200,
        None,
    )
    assert entry["level"] == "INFO"
    assert entry["duration_ms"] >= 0
    # Never the query string, so never what a client put in it.
    assert "张三" not in stream.getvalue()
    assert "13800138000" not in stream.getvalue()


@pytest.mark.parametrize("offered", ["x" * 65, "有中文", "a b", "", "id\x00"])
def test_a_request_id_outside_the_bounds_is_replaced_by_a_generated_one(db, offered):
    with captured_logs() as stream:
        response = Client().get("/healthz", HTTP_X_REQUEST_ID=offered)
    assert GENERATED_ID.fullmatch(response["X-Request-ID"])
    assert request_entries(stream)[0]["request_id"] == response["X-Request-ID"]


def test_the_user_id_is_logged_when_the_request_loaded_the_user(world, django_assert_num_queries):
    resident = world.users[Role.RESIDENT]
    client = Client()
    client.force_login(resident)
    with captured_logs() as stream:
        assert client.get("/").status_code == 200
        # /healthz never loads the user: logging it must not cost a query.
        with django_assert_num_queries(0):
            assert client.get("/healthz").status_code == 200
    home, health = request_entries(stream)
    assert (home["route"], home["user_id"]) == ("web:home", resident.pk)
    assert (health["route"], health["user_id"]) == ("healthz", None)
    assert resident.username not in stream.getvalue()


def test_an_open311_api_key_appears_in_no_log_line(world):
    _key, secret = open311_key_create(
        actor=world.users[Role.SECRETARY], community=world.community, name="FixMyStreet"
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with captured_logs() as stream:
        listed = client.get(f"/open311/v2/requests.json?api_key={secret}&status=open")
        filed = client.post(
            f"/open311/v2/requests.json?api_key={secret}",
            {"service_code": "SAF-01", "description": "楼道里堆满了纸箱"},
        )
        refused = client.get("/open311/v2/requests.json?api_key=wrong-key-0123456789")
    assert listed.status_code == 200
    assert filed.status_code == 400  # No place given: refused, and logged like any request.
    assert refused.status_code == 403
    output = stream.getvalue()
    assert secret not in output
    assert "wrong-key-0123456789" not in output
    routes = [entry["route"] for entry in request_entries(stream)]
    assert routes == ["open311:requests"] * 3


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /open311/v2/requests.json?api_key=k3y-value-1&status=open", "k3y-value-1"),
        (
            "POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=robot-key-42 failed",
            "robot-key-42",
        ),
        ("/api?token=abcdef123456", "abcdef123456"),
        ("login password=hunter2hunter2&next=/", "hunter2hunter2"),
        ("{'HTTP_AUTHORIZATION': 'Bearer tok-0123456789', 'PATH': '/'}", "tok-0123456789"),
        ("{'HTTP_COOKIE': 'sessionid=s3ss10n; csrftoken=c5rf'}", "s3ss10n"),
        ('{"password": "pa55word!", "user": "lead"}', "pa55word!"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ("Cookie: sessionid=abc123def456", "abc123def456"),
        ("could not connect to redis://:r3dis-pass@127.0.0.1:6379/0", "r3dis-pass"),
        ("postgres://linli:pg-pass-99@db.internal/linli refused", "pg-pass-99"),
    ],
)
def test_secrets_are_redacted_in_every_form_they_are_written(text, secret):
    redacted = redact(text)
    assert secret not in redacted
    assert REDACTED in redacted


def test_ordinary_text_is_left_alone():
    text = "GET cases:workbench 200 12.5 ms; monkey=3; keyboard layout; token bucket full"
    assert redact(text) == text


def test_configured_secrets_are_redacted_wherever_they_appear(settings):
    settings.LINLI_WECOM_WEBHOOK_URL = (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=robot-key-0123456789"
    )
    settings.LINLI_SMS_GATEWAY_TOKEN = "gateway-token-abcdef"
    settings.LINLI_METRICS_TOKEN = "scrape-token-0123456789"
    text = (
        "robot robot-key-0123456789 said no; gateway-token-abcdef expired; "
        f"scrape-token-0123456789; field key {settings.FIELD_ENCRYPTION_KEY}"
    )
    redacted = redact(text)
    for secret in (
        "robot-key-0123456789",
        "gateway-token-abcdef",
        "scrape-token-0123456789",
        settings.FIELD_ENCRYPTION_KEY,
    ):
        assert secret not in redacted


def test_an_error_log_keeps_its_traceback_and_loses_its_secrets(settings):
    settings.LINLI_SMS_GATEWAY_TOKEN = "gateway-token-abcdef"
    webhook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=robot-key-0123456789"
    logger = logging.getLogger("linli.notify.channels")
    with captured_logs() as stream:
        try:
            raise ConnectionError(
                f"POST {webhook} failed; headers {{'Authorization': 'Bearer gateway-token-abcdef'}}"
            )
        except ConnectionError:
            logger.exception("Delivery to %s failed", webhook)
    [entry] = entries(stream)
    output = stream.getvalue()
    assert "robot-key-0123456789" not in output
    assert "gateway-token-abcdef" not in output
    assert entry["level"] == "ERROR"
    assert (
        entry["message"]
        == f"Delivery to {webhook.replace('robot-key-0123456789', REDACTED)} failed"
    )
    assert "Traceback (most recent call last)" in entry["exception"]
    assert "ConnectionError: POST https://qyapi.weixin.qq.com" in entry["exception"]


def test_an_unexpected_api_error_answers_json_500_with_the_request_id(db, tmp_path):
    token = "bearer-token-0123456789abcdef"

    def call_api():
        client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
        return client.get(
            "/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_REQUEST_ID="api-fault-1"
        )

    with captured_logs() as stream:
        response = with_database_unreachable(call_api, tmp_path)
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Request-ID"] == "api-fault-1"
    assert json.loads(response.content) == {
        "message": "Server error. Quote the request id api-fault-1 when reporting it.",
        "field": None,
        "request_id": "api-fault-1",
    }
    output = stream.getvalue()
    assert token not in output
    error = next(entry for entry in entries(stream) if entry["logger"] == "django.request")
    assert error["level"] == "ERROR"
    assert error["message"] == "Internal Server Error: /api/v1/cases"
    assert error["request_id"] == "api-fault-1"
    assert error["status_code"] == 500
    assert "OperationalError" in error["exception"]
    [logged] = request_entries(stream)
    assert (logged["route"], logged["status"]) == ("api-v1:case_list", 500)


def test_django_refusals_raised_in_an_api_handler_keep_their_4xx():
    request = RequestFactory().get("/api/v1/cases")
    denied = unexpected_error(request, PermissionDenied())
    suspicious = unexpected_error(request, SuspiciousOperation("odd"))
    assert denied.status_code == 403
    assert json.loads(denied.content)["field"] is None
    assert suspicious.status_code == 400


def test_the_text_format_reads_as_one_line_with_the_ids():
    record = logging.LogRecord(
        "linli.request", logging.INFO, "", 0, "GET healthz 200 1.5 ms", (), None
    )
    record.request_id, record.user_id, record.route = "abc", 7, "healthz"
    line = TextFormatter().format(record)
    assert line.endswith(" INFO linli.request GET healthz 200 1.5 ms request_id=abc user_id=7")
    record.user_id = None  # Anonymous: nothing to say.
    assert TextFormatter().format(record).endswith(" 200 1.5 ms request_id=abc")
    assert json.loads(JsonFormatter().format(record))["route"] == "healthz"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("value", "stderr", "expected"),
    [
        ("json", Terminal, "json"),
        ("text", io.StringIO, "text"),
        ("JSON", io.StringIO, "json"),
        ("auto", io.StringIO, "json"),  # systemd, docker, a pipe: JSON
        ("auto", Terminal, "text"),  # a person running `make demo`
        ("", Terminal, "text"),
    ],
)
def test_the_log_format_comes_from_the_environment(monkeypatch, value, stderr, expected):
    monkeypatch.setenv("LINLI_LOG_FORMAT", value)
    monkeypatch.setattr(sys, "stderr", stderr())
    assert log_format_from_environment() == expected


def test_an_unknown_log_format_stops_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("LINLI_LOG_FORMAT", "yaml")
    with pytest.raises(ValueError, match="LINLI_LOG_FORMAT must be json, text or auto"):
        log_format_from_environment()
