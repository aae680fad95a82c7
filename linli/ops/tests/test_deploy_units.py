"""The systemd units of docs/deploy.md, run here as systemd would run them.

This machine has no systemd as PID 1 (and no Docker engine), so the units cannot be started
with `systemctl`. Instead each unit file is read, and its ExecStart runs as a subprocess with
what systemd would give it: the environment of deploy/linli.env.example (the test's own
database, Redis, directories and keys put in for the example's), the unit's working
directory (this checkout for /opt/linli), its UMask and, to stop it, its KillSignal within its
TimeoutStopSec. The guide's install steps run first through deploy/linli-admin (`migrate`,
`createsuperuser`), the platform must then be ready (/readyz 200: database migrated, cache,
broker and a fresh scheduler heartbeat), the worker must deliver a notification through
Redis, and the backup unit's command must write an archive.

The database is a throw-away one on the shared PostgreSQL server (dropped at the end), Redis
a throw-away redis-server on a free port: nothing shared is flushed or stopped.
"""

import contextlib
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from django.core.management import get_commands, load_command_class

from linli.ops.tests.services import needs_redis_server, running_redis

REPOSITORY = Path(__file__).resolve().parents[3]
DEPLOY = REPOSITORY / "deploy"
UNITS = DEPLOY / "systemd"
ENVIRONMENT_EXAMPLE = DEPLOY / "linli.env.example"
ADMIN_SCRIPT = DEPLOY / "linli-admin"
README = REPOSITORY / "README.md"

# Where docs/deploy.md installs Linli, and this checkout's equivalents.
INSTALLED_APP_DIR = "/opt/linli"
INSTALLED_LINLI = "/opt/linli/.venv/bin/linli"
INSTALLED_ENVIRONMENT_FILE = "/etc/linli/linli.env"
LINLI = Path(sys.executable).with_name("linli")
SERVICES = ("linli-web.service", "linli-worker.service", "linli-scheduler.service")
# systemd's own PATH for services; a service gets no other variable of whoever started it.
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


# Reading unit and environment files ------------------------------------------------------------


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections → key → values, as systemd reads a unit: keys are case-sensitive and may repeat,
    `#` and `;` start comments, a trailing backslash continues a line."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    lines = iter(path.read_text().splitlines())
    for raw in lines:
        line = raw.strip()
        while line.endswith("\\"):
            line = line[:-1] + " " + next(lines).strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: {line!r} before any [section]"
        key, separator, value = line.partition("=")
        assert separator, f"{path.name}: {line!r} is not KEY=VALUE"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: dict, section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}: expected one value, found {values}"
    return values[0]


def parse_environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= (and deploy/linli-admin) read them.

    The example keeps to the subset both read alike: no quotes, no spaces, no `$`."""
    environment = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, separator, value = line.partition("=")
        assert separator and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"line {number}: {raw!r}"
        assert not re.search(r"[\s\"'$\\`]", value), (
            f"line {number}: {key}'s value holds a quote, space, $ or backslash, which systemd "
            "and the shell of deploy/linli-admin read differently"
        )
        environment[key] = value
    return environment


def seconds_of(value: str) -> float:
    """A systemd time span such as `30`, `30s`, `1min 30s`, `2min`."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


def exec_start(unit: dict) -> list[str]:
    argv = shlex.split(one(unit, "Service", "ExecStart"))
    assert argv[0] == INSTALLED_LINLI, f"ExecStart runs {argv[0]}, not {INSTALLED_LINLI}"
    return argv


# The units and the example agree with the code --------------------------------------------


