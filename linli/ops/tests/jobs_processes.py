"""Real processes for the scheduler and serve tests: a migrated SQLite file (made once per
test session, copied for each test) and the environment for a `linli` child process."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def linli(*args: str) -> list[str]:
    return [sys.executable, "-m", "linli.cli", *args]


def child_environment(var_dir: Path, database_url: str | None = None, **extra) -> dict:
    """The test runner's environment without its Linli settings, on its own var directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LINLI_") and key != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=database_url or f"sqlite:///{var_dir / 'linli.sqlite3'}",
        LINLI_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="linli.settings",
        PYTHONUNBUFFERED="1",
        LINLI_LOG_FORMAT="text",
        **extra,
    )
    return env


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory) -> Path:
    """An SQLite database with every migration applied (about 15 s, once a session)."""
    folder = tmp_path_factory.mktemp("migrated")
    subprocess.run(
        linli("migrate", "--noinput", "-v", "0"),
        env=child_environment(folder),
        check=True,
        timeout=300,
    )
    return folder / "linli.sqlite3"


@pytest.fixture
def migrated_var_dir(migrated_sqlite_template, tmp_path) -> Path:
    """A var directory of this test's own with a copy of the migrated database (and the keys
    that go with it)."""
    var_dir = tmp_path / "var"
    var_dir.mkdir(mode=0o700)
    for name in ("linli.sqlite3", "secret_key", "field_key"):
        source = migrated_sqlite_template.parent / name
        if source.exists():
            shutil.copy2(source, var_dir / name)
    return var_dir
