"""A large upload queued by one process is imported by a real `linli worker` process (the one
`linli serve` starts beside the web server), on an SQLite file of the test's own: the good
file is written, the file with a bad row is reported by row and writes nothing."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linli.ops.tests.jobs_processes import (  # noqa: F401 - fixtures
    child_environment,
    linli,
    migrated_sqlite_template,
    migrated_var_dir,
)

# Real processes for tens of seconds.
pytestmark = pytest.mark.slow

# What the upload page does for a large file (import_run_start), in a process of its own;
# prints the ids of the two runs queued.
QUEUE_TWO_RUNS = """
import json

import django

django.setup()
from django.db import transaction

from linli.conftest import build_world
from linli.grids.importing.runs import import_run_start
from linli.grids.tests.test_importing import GOOD_ROWS, NEW_IDS, csv_bytes

world = build_world()
bad_rows = [
    ["A1-1", "6号楼", "201", "赵一", "男", "1960", "", NEW_IDS[7], "", "", ""],
    ["A1-1", "6号楼", "202", "", "女", "1950", "", NEW_IDS[8], "", "", ""],
]
ids = []
for filename, rows in (("good.csv", GOOD_ROWS), ("bad.csv", bad_rows)):
    with transaction.atomic():
        run = import_run_start(
            actor=world.users["secretary"],
            upload=csv_bytes(rows),
            filename=filename,
            dry_run=False,
            rows_expected=len(rows),
        )
    ids.append(run.pk)
print(json.dumps(ids))
"""


def query(var_dir: Path, sql: str, *parameters) -> list[tuple]:
    with sqlite3.connect(var_dir / "linli.sqlite3", timeout=20) as database:
        return database.execute(sql, parameters).fetchall()


def test_the_worker_imports_a_queued_upload_and_reports_a_bad_row(migrated_var_dir):  # noqa: F811
    env = child_environment(migrated_var_dir)
    queued = subprocess.run(
        [sys.executable, "-c", QUEUE_TWO_RUNS],
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    good_id, bad_id = json.loads(queued.stdout.strip().splitlines()[-1])
    assert query(migrated_var_dir, "SELECT state FROM grids_importrun ORDER BY id") == [
        ("queued",),
        ("queued",),
    ]
    worker = subprocess.Popen(
        linli("worker", "--concurrency", "1"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while query(migrated_var_dir, "SELECT id FROM grids_importrun WHERE state = 'queued'"):
            assert worker.poll() is None, worker.stdout.read()
            assert time.monotonic() < deadline, "the worker did not take the runs"
            time.sleep(0.2)
        while query(migrated_var_dir, "SELECT id FROM grids_importrun WHERE state = 'running'"):
            assert time.monotonic() < deadline, "the runs did not finish"
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    runs = {
        pk: (state, stored_name, json.loads(report))
        for pk, state, stored_name, report in query(
            migrated_var_dir, "SELECT id, state, stored_name, report FROM grids_importrun"
        )
    }
    state, stored_name, report = runs[good_id]
    assert (state, stored_name, report["written"], report["rows"]) == ("done", "", True, 5)
    assert report["counts"]["residents"] == {"created": 5, "updated": 0, "unchanged": 0}
    state, stored_name, report = runs[bad_id]
    assert (state, stored_name, report["written"]) == ("done", "", False)
    assert [(error["row"], error["column"], error["code"]) for error in report["errors"]] == [
        (3, "name", "required")
    ]
    # Nothing of the bad file was written, not even its good row; the good file was.
    assert query(migrated_var_dir, "SELECT name FROM grids_resident WHERE name = '赵一'") == []
    assert query(migrated_var_dir, "SELECT name FROM grids_building WHERE name = '6号楼'") == []
    assert query(migrated_var_dir, "SELECT name FROM grids_resident WHERE name = '陈秀兰'") == [
        ("陈秀兰",)
    ]
    # Both uploads are gone from private storage.
    assert list((migrated_var_dir / "media" / "imports").iterdir()) == []