def test_every_unit_runs_a_linli_command_with_options_it_accepts():
    """Each ExecStart names a real `linli` command, and the command's own parser accepts the
    unit's options; each service reads the environment file from the install directory."""
    commands = get_commands()
    for name in (*SERVICES, "linli-backup.service"):
        unit = parse_unit(UNITS / name)
        _, command, *arguments = exec_start(unit)
        assert command in commands, f"{name}: `linli {command}` does not exist"
        parser = load_command_class(commands[command], command).create_parser("linli", command)
        parser.parse_args(arguments)  # Exits (SystemExit) on an unknown or malformed option.
        assert one(unit, "Service", "EnvironmentFile") == INSTALLED_ENVIRONMENT_FILE
        assert one(unit, "Service", "WorkingDirectory") == INSTALLED_APP_DIR
        assert one(unit, "Service", "User") == "linli"
        assert one(unit, "Service", "UMask") == "0077"
    timer = parse_unit(UNITS / "linli-backup.timer")
    assert one(timer, "Timer", "Persistent") == "true"  # A night missed runs at the next boot.
    assert one(timer, "Install", "WantedBy") == "timers.target"


def test_every_variable_of_the_example_is_read_by_linli_and_documented():
    example = parse_environment_file(ENVIRONMENT_EXAMPLE)
    code = "\n".join(
        path.read_text()
        for path in (REPOSITORY / "linli").rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    )
    readme = README.read_text()
    configuration = readme[readme.index("## Configuration") :]
    configuration = configuration[: configuration.index("\n## ", 1)]
    for variable in example:
        assert f'"{variable}"' in code, f"{variable}: no code of linli/ reads it"
        assert f"`{variable}`" in configuration, f"{variable}: not in README.md's Configuration"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)
def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path):
    """`systemd-analyze verify` reads the units as systemd would (unknown keys, bad values,
    missing executables). Copies point ExecStart at this checkout's `linli`, which exists
    here where /opt/linli does not."""
    for unit in UNITS.iterdir():
        text = unit.read_text().replace(INSTALLED_LINLI, str(LINLI))
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(path) for path in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr.strip()) == (0, "")


# The units run -------------------------------------------------------------------------------


def postgres_server_url() -> str:
    """The shared server the suite uses (its DATABASE_URL in the PostgreSQL run)."""
    url = os.environ.get("DATABASE_URL", "")
    return (
        url
        if url.startswith(("postgres://", "postgresql://"))
        else ("postgres://postgres@127.0.0.1:5432/postgres")
    )


def maintenance(statement: str) -> None:
    server = dj_database_url.parse(postgres_server_url())
    with psycopg.connect(
        dbname="postgres",
        host=server["HOST"] or "127.0.0.1",
        port=str(server["PORT"] or 5432),
        user=server["USER"] or "postgres",
        password=server["PASSWORD"] or None,
        autocommit=True,
        connect_timeout=5,
    ) as connection:
        connection.execute(statement)


def database_url(name: str) -> str:
    server = dj_database_url.parse(postgres_server_url())
    credentials = server["USER"] or "postgres"
    if server["PASSWORD"]:
        credentials += f":{server['PASSWORD']}"
    return (
        f"postgres://{credentials}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/{name}"
    )


@pytest.fixture
def throwaway_database():
    name = f"linli_deploy_{uuid.uuid4().hex[:12]}"
    try:
        maintenance(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        # As the suite's PostgreSQL run (.ci/suite.py): a loud skip on a laptop, a failure
        # where both databases must be proven.
        if any(
            os.environ.get(variable, "").lower() in ("1", "true", "yes")
            for variable in ("CI", "LINLI_REQUIRE_POSTGRES")
        ):
            pytest.fail(f"PostgreSQL at {postgres_server_url()} is not reachable: {error}")
        pytest.skip(f"PostgreSQL at {postgres_server_url()} is not reachable: {error}")
    try:
        yield name
    finally:
        maintenance(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, explain=None):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what}"
                + (f"\n{explain()}" if explain else "")
            )
        time.sleep(0.2)


@dataclass
class Answer:
    status: int
    headers: Message
    body: str


