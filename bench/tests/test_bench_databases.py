"""A benchmark drops only a PostgreSQL database it created (bench/_common.py)."""

import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import _common  # noqa: E402

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmarks' databases"),
]


@pytest.fixture
def server_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}"
    )


@pytest.fixture
def throw_away_names(server_url):
    names = []
    yield names
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def exists(server_url: str, name: str) -> bool:
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def test_a_database_it_did_not_create_is_never_used_nor_dropped(server_url, throw_away_names):
    name = f"test_bench_guard_{uuid.uuid4().hex[:10]}"
    throw_away_names.append(name)
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server_url}/{name}"

    for use in (
        _common.database_drop,
        _common.database_recreate,
        lambda url: _common.ensure_database(url, rebuild=True),
        lambda url: _common.ensure_database(url, rebuild=False),
    ):
        with pytest.raises(SystemExit, match="not created by a benchmark"):
            use(url)
    assert exists(server_url, name)
    assert not _common.database_is_own(url)


def test_a_database_it_created_is_dropped_and_rebuilt(server_url, throw_away_names):
    name = f"test_bench_own_{uuid.uuid4().hex[:10]}"
    throw_away_names.append(name)
    url = f"{server_url}/{name}"

    _common.ensure_database(url, rebuild=False)
    assert _common.database_is_own(url)
    _common.ensure_database(url, rebuild=True)
    assert _common.database_is_own(url)
    _common.database_drop(url)
    assert not exists(server_url, name)
