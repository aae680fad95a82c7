"""After a PostgreSQL restart the next request works (CONN_HEALTH_CHECKS).

The fault probe found that after a restart, threads holding a kept connection (CONN_MAX_AGE)
answered 500 until the connection's age ran out (~60 s). Here gunicorn serves the production
settings (linli.ops.tests.db_probe_settings) from a PostgreSQL cluster of the test's own,
which the test restarts; a second server with the health checks turned off shows the fault.
"""

import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from linli.ops.tests.services import (
    free_port,
    needs_postgres_binaries,
    running_postgres,
    wait_until,
)

pytestmark = [pytest.mark.faults, needs_postgres_binaries]

THREADS = 2


@pytest.fixture
def cluster():
    with running_postgres() as cluster:
        yield cluster


def get(port: int, path: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def answers(port: int) -> bool:
    try:
        return get(port, "/pid")[0] == 200
    except OSError:
        return False


class WebServer:
    """gunicorn with the project's WSGI application, one worker of THREADS threads, as
    `linli serve` runs it (gthread)."""

    def __init__(self, database_url: str, directory: Path, *, health_checks: bool) -> None:
        self.port = free_port()
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "linli.ops.tests.db_probe_settings",
            "DATABASE_URL": database_url,
            "LINLI_DB_CONN_MAX_AGE": "60",
            "LINLI_VAR_DIR": str(directory),
            "LINLI_SECRET_KEY": settings.SECRET_KEY,
            "LINLI_FIELD_KEY": settings.FIELD_ENCRYPTION_KEY,
            "LINLI_CELERY_BROKER_URL": "memory://",
            "LINLI_PROBE_WITHOUT_HEALTH_CHECKS": "0" if health_checks else "1",
        }
        self.log = open(directory / "gunicorn.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--threads",
                str(THREADS),
                "--worker-class",
                "gthread",
                "--bind",
                f"127.0.0.1:{self.port}",
                "linli.wsgi:application",
            ],
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def warm(self) -> set[str]:
        """Requests side by side, so that every thread opens (and keeps) a connection."""
        pids: set[str] = set()

        def one():
            status, pid = get(self.port, "/pid?hold=0.5")
            assert status == 200
            pids.add(pid)

        threads = [threading.Thread(target=one) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return pids

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def test_after_a_postgresql_restart_the_next_request_works(cluster, tmp_path):
    database_url = cluster.url("postgres")
    (tmp_path / "checked").mkdir()
    (tmp_path / "unchecked").mkdir()
    checked = WebServer(database_url, tmp_path / "checked", health_checks=True)
    unchecked = WebServer(database_url, tmp_path / "unchecked", health_checks=False)
    try:
        kept = {}
        for server in (checked, unchecked):
            wait_until(lambda server=server: answers(server.port), timeout=30, what="gunicorn")
            kept[server] = server.warm()
            # The connections are kept between requests (CONN_MAX_AGE), one per thread.
            assert len(kept[server]) == THREADS
            assert server.warm() == kept[server]

        cluster.restart()

        # Production settings: the stale connection is noticed and replaced at once.
        statuses = [get(checked.port, "/pid") for _ in range(2 * THREADS)]
        assert [status for status, _ in statuses] == [200] * (2 * THREADS)
        assert not {pid for _, pid in statuses} & kept[checked]
        # Without the health checks (the fault as found): the first request after the
        # restart reaches a dead connection and answers 500.
        assert get(unchecked.port, "/pid")[0] == 500
    finally:
        checked.stop()
        unchecked.stop()