def get(port: int, path: str, headers: dict | None = None) -> Answer:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    # No redirect following: a redirect to https is an answer to see, not to follow.
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return Answer(response.status, response.headers, response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read().decode())
    except OSError:
        return Answer(0, Message(), "")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Service:
    """One unit's ExecStart as a subprocess, in a process group of its own (so that a test
    that fails still ends everything it started, by that group's id)."""

    name: str
    unit: dict
    argv: list[str]
    log: Path
    process: subprocess.Popen | None = None
    signalled_at: float = 0.0
    stopped_in: float | None = None

    def start(self, environment: dict) -> None:
        self.process = subprocess.Popen(
            self.argv,
            env=environment,
            cwd=REPOSITORY,
            umask=int(one(self.unit, "Service", "UMask"), 8),
            stdin=subprocess.DEVNULL,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return f"--- {self.name} ---\n" + self.log.read_text(errors="replace")[-4000:]

    def send_kill_signal(self) -> None:
        """KillSignal to the main process only, as KillMode=mixed does."""
        assert self.process is not None
        self.process.send_signal(signal.Signals[one(self.unit, "Service", "KillSignal")])
        self.signalled_at = time.monotonic()

    def stop_deadline(self) -> float:
        return self.signalled_at + seconds_of(one(self.unit, "Service", "TimeoutStopSec"))

    def check_stopped(self) -> int | None:
        """The exit status once the main process has exited, with nothing of the unit left
        running (systemd would SIGKILL what remains); None while it runs."""
        status = self.process.poll()
        if status is None:
            return None
        if self.stopped_in is None:
            self.stopped_in = time.monotonic() - self.signalled_at
            # A child the main process killed on its way out may take a moment to go; a
            # zombie left to the init process holds nothing (systemd reaps its own).
            deadline = time.monotonic() + 3
            while (left := living_processes_in_group(self.process.pid)) and (
                time.monotonic() < deadline
            ):
                time.sleep(0.1)
            assert not left, f"{self.name}: processes outlived its main process: {left}"
        return status

    def kill_leftovers(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def living_processes_in_group(group: int) -> list[str]:
    """The processes of a process group that are not zombies, as "pid command"."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except OSError:
            continue  # Gone meanwhile.
        # After "pid (comm)": state, ppid, pgrp.
        state, _parent, process_group = stat.rsplit(")", 1)[1].split()[:3]
        if int(process_group) == group and state != "Z":
            found.append(f"{entry.name} {command}")
    return found


def service_environment(
    *, database: str, redis_port: int, var_dir: Path, backups: Path, metrics_token: str
) -> dict[str, str]:
    """What systemd gives a unit: its PATH, HOME of the service user, and the variables of
    the environment file, here the example's with the test's own values where it must."""
    environment = parse_environment_file(ENVIRONMENT_EXAMPLE)
    own = {
        "DATABASE_URL": database_url(database),
        "LINLI_VAR_DIR": str(var_dir),
        "LINLI_BACKUP_DIR": str(backups),
        "LINLI_SECRET_KEY": secrets.token_urlsafe(50),
        "LINLI_FIELD_KEY": secrets.token_urlsafe(32),
        "LINLI_REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
        "LINLI_CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "LINLI_METRICS_TOKEN": metrics_token,
    }
    assert set(own) <= set(environment), set(own) - set(environment)
    # As the example has it: the public name, and this machine's for checks and monitors.
    assert "127.0.0.1" in environment["LINLI_ALLOWED_HOSTS"].split(",")
    environment.update(own)
    # LINLI_HTTPS stays as in the example (1): production's settings, with requests sent as
    # nginx forwards them (X-Forwarded-Proto) or as a monitor on this machine sends them.
    environment.update(PATH=SYSTEMD_PATH, HOME=str(var_dir.parent / "home"))
    return environment


def admin(environment_file: Path, *arguments: str, extra: dict | None = None, timeout=300):
    """deploy/linli-admin, as docs/deploy.md runs it, for this checkout and user."""
    return subprocess.run(
        ["sh", str(ADMIN_SCRIPT), *arguments],
        env={
            "PATH": SYSTEMD_PATH,
            "LINLI_ENV_FILE": str(environment_file),
            "LINLI_APP_DIR": str(REPOSITORY),
            "LINLI_BIN": str(LINLI),
            "LINLI_SERVICE_USER": pwd.getpwuid(os.getuid()).pw_name,
            **(extra or {}),
        },
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query(database: str, sql: str, *parameters) -> list[tuple]:
    with psycopg.connect(database_url(database), connect_timeout=5) as connection:
        return connection.execute(sql, parameters).fetchall()


SEND_NOTIFICATION = """
from django.db import transaction
from linli.accounts.models import User
from linli.notify.services import notification_send

with transaction.atomic():
    notification_send(recipients=[User.objects.get(username="admin")], kind="case_escalated",
                      title="deploy test")
"""


@pytest.mark.slow
@needs_redis_server
def test_the_units_start_serve_ready_back_up_and_stop(throwaway_database, tmp_path):
    began = time.monotonic()
    units = {name: parse_unit(UNITS / name) for name in (*SERVICES, "linli-backup.service")}
    for unit in units.values():
        assert one(unit, "Service", "WorkingDirectory") == INSTALLED_APP_DIR
        assert one(unit, "Service", "EnvironmentFile") == INSTALLED_ENVIRONMENT_FILE
    port = free_port()
    metrics_token = secrets.token_urlsafe(24)
    var_dir, backups = tmp_path / "var", tmp_path / "backups"
    (tmp_path / "home").mkdir()
    with running_redis(tmp_path) as redis:
        environment = service_environment(
            database=throwaway_database,
            redis_port=redis.port,
            var_dir=var_dir,
            backups=backups,
            metrics_token=metrics_token,
        )
        environment_file = tmp_path / "linli.env"
        environment_file.write_text(
            "".join(f"{key}={value}\n" for key, value in environment.items())
        )

        # The guide's install steps: schema, then the first login.
        migrated = admin(environment_file, "migrate", "--noinput", "-v", "0")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        superuser = admin(
            environment_file,
            "createsuperuser",
            "--noinput",
            "--username",
            "admin",
            "--email",
            "admin@example.org",
            extra={"DJANGO_SUPERUSER_PASSWORD": secrets.token_urlsafe(16)},
        )
        assert superuser.returncode == 0, superuser.stdout + superuser.stderr
        migrated_after = time.monotonic() - began

        services = {}
        for name in SERVICES:
            argv = exec_start(units[name])
            argv[0] = str(LINLI)
            if name == "linli-web.service":
                # The unit's port may be taken on a shared machine: the test's own.
                argv[argv.index("--port") + 1] = str(port)
            services[name] = Service(name, units[name], argv, tmp_path / f"{name}.log")
        try:
            for service in services.values():
                service.start(environment)

            def everything() -> str:
                return "\n".join(service.output() for service in services.values())

            def ready() -> Answer | None:
                for service in services.values():
                    assert service.process.poll() is None, f"{service.name} exited\n{everything()}"
                answer = get(port, "/readyz")
                return answer if answer.status == 200 else None

            readiness = wait_for(
                ready,
                timeout=90,
                what="/readyz to answer 200",
                explain=lambda: f"{get(port, '/readyz').body}\n{everything()}",
            )
            ready_after = time.monotonic() - began
            checks = json.loads(readiness.body)["checks"]
            assert {name: check["ok"] for name, check in checks.items()} == {
                "database": True,
                "cache": True,
                "broker": True,
                "scheduler": True,
                "disk": True,
            }
            # From this machine, /readyz says why (the details are for the operator).
            assert "heartbeat" in checks["scheduler"]["detail"]
            assert "redis" in checks["broker"]["detail"].lower()

            # The id nginx sends as X-Request-ID comes back, and names the request's log line.
            request_id = f"deploy-{uuid.uuid4().hex[:8]}"
            health = get(port, "/healthz", {"X-Request-ID": request_id})
            assert (health.status, health.body) == (200, '{"status": "ok"}')
            assert health.headers.get("X-Request-ID") == request_id

            # /metrics: from this machine; relayed by a proxy only with the token (the rule
            # deploy/nginx/linli.conf and deploy/Caddyfile rely on).
            local = get(port, "/metrics")
            assert local.status == 200 and "linli_outbox_messages" in local.body, local.body[:500]
            relayed = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
            assert get(port, "/metrics", relayed).status == 404
            with_token = get(
                port, "/metrics", {**relayed, "Authorization": f"Bearer {metrics_token}"}
            )
            assert with_token.status == 200 and "linli_job_runs_total" in with_token.body

            # A page through nginx (X-Forwarded-Proto: https) is served with Secure cookies;
            # the same page over plain http is sent to https (LINLI_HTTPS=1).
            through_proxy = get(port, "/login/", {**relayed, "Host": "linli.example.org"})
            assert through_proxy.status == 200, through_proxy.body[:500]
            cookies = through_proxy.headers.get_all("Set-Cookie") or []
            assert cookies and all("; Secure" in cookie for cookie in cookies), cookies
            plain = get(port, "/login/", {"Host": "linli.example.org"})
            assert (plain.status, plain.headers.get("Location")) == (
                301,
                "https://linli.example.org/login/",
            )

            # The worker takes a notification from Redis and delivers it (in-app).
            sent = subprocess.run(
                [str(LINLI), "shell", "-c", SEND_NOTIFICATION],
                env=environment,
                cwd=REPOSITORY,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert sent.returncode == 0, sent.stdout + sent.stderr
            worker_pid = services["linli-worker.service"].process.pid
            delivered = wait_for(
                lambda: query(
                    throwaway_database,
                    "SELECT a.worker FROM notify_outboxattempt a "
                    "JOIN notify_outboxmessage m ON m.id = a.message_id "
                    "WHERE m.status = 'sent' AND a.outcome = 'sent'",
                ),
                timeout=30,
                what="the worker to deliver the notification",
                explain=everything,
            )
            assert delivered == [(f"{socket.gethostname()}:{worker_pid}"[:100],)]

            # The backup unit's command, once, as its timer would start it.
            backup_argv = exec_start(units["linli-backup.service"])
            backup_argv[0] = str(LINLI)
            backup = subprocess.run(
                backup_argv,
                env=environment,
                cwd=REPOSITORY,
                umask=0o077,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert backup.returncode == 0, backup.stdout + backup.stderr
            (archive,) = backups.glob("linli-backup-*.tar")
            assert archive.stat().st_mode & 0o777 == 0o600

            # The journal gets one JSON line a request (LINLI_LOG_FORMAT=json).
            web_log = services["linli-web.service"].log.read_text().splitlines()
            records = [json.loads(line) for line in web_log if line.startswith("{")]
            (line,) = [record for record in records if record.get("request_id") == request_id]
            assert (line["logger"], line["route"], line["status"]) == (
                "linli.request",
                "healthz",
                200,
            )

            # The guide's check after installing: Django's deployment checks and Linli's own.
            deploy_check = admin(environment_file, "check", "--deploy")
            assert deploy_check.returncode == 0, deploy_check.stdout + deploy_check.stderr
            assert "System check identified no issues" in deploy_check.stdout, (
                deploy_check.stdout + deploy_check.stderr
            )

            # `systemctl stop` stops the three at once: no unit is ordered after another.
            for service in services.values():
                service.send_kill_signal()
            running = set(services)
            while running:
                for name in sorted(running):
                    service = services[name]
                    status = service.check_stopped()
                    if status is not None:
                        assert status == 0, f"{name} exited with {status}\n{service.output()}"
                        running.discard(name)
                    elif time.monotonic() > service.stop_deadline():
                        raise AssertionError(
                            f"{name} did not stop within TimeoutStopSec\n{service.output()}"
                        )
                time.sleep(0.1)
        finally:
            for service in services.values():
                service.kill_leftovers()
    elapsed = time.monotonic() - began
    print(
        f"\nmigrate+createsuperuser {migrated_after:.1f} s, /readyz green at {ready_after:.1f} s, "
        + ", ".join(f"{s.name} stopped in {s.stopped_in:.1f} s" for s in services.values())
        + f"; {elapsed:.1f} s in all"
    )
