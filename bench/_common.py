"""What several benchmarks share (bench/run.py skips files starting with "_")."""


def ensure_database(url: str, rebuild: bool) -> None:
    """Create the benchmark's own PostgreSQL database if missing (dropped first with
    `rebuild`), so that loaded data can be reused between runs."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and rebuild:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
