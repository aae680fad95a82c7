"""`linli serve` runs the clock-driven half beside the web server, in real processes on an
SQLite file of the test's own: an overdue case escalates within seconds, a notification sent
by another process is delivered by the worker (never inline), and a killed scheduler is
started again."""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from linli.ops.tests.jobs_processes import (  # noqa: F401 - fixtures
    child_environment,
    linli,
    migrated_sqlite_template,
    migrated_var_dir,
)

# Real processes for tens of seconds; they read the real clock, so the shifted-clock run
# (`make test-shifted`) leaves them out.
pytestmark = pytest.mark.slow

# A street with one resident and a case filed thirty days ago, due long since.
SETUP_OVERDUE_CASE = """
import datetime
import django
import time_machine

django.setup()
from django.utils import timezone

from linli.cases.models import CaseCategory
from linli.cases.services import case_create
from linli.conftest import build_world

world = build_world()
with time_machine.travel(timezone.now() - datetime.timedelta(days=30), tick=False):
    case = case_create(
        reporter=world.users["resident"],
        category=CaseCategory.objects.get(code="SAF-01"),
        description="楼道堆物",
        source="resident_report",
        building=world.building,
    )
print(case.pk)
"""

SEND_NOTIFICATION = """
import django

django.setup()
from django.db import transaction

from linli.accounts.models import User
from linli.notify.services import notification_send


with transaction.atomic():
    notification_send(
        recipients=[User.objects.get(username="secretary")], kind="case_escalated", title="t"
    )
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


class Served:
    """`linli serve` in a subprocess, its output collected line by line."""

    def __init__(self, var_dir: Path, env: dict) -> None:
        self.var_dir = var_dir
        self.port = free_port()
        self.lines: list[str] = []
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            linli("serve", "--port", str(self.port), "--workers", "1", "--threads", "2"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def pid_of(self, child: str, after: int = 0) -> int | None:
        marker = f"[linli serve] {child} started, pid "
        pids = [int(line.split(marker)[1]) for line in self.lines if marker in line]
        return pids[after] if len(pids) > after else None

    def query(self, sql: str, *parameters) -> list[tuple]:
        with sqlite3.connect(self.var_dir / "linli.sqlite3", timeout=20) as database:
            return database.execute(sql, parameters).fetchall()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            self.reader.join(10)


@pytest.fixture
def served(migrated_var_dir):  # noqa: F811
    env = child_environment(migrated_var_dir, LINLI_SCHEDULER_TICK_SECONDS="1")
    subprocess.run([sys.executable, "-c", SETUP_OVERDUE_CASE], env=env, check=True, timeout=300)
    server = Served(migrated_var_dir, env)
    try:
        yield server
    finally:
        status = server.stop()
        assert status == 0, server.output()
        output = server.output()
        assert (
            "[linli serve] SIGTERM received: stopping the web server, worker and scheduler …"
            in output
        )
        assert re.search(r"\[linli serve\] web server stopped in \d+\.\d s", output), output
        assert "[linli serve] stopped" in output


def level_of_every_case(server: Served) -> list[str]:
    return [row[0] for row in server.query("SELECT escalation_level FROM cases_case")]


def test_serve_escalates_an_overdue_case_and_the_worker_delivers_notifications(served):
    assert level_of_every_case(served) == ["building_group"]
    wait_until(
        lambda: level_of_every_case(served) == ["micro_grid"],
        timeout=120,
        what="the overdue case to escalate",
    )
    escalated_after = time.monotonic() - served.started
    # Measured on the test machine; printed for bench notes (pytest -s).
    print(f"\noverdue case escalated {escalated_after:.1f} s after `linli serve` started")
    assert served.pid_of("web server") and served.pid_of("worker") and served.pid_of("scheduler")
    # The run is recorded once the escalation has committed.
    (run,) = wait_until(
        lambda: served.query(
            "SELECT outcome, result FROM ops_jobrun "
            "WHERE job = 'cases-escalate-overdue' AND outcome != 'running'"
        ),
        timeout=30,
        what="the escalation run to be recorded",
    )
    assert run == ("succeeded", "1")

    # A notification sent by another process (as a request would) is delivered by the worker
    # within seconds, before the scheduler's next outbox sweep could have sent it.
    subprocess.run(
        [sys.executable, "-c", SEND_NOTIFICATION],
        env=child_environment(served.var_dir),
        check=True,
        timeout=120,
    )
    (message_id,) = served.query("SELECT max(id) FROM notify_outboxmessage")[0]
    sent_at = wait_until(
        lambda: served.query(
            "SELECT sent_at FROM notify_outboxmessage WHERE id = ? AND status = 'sent'",
            message_id,
        ),
        timeout=30,
        what="the worker to deliver the notification",
    )[0][0]
    created_at = served.query(
        "SELECT created_at FROM notify_outboxmessage WHERE id = ?", message_id
    )[0][0]
    sweeps_between = served.query(
        "SELECT count(*) FROM ops_jobrun WHERE job = 'notify-retry-outbox' "
        "AND started_at >= ? AND started_at <= ?",
        created_at,
        sent_at,
    )[0][0]
    assert sweeps_between == 0, "the outbox sweep, not the worker, delivered it"
    delivery = datetime.fromisoformat(sent_at) - datetime.fromisoformat(created_at)
    print(
        f"notification delivered by the worker {delivery.total_seconds():.2f} s after it was sent"
    )
    assert delivery.total_seconds() < 10

    heartbeat_pids = {row[0] for row in served.query("SELECT pid FROM ops_schedulerheartbeat")}
    assert heartbeat_pids == {served.pid_of("scheduler")}


def test_serve_starts_a_killed_scheduler_again(served):
    first = wait_until(lambda: served.pid_of("scheduler"), timeout=120, what="the scheduler")
    wait_until(
        lambda: served.query("SELECT pid FROM ops_schedulerheartbeat WHERE pid = ?", first),
        timeout=120,
        what="the first scheduler's heartbeat",
    )
    os.kill(first, signal.SIGKILL)
    second = wait_until(
        lambda: served.pid_of("scheduler", after=1), timeout=30, what="a new scheduler"
    )
    assert second != first
    assert re.search(
        r"\[linli serve\] scheduler stopped \(killed by signal 9\) after it ran for \d+ s; "
        r"restarting in 1 s",
        served.output(),
    ), served.output()
    assert "restarting in 1 s" in served.output()
    beat = wait_until(
        lambda: served.query(
            "SELECT beat_at FROM ops_schedulerheartbeat WHERE pid = ? AND stopped_at IS NULL",
            second,
        ),
        timeout=60,
        what="the new scheduler's heartbeat",
    )[0][0]
    assert datetime.fromisoformat(beat).replace(tzinfo=UTC) <= datetime.now(UTC)
    # The web server and the worker were left alone.
    assert served.pid_of("web server", after=1) is None
    assert served.pid_of("worker", after=1) is None


def test_serve_stops_when_the_web_server_cannot_start(migrated_var_dir):  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            linli("serve", "--port", str(port), "--workers", "1"),
            env=child_environment(migrated_var_dir),
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 1
    assert "[linli serve] web server could not start (exit status 1); stopping" in result.stdout
    assert "[linli serve] stopped" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        f"CommandError: The web server could not start: port {port} on 127.0.0.1 is in use "
        "(another `linli serve`?). Stop it, or choose another port with --port (or LINLI_PORT)."
    )
    # The worker and the scheduler it had started are gone with it.
    for child in ("worker", "scheduler"):
        marker = f"[linli serve] {child} started, pid "
        (pid,) = [
            int(line.split(marker)[1]) for line in result.stdout.splitlines() if marker in line
        ]
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def refused_request(port: int) -> bool:
    """A request for an unknown host, as any scanner sends: answered 400."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": "scanner.invalid"}
    )
    try:
        urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as error:
        return error.code == 400
    except OSError:
        return False
    return False


