"""Several scheduler processes at once run a due job once: on an SQLite file (the embedded
default, two `linli serve` by mistake) and on PostgreSQL (schedulers on several hosts)."""

import json
import subprocess
import sys
import time

import pytest
from django.db import connection

from linli.ops.models import JobOutcome, JobRun
from linli.ops.tests.jobs_processes import (  # noqa: F401 - fixtures
    child_environment,
    migrated_sqlite_template,
    migrated_var_dir,
)

# Real processes for tens of seconds; they read the real clock, so the shifted-clock run
# (`make test-shifted`) leaves them out.
pytestmark = pytest.mark.slow

PROCESSES = 3


def race(folder, env) -> list[dict]:
    """Start the probes, wait until each is ready, let them all go at once."""
    probes = [
        subprocess.Popen(
            [sys.executable, "-m", "linli.ops.tests.scheduler_probe", str(folder), str(number)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(PROCESSES)
    ]
    try:
        deadline = time.monotonic() + 120
        while len(list(folder.glob("*.ready"))) < PROCESSES:
            for probe in probes:
                if probe.poll() is not None:
                    pytest.fail(f"a probe exited early:\n{probe.stderr.read()}")
            assert time.monotonic() < deadline, "the probes were not ready within 120 s"
            time.sleep(0.05)
        (folder / "go").touch()
        outcomes = []
        for probe in probes:
            output, errors = probe.communicate(timeout=60)
            assert probe.returncode == 0, errors
            outcomes.append(json.loads(output.strip().splitlines()[-1]))
        return outcomes
    finally:
        for probe in probes:
            if probe.poll() is None:
                probe.kill()


def test_scheduler_processes_on_one_sqlite_file_run_a_due_job_once(migrated_var_dir, tmp_path):  # noqa: F811
    folder = tmp_path / "race"
    folder.mkdir()
    outcomes = race(folder, child_environment(migrated_var_dir))
    assert sorted(outcomes, key=len) == [{}] * (PROCESSES - 1) + [{"slow": "succeeded"}]
    import sqlite3

    with sqlite3.connect(migrated_var_dir / "linli.sqlite3") as database:
        runs = database.execute("SELECT job, outcome FROM ops_jobrun").fetchall()
    assert runs == [("slow", "succeeded")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="processes on PostgreSQL")
def test_scheduler_processes_on_postgresql_run_a_due_job_once(tmp_path):
    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    folder = tmp_path / "race"
    folder.mkdir()
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    outcomes = race(folder, child_environment(var_dir, database_url=url))
    assert sorted(outcomes, key=len) == [{}] * (PROCESSES - 1) + [{"slow": "succeeded"}]
    assert list(JobRun.objects.values_list("job", "outcome")) == [("slow", JobOutcome.SUCCEEDED)]
