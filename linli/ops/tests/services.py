"""Throw-away services for fault tests: a redis-server and a PostgreSQL cluster of the test's
own, on a free local port and a temporary directory, which the test may stop, pause
(SIGSTOP) or restart without touching the shared instances. Each is removed when its test
ends, also when the test fails.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
# PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` user.
POSTGRES_USER = "postgres"

needs_redis_server = pytest.mark.skipif(
    not os.access(REDIS_SERVER, os.X_OK),
    reason="redis-server is not installed (Debian: apt-get install redis-server)",
)
needs_postgres_binaries = pytest.mark.skipif(
    not (POSTGRES_BIN / "initdb").exists(),
    reason="PostgreSQL 15 server binaries are not installed (Debian: postgresql-15)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.settimeout(0.5)
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One private redis-server, without persistence: stop, start (same port), pause, resume."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None
        self.paused = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: answers_ping(self.port), timeout=10, what="redis-server to start")

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers (a hung server)."""
        assert self.process is not None and not self.paused
        self.process.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.process is not None and self.paused:
            self.process.send_signal(signal.SIGCONT)
            self.paused = False

    def stop(self) -> None:
        if self.process is None:
            return
        self.resume()  # A stopped process would not act on SIGTERM.
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        wait_until(lambda: not answers_ping(self.port), timeout=10, what="redis-server to stop")


@contextmanager
def running_redis(directory: Path) -> Iterator[RedisServer]:
    """A started RedisServer, stopped when the block ends (a test's fixture wraps this)."""
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PostgresCluster:
    """A private PostgreSQL cluster (initdb) on a free port, trust authentication, user
    `postgres`, no fsync (its data is thrown away)."""

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's tmp_path: the postgres user must be able to reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="linli-faults-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.running = False
        if os.geteuid() == 0:
            shutil.chown(self.directory, user=POSTGRES_USER)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", POSTGRES_USER, "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off"
        )
        self._run(
            str(POSTGRES_BIN / "pg_ctl"),
            action,
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "30",
            "-o",
            options,
            *extra,
        )

    def init(self) -> None:
        self._run(
            str(POSTGRES_BIN / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            POSTGRES_USER,
            "-E",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        self._pg_ctl("start")
        self.running = True

    def restart(self) -> None:
        # fast: the server ends every session, as a restart for an upgrade or a crash would.
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if self.running:
            self._pg_ctl("stop", "-m", "immediate")
            self.running = False

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def running_postgres() -> Iterator[PostgresCluster]:
    """A started PostgresCluster, removed with its files when the block ends."""
    cluster = PostgresCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def production_settings(**environment: str) -> dict:
    """linli/settings.py evaluated afresh with these environment variables set: the exact
    configuration a deployment with them gets (e.g. LINLI_REDIS_URL=…), without changing the
    settings of the running tests."""
    import runpy
    from unittest import mock

    import linli.settings

    with mock.patch.dict(os.environ, environment):
        return runpy.run_path(linli.settings.__file__)


def reset_broker_connections() -> None:
    """Close and forget Celery's and kombu's pooled broker connections, so that the next send
    connects afresh (to another test's broker, or eagerly)."""
    import kombu.pools

    from linli.celery import app

    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def celery_on(broker_url: str, **production: object) -> Iterator[None]:
    """Celery sending through `broker_url`, not eagerly, with the broker settings that
    settings.py gives such a deployment (`production_settings(LINLI_CELERY_BROKER_URL=…)`)."""
    from linli.celery import app

    options = {
        "broker_url": broker_url,
        "task_always_eager": False,
        "broker_connection_timeout": production["CELERY_BROKER_CONNECTION_TIMEOUT"],
        "broker_transport_options": production["CELERY_BROKER_TRANSPORT_OPTIONS"],
    }
    saved = {key: app.conf[key] for key in options}
    app.conf.update(options)
    reset_broker_connections()
    try:
        yield
    finally:
        reset_broker_connections()
        app.conf.update(saved)
