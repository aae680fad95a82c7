"""Real services for the operations tests: a database server that is not there, and a
throw-away Redis that a test may stop or pause (SIGSTOP) without touching the shared one."""

import io
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import connections
from django.db.utils import load_backend

from linli.ops.logging import JsonFormatter, RedactSecrets


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_database_unreachable(function: Callable, tmp_path: Path):
    """`function()` in a new thread whose default database is a server that is not there
    (PostgreSQL: a port nobody listens on; SQLite: a file in a missing directory). The
    driver's own error, as when the real server is down; the test's database is untouched."""
    outcome: dict = {}

    def run():
        settings_dict = dict(connections["default"].settings_dict)
        if settings_dict["ENGINE"].endswith("sqlite3"):
            settings_dict["NAME"] = str(tmp_path / "absent" / "linli.sqlite3")
        else:
            settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
        backend = load_backend(settings_dict["ENGINE"])
        connections["default"] = backend.DatabaseWrapper(settings_dict, "default")
        try:
            outcome["value"] = function()
        except BaseException as error:  # Raised again in the test's thread.
            outcome["error"] = error
        finally:
            connections["default"].close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the request with the database unreachable did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass
class ThrowawayRedis:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.resume()
        self.process.terminate()
        self.process.wait(10)


@contextmanager
def throwaway_redis(directory: Path) -> Iterator[ThrowawayRedis]:
    port = free_port()
    process = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", ""]
        + ["--appendonly", "no", "--dir", str(directory), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    redis = ThrowawayRedis(process=process, port=port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the throw-away redis-server did not start"
            time.sleep(0.05)
        yield redis
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
        process.wait(10)


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """What the configured console handler writes (its filters included), as JSON lines,
    with the root logger at DEBUG meanwhile."""
    root = logging.getLogger()
    handler = next(
        handler
        for handler in root.handlers
        if any(isinstance(item, RedactSecrets) for item in handler.filters)
    )
    stream = io.StringIO()
    previous_stream = handler.setStream(stream)
    previous_formatter, previous_level = handler.formatter, root.level
    handler.setFormatter(JsonFormatter())
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.setLevel(previous_level)
        handler.setFormatter(previous_formatter)
        handler.setStream(previous_stream)
