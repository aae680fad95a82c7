"""/metrics: who may read it, request counts by route name, the platform's state read from
the database at scrape time, and (through `linli serve`) counts summed over gunicorn's
worker processes, surviving a worker's death."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connections
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from linli.accounts.roles import Role
from linli.cases.models import CaseCategory, CaseSource
from linli.cases.services import case_create
from linli.conftest import make_user
from linli.emergency.services import activation_start
from linli.emergency.tests.conftest import emergency_world, plan  # noqa: F401 (fixtures)
from linli.notify.models import OutboxMessage, OutboxStatus
from linli.notify.services import notification_send
from linli.ops import scheduling
from linli.ops.scheduling import JobMetrics
from linli.ops.tests.support import free_port

T0 = datetime(2027, 3, 3, 2, 0, tzinfo=UTC)  # A Wednesday, 10:00 in Shanghai.
TOKEN = "scrape-token-0123456789"


def scrape(client=None, **headers) -> dict[tuple[str, frozenset], float]:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-store" in response["Cache-Control"]
    return parse(response.content.decode())


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, frozenset(labels.items())))


# Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote_addr", "headers", "token_setting", "status"),
    [
        ("127.0.0.1", {}, "", 200),
        ("::1", {}, "", 200),
        ("192.168.1.20", {}, "", 404),
        ("203.0.113.9", {}, TOKEN, 404),
        # A proxy on this machine relays a caller from elsewhere.
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "", 404),
        ("127.0.0.1", {"HTTP_FORWARDED": "for=203.0.113.9"}, "", 404),
        ("203.0.113.9", {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}, TOKEN, 200),
        (
            "127.0.0.1",
            {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"},
            TOKEN,
            200,
        ),
        ("203.0.113.9", {"HTTP_AUTHORIZATION": "Bearer wrong-token-0123456789"}, TOKEN, 404),
        # No token configured: no bearer opens it, not even an empty one.
        ("203.0.113.9", {"HTTP_AUTHORIZATION": "Bearer "}, "", 404),
    ],
)
def test_metrics_answer_this_machine_or_the_token_and_nobody_else(
    db, settings, remote_addr, headers, token_setting, status
):
    settings.LINLI_METRICS_TOKEN = token_setting
    response = Client(REMOTE_ADDR=remote_addr).get("/metrics", **headers)
    assert response.status_code == status
    if status == 404:
        assert b"linli_" not in response.content


# Requests ---------------------------------------------------------------------------------


def test_requests_are_counted_by_route_name_and_status_never_by_path(db):
    before = scrape()
    client = Client()
    assert client.get("/open311/v2/requests/SECRET-REF-77.json").status_code == 404
    assert client.get("/open311/v2/requests/OTHER-REF-78.json").status_code == 404
    assert client.get("/healthz").status_code == 200
    assert client.get("/no-such-page/13800138000").status_code == 404
    assert client.generic("BREW", "/healthz").status_code == 405
    after = scrape()

    def delta(**labels):
        name = "linli_http_requests_total"
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert delta(route="open311:request", method="GET", status_class="4xx", status="404") == 2
    assert delta(route="healthz", method="GET", status_class="2xx", status="200") == 1
    assert delta(route="unmatched", method="GET", status_class="4xx", status="404") == 1
    # A made-up method is one label value, whatever it is.
    assert delta(route="healthz", method="other", status_class="4xx", status="405") == 1
    histogram = "linli_http_request_duration_seconds_count"
    labels = {"route": "open311:request", "method": "GET", "status_class": "4xx"}
    assert (value(after, histogram, **labels) or 0) - (value(before, histogram, **labels) or 0) == 2
    label_values = {value for _name, labels in after for _label, value in labels}
    assert not any("REF-7" in item or "13800138000" in item for item in label_values)


# The platform's state -------------------------------------------------------------------------


def test_outbox_depth_by_channel_and_state(db):
    users = [make_user(f"neighbour{number}") for number in range(3)]
    # No commit in this test, so no delivery runs: every message stays pending.
    notification_send(
        recipients=users, kind="case_escalated", title="Case 7", channels=("inapp", "sms")
    )
    OutboxMessage.objects.filter(channel="sms", notification__recipient=users[0]).update(
        status=OutboxStatus.FAILED
    )
    samples = scrape()
    assert value(samples, "linli_outbox_messages", channel="sms", state="pending") == 2
    assert value(samples, "linli_outbox_messages", channel="sms", state="failed") == 1
    assert value(samples, "linli_outbox_messages", channel="inapp", state="pending") == 3
    assert value(samples, "linli_outbox_messages", channel="email", state="pending") == 0
    assert value(samples, "linli_outbox_oldest_pending_age_seconds", channel="email") == 0
    assert value(samples, "linli_metrics_source_up", source="database") == 1


def test_oldest_pending_message_age_grows_while_nothing_is_delivered(db):
    with time_machine.travel(T0, tick=False):
        notification_send(
            recipients=[make_user("lead")], kind="case_escalated", title="Case 7", channels=("sms",)
        )
    with time_machine.travel(T0 + timedelta(minutes=6), tick=False):
        samples = scrape()
    assert value(samples, "linli_outbox_oldest_pending_age_seconds", channel="sms") == 360


def test_overdue_cases_are_counted_once_past_their_due_time(world):
    with time_machine.travel(T0, tick=False):
        case = case_create(
            reporter=world.users[Role.SECRETARY],
            category=CaseCategory.objects.get(code="SAF-01"),
            building=world.building,
            description="楼道堆物，影响通行",
            source=CaseSource.STAFF,
        )
        assert value(scrape(), "linli_cases_overdue") == 0
    with time_machine.travel(case.due_at + timedelta(minutes=1), tick=False):
        assert value(scrape(), "linli_cases_overdue") == 1


def test_open_emergency_tasks_by_state_and_drill(request):
    # The emergency app's fixtures: A社区's typhoon plan and two volunteers.
    world = request.getfixturevalue("emergency_world")
    typhoon_plan = request.getfixturevalue("plan")
    activation_start(
        actor=world.users[Role.SECRETARY],
        plan=typhoon_plan,
        scope=world.community,
        grade=4,
        is_drill=True,
    )
    samples = scrape()
    # Two welfare checks (张桂英 and 王芳), both assigned to the care-team volunteer.
    assert value(samples, "linli_emergency_tasks_open", state="assigned", drill="true") == 2
    assert value(samples, "linli_emergency_tasks_open", state="assigned", drill="false") == 0
    assert value(samples, "linli_emergency_tasks_open", state="unassigned", drill="true") == 0


def test_job_runs_failures_and_lateness_come_from_the_scheduler(db, monkeypatch):
    monkeypatch.setattr(
        scheduling,
        "job_metrics",
        lambda: [
            JobMetrics("cases.escalate_overdue", 96, 2, 1_800_000_000.0, 0.42, False),
            JobMetrics("notify.retry_outbox", 10, 10, None, None, True),
        ],
    )
    samples = scrape()
    assert value(samples, "linli_job_runs_total", job="cases.escalate_overdue") == 96
    assert value(samples, "linli_job_failures_total", job="cases.escalate_overdue") == 2
    assert value(samples, "linli_job_late", job="cases.escalate_overdue") == 0
    assert value(samples, "linli_job_late", job="notify.retry_outbox") == 1
    assert (
        value(samples, "linli_job_last_success_timestamp_seconds", job="cases.escalate_overdue")
        == 1_800_000_000.0
    )
    assert value(samples, "linli_job_last_duration_seconds", job="notify.retry_outbox") is None
    assert value(samples, "linli_metrics_source_up", source="jobs") == 1


def test_a_failing_source_is_reported_and_the_rest_still_answers(db, monkeypatch):
    def broken():
        raise RuntimeError("job table missing")

    monkeypatch.setattr(scheduling, "job_metrics", broken)
    samples = scrape()
    assert value(samples, "linli_metrics_source_up", source="jobs") == 0
    assert value(samples, "linli_metrics_source_up", source="database") == 1
    assert value(samples, "linli_cases_overdue") == 0


# Through gunicorn ----------------------------------------------------------------------------


def request(url: str, method: str = "GET", **headers) -> tuple[int, dict, bytes]:
    prepared = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_until_answering(server: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        if server.poll() is not None:
            pytest.fail(f"linli serve exited early:\n{server.stdout.read()}")
        try:
            request(f"{base}/healthz")
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail("linli serve did not answer /healthz within 90 s")
            time.sleep(0.2)


def migrated_database_url(tmp_path: Path) -> str:
    """The test database, for a server in another process: SQLite's in-memory one copied to
    a file, PostgreSQL's by name (the test leaves it as it found it)."""
    connection = connections["default"]
    if connection.vendor == "sqlite":
        target = tmp_path / "linli.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(target)])
        return f"sqlite:///{target}"
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    return (
        f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/"
        f"{database['NAME']}"
    )


