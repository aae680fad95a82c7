"""The embedded default's cache is shared by every process on the machine.

Before, it was per process (LocMemCache): under two gunicorn workers, the emergency banner
and anything cached differed from one request to the next. Now it is a folder under
var/cache (linli.ops.cache.FailSoftFileBasedCache). Two live processes with the default
settings (no LINLI_REDIS_URL) see each other's writes and invalidations at once.
"""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from linli.ops.tests.services import production_settings

# Each process reads commands on stdin and answers one JSON line each.
PROCESS = """
import json, sys
import django
django.setup()
from django.core.cache import cache, caches
from linli.emergency.selectors import LIVE_KEY, live_activations_forget
backend = caches["default"]
print(json.dumps([type(backend).__name__, backend._dir]), flush=True)
for line in sys.stdin:
    command, _, argument = line.strip().partition(" ")
    if command == "set":
        cache.set(LIVE_KEY, json.loads(argument), 30)
        answer = "ok"
    elif command == "get":
        answer = cache.get(LIVE_KEY)
    elif command == "forget":
        live_activations_forget()
        answer = "ok"
    print(json.dumps(answer), flush=True)
"""


class CacheProcess:
    def __init__(self, var_dir: Path) -> None:
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "linli.settings",
            "LINLI_VAR_DIR": str(var_dir),
            "LINLI_SECRET_KEY": settings.SECRET_KEY,
            "LINLI_FIELD_KEY": settings.FIELD_ENCRYPTION_KEY,
            "LINLI_CELERY_BROKER_URL": "memory://",
        }
        environment.pop("LINLI_REDIS_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", PROCESS],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def started(self) -> "CacheProcess":
        self.backend, self.location = self.read()
        return self

    def read(self):
        line = self.process.stdout.readline()
        assert line, "the process ended"
        return json.loads(line)

    def ask(self, command: str):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


def test_the_embedded_default_is_the_fail_soft_file_cache_under_var():
    production = production_settings(LINLI_VAR_DIR="/srv/linli/var", LINLI_REDIS_URL="")
    assert production["CACHES"]["default"]["BACKEND"] == "linli.ops.cache.FailSoftFileBasedCache"
    assert production["CACHES"]["default"]["LOCATION"] == "/srv/linli/var/cache"


@pytest.mark.faults
def test_two_processes_share_the_banner_cache_and_its_invalidation(tmp_path):
    # Started side by side, like two gunicorn workers.
    first, second = CacheProcess(tmp_path), CacheProcess(tmp_path)
    try:
        first.started(), second.started()
        assert first.backend == second.backend == "FailSoftFileBasedCache"
        assert first.location == second.location == str(tmp_path / "cache")

        live = [{"pk": 7, "grade": 2, "scope__name": "A社区"}]
        assert first.ask(f"set {json.dumps(live)}") == "ok"
        assert second.ask("get") == live
        # An activation's invalidation in one worker reaches the banner in the other.
        assert second.ask("forget") == "ok"
        assert first.ask("get") is None
    finally:
        first.close()
        second.close()

    # The cache holds what pages show: the service's own, nobody else's.
    directory = tmp_path / "cache"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


@pytest.mark.parametrize("attempt", [1, 2])
def test_the_tests_cache_is_private_to_this_run_and_worker(attempt, tmp_path_factory):
    # linli/conftest.py: never var/cache (a demo may be running), one folder per xdist
    # worker; cleared before each test, so a value set in one test is gone in the next.
    location = Path(cache._dir)
    assert not location.is_relative_to(settings.VAR_DIR)
    assert location.is_relative_to(tmp_path_factory.getbasetemp())
    assert cache.get("left-by-the-previous-test") is None
    cache.set("left-by-the-previous-test", attempt)
