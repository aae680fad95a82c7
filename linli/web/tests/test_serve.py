"""`linli serve` in a real subprocess: gunicorn answers, whitenoise serves static files.

Each test uses its own SQLite database and var directory under tmp_path, whatever database
the rest of the suite runs on.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

# Real processes for tens of seconds; they read the real clock, so the shifted-clock run
# (`make test-shifted`) leaves them out.
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def linli_env(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LINLI_") and key != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=f"sqlite:///{var_dir / 'linli.sqlite3'}",
        LINLI_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="linli.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def linli(*args: str) -> list[str]:
    return [sys.executable, "-m", "linli.cli", *args]


def get(url: str, **headers) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_serve_refuses_a_database_with_unapplied_migrations(tmp_path):
    result = subprocess.run(
        linli("serve", "--port", str(free_port())),
        env=linli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "unapplied migration" in result.stderr
    assert "linli migrate" in result.stderr
    assert not (tmp_path / "static").exists()


def test_serve_answers_through_gunicorn_with_static_files(tmp_path):
    env = linli_env(tmp_path)
    subprocess.run(linli("migrate", "--noinput", "-v", "0"), env=env, check=True, timeout=120)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        linli("serve", "--port", str(port), "--workers", "1", "--threads", "2"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"linli serve exited early:\n{server.stdout.read()}")
            try:
                status, headers, body = get(f"{base}/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("linli serve did not answer /healthz within 60 s")
                time.sleep(0.2)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert headers["Server"].startswith("gunicorn")

        status, headers, body = get(f"{base}/login/", **{"Accept-Language": "en"})
        assert status == 200
        assert b'name="username"' in body

        manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
        hashed = manifest["paths"]["admin/css/base.css"]
        assert hashed != "admin/css/base.css"
        status, headers, body = get(f"{base}/static/{hashed}", **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Content-Type"].startswith("text/css")
        assert headers["Content-Encoding"] == "gzip"
        assert "immutable" in headers["Cache-Control"]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0
    assert f"Linli at http://127.0.0.1:{port}/" in output
    # The request log (linli.ops.middleware): one JSON line a request, static files included.
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    routes = {entry["route"] for entry in logged if entry["logger"] == "linli.request"}
    assert {"healthz", "web:login", "static"} <= routes