def counter_pids(directory: Path) -> set[int]:
    return {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob("counter_*.db")}


def test_serve_sums_requests_over_workers_even_after_they_die_and_logs_json_lines(
    transactional_db, tmp_path
):
    var = tmp_path / "var"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LINLI_", "PROMETHEUS_")) and key != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=migrated_database_url(tmp_path),
        LINLI_VAR_DIR=str(var),
        LINLI_METRICS_TOKEN=TOKEN,
        LINLI_LOG_FORMAT="json",
        DJANGO_SETTINGS_MODULE="linli.settings",
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # A stale counter file from an earlier run: cleared when the server starts.
    (var / "prometheus").mkdir(parents=True)
    (var / "prometheus" / "counter_999999.db").write_bytes(b"stale")
    server = subprocess.Popen(
        [sys.executable, "-m", "linli.cli", "serve", "--port", str(port), "--workers", "2"]
        + ["--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    rounds = 15
    try:
        wait_until_answering(server, base)
        for _ in range(rounds):
            assert request(f"{base}/healthz", method="HEAD")[0] == 200
        status, headers, _body = request(f"{base}/healthz", **{"X-Request-ID": "probe-abc-123"})
        assert (status, headers["X-Request-ID"]) == (200, "probe-abc-123")
        open311_status, _headers, _body = request(
            f"{base}/open311/v2/services.json?api_key=SECRET-KEY-4242"
        )

        # Every worker that has counted anything dies; gunicorn starts new ones.
        served = counter_pids(var / "prometheus")
        assert served and 999999 not in served
        for pid in served:
            os.kill(pid, signal.SIGKILL)
        wait_until_answering(server, base)
        for _ in range(rounds):
            assert request(f"{base}/healthz", method="HEAD")[0] == 200

        assert request(f"{base}/metrics", **{"X-Forwarded-For": "203.0.113.9"})[0] == 404
        status, _headers, body = request(
            f"{base}/metrics",
            **{"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {TOKEN}"},
        )
        assert status == 200
        samples = parse(body.decode())
        labels = {"route": "healthz", "method": "HEAD", "status_class": "2xx"}
        assert value(samples, "linli_http_requests_total", **labels, status="200") == 2 * rounds
        assert value(samples, "linli_http_request_duration_seconds_count", **labels) == 2 * rounds
        assert len(counter_pids(var / "prometheus") - served) >= 1
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=60)

    assert "SECRET-KEY-4242" not in output
    # No access log of gunicorn's (it printed the query string in full).
    assert '"GET /' not in output
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [entry for entry in entries if entry["logger"] == "linli.request"]
    probe = next(entry for entry in requests if entry["request_id"] == "probe-abc-123")
    assert probe["route"] == "healthz"
    assert probe["status"] == 200
    assert probe["user_id"] is None
    open311 = next(entry for entry in requests if entry["route"] == "open311:services")
    assert open311["status"] == open311_status == 200
    assert {"request_id", "user_id", "route", "method", "status", "duration_ms"} <= set(open311)
    # Gunicorn's own error log is JSON too.
    assert any(entry["logger"] == "gunicorn.error" for entry in entries)