def test_in_json_mode_every_line_on_standard_error_is_a_json_object(migrated_var_dir):  # noqa: F811
    env = child_environment(migrated_var_dir, LINLI_SCHEDULER_TICK_SECONDS="1")
    env["LINLI_LOG_FORMAT"] = "json"
    port = free_port()
    process = subprocess.Popen(
        linli("serve", "--port", str(port), "--workers", "1", "--threads", "2"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        wait_until(
            lambda: any("jobs, up to" in line for line in lines),
            timeout=120,
            what="the scheduler to start",
        )
        # A request for an unknown host, as any scanner sends: one warning, no traceback.
        wait_until(lambda: refused_request(port), timeout=60, what="the web server to answer")
    finally:
        process.send_signal(signal.SIGTERM)
        # Not communicate(): it would read standard error too, racing the reader thread for lines.
        process.wait(timeout=60)
        reader.join(10)
        stdout = process.stdout.read()
    assert process.returncode == 0
    entries = [json.loads(line) for line in lines if line.strip()]
    assert all(isinstance(entry, dict) for entry in entries)
    assert len(entries) == len(lines), "an empty line on standard error"
    said = {(entry["logger"], entry["message"]) for entry in entries}
    # What the supervisor says while stopping is asserted word for word in text mode by the
    # other serve tests; here, under a loaded machine's timing, only that it is JSON when said.
    assert not any(
        "received: stopping" in message and logger != "linli.serve" for logger, message in said
    )
    # Whether the worker got as far as its "Warm shutdown" line depends on the machine's
    # load; whatever it said was parsed as JSON above, and under its own logger.
    assert not any(
        "Warm shutdown" in message and logger != "linli.worker" for logger, message in said
    )
    assert any(logger == "linli.scheduler" and "jobs, up to" in message for logger, message in said)
    assert any(logger == "gunicorn.error" for logger, _message in said)
    (refused,) = [entry for entry in entries if entry["logger"] == "django.security.DisallowedHost"]
    assert refused["level"] == "WARNING" and "exception" not in refused
    assert "LINLI_ALLOWED_HOSTS" in refused["message"]
    # Standard output holds only what the command says to the person who started it.
    assert [line for line in stdout.splitlines() if line.strip()] == [
        line for line in stdout.splitlines() if line.startswith(("Linli at ", "Note: "))
    ]
