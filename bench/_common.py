"""What several benchmarks share (bench/run.py skips files starting with "_").

A benchmark never deletes data it did not create:

- It works only in PostgreSQL databases of its own. `database_create` marks each database
  it creates with a comment; a database carrying that mark, or named `linli_bench…` (the
  benchmarks' own default names, from before the mark), is a benchmark's. Pointed with
  `--database-url` at any other existing database, a benchmark stops before it connects:
  it neither migrates, writes to nor drops it. (A database may still be read as a
  template to copy: bench/resilience_indicators.py.)
- It runs as an installation of its own (`isolate_environment`): a var directory of its
  own per database, and none of the `LINLI_*` settings of the shell it was started from
  (a real site's Redis cache and broker, SMS and e-mail gateways, media directory, field
  key), so its cache entries, queued tasks and messages cannot reach a real site, and
  `make demo`'s `var/` is never read or written.
"""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

MARK = "Created by a Linli benchmark (bench/): dropped and rebuilt by the benchmarks."
OWN_NAME_PREFIX = "linli_bench"


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _server(url: str):
    import psycopg

    return psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True)


def _state(conn, name: str) -> tuple[bool, bool]:
    """(exists, created by a benchmark)."""
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [name],
    ).fetchone()
    if row is None:
        return False, False
    return True, row[0] == MARK or name.startswith(OWN_NAME_PREFIX)


def database_is_own(url: str) -> bool:
    with _server(url) as conn:
        exists, own = _state(conn, database_name(url))
    return exists and own


def database_create(url: str, template: str | None = None) -> None:
    """Create the database (optionally as a copy of `template`) and mark it as ours."""
    name = database_name(url)
    with _server(url) as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{MARK}'")


def _refuse(name: str) -> SystemExit:
    return SystemExit(
        f"The database {name} was not created by a benchmark: it is left alone. "
        "Give the benchmark a database name of its own (--database-url)."
    )


def database_drop(url: str) -> None:
    """Drop the database if it exists and a benchmark created it; stop otherwise."""
    name = database_name(url)
    with _server(url) as conn:
        exists, own = _state(conn, name)
        if not exists:
            return
        if not own:
            raise _refuse(name)
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def database_recreate(url: str) -> None:
    database_drop(url)
    database_create(url)


def ensure_database(url: str, rebuild: bool) -> None:
    """Create the benchmark's own PostgreSQL database if missing (dropped first with
    `rebuild`), so that loaded data can be reused between runs. Stops on an existing
    database that a benchmark did not create."""
    if rebuild:
        database_drop(url)
    with _server(url) as conn:
        exists, own = _state(conn, database_name(url))
    if exists and not own:
        raise _refuse(database_name(url))
    if not exists:
        database_create(url)


def isolate_environment(database_url: str) -> Path:
    """Run as an installation of its own: drop every `LINLI_*` setting of the calling shell
    but the benchmarks' own `LINLI_BENCH_*`, point `DATABASE_URL` at the benchmark's
    database and `LINLI_VAR_DIR` at a directory of its own for that database (under
    `LINLI_BENCH_VAR_DIR`, default the system's temporary directory), with Celery's
    in-memory broker. Call before `django.setup()`; the benchmark then sets what it needs
    (field key, Celery mode)."""
    for name in list(os.environ):
        if name.startswith("LINLI_") and not name.startswith("LINLI_BENCH_"):
            del os.environ[name]
    base = os.environ.get("LINLI_BENCH_VAR_DIR") or os.path.join(
        tempfile.gettempdir(), f"linli-bench-var-{os.getuid()}"
    )
    var_dir = Path(base) / database_name(database_url)
    var_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    # The embedded default's file cache lives there: entries of an earlier run (a database
    # since rebuilt) must not answer for this one. It is the benchmark's own cache.
    shutil.rmtree(var_dir / "cache", ignore_errors=True)
    os.environ["LINLI_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = database_url
    # Background tasks run inline, as in the numbers recorded here; no worker reads a
    # broker of the benchmark's (the embedded default's file broker would only pile up).
    os.environ["LINLI_CELERY_BROKER_URL"] = "memory://"
    return var_dir


def log_to_file() -> Path:
    """Send Linli's log (one JSON line a request since issue 12) to `linli.log` in the
    benchmark's var directory instead of the terminal: every line is still formatted and
    written, as in production, but thousands of timed requests do not bury the results.
    Call after `django.setup()`; returns the file's path."""
    import logging

    path = Path(os.environ["LINLI_VAR_DIR"]) / "linli.log"
    stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life
    seen = set()
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ):
                if id(handler) not in seen:
                    seen.add(id(handler))
                    handler.setStream(stream)
    return path


@contextmanager
def candidate_index(connection, name: str, create_sql: str):
    """Build a candidate index for a measurement and drop it afterwards, unless an index of
    that name was already there (e.g. since adopted by a migration): then it is measured as
    it is and left in place. Yields whether the index was built here."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i'", [name])
        existed = cursor.fetchone() is not None
        if not existed:
            cursor.execute(create_sql)
    try:
        yield not existed
    finally:
        if not existed:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
