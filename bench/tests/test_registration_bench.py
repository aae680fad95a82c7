"""bench/registration.py works in a SQLite file only if it made it (the `.linli-bench` mark
beside it), as the other benchmarks use only PostgreSQL databases they created."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import registration as bench  # noqa: E402


def test_a_sqlite_file_it_did_not_create_is_left_alone(tmp_path):
    path = tmp_path / "someone.sqlite3"
    path.write_bytes(b"not ours")

    with pytest.raises(SystemExit, match="not created by a benchmark"):
        bench.database_fresh(f"sqlite:///{path}")
    bench.database_remove(f"sqlite:///{path}")

    assert path.read_bytes() == b"not ours"


def test_its_own_sqlite_file_is_made_afresh_and_removed(tmp_path):
    path = tmp_path / "bench.sqlite3"
    url = f"sqlite:///{path}"

    bench.database_fresh(url)
    path.write_bytes(b"a previous run")
    bench.database_fresh(url)  # marked: made afresh

    assert not path.exists()
    assert (tmp_path / "bench.sqlite3.linli-bench").exists()
    path.write_bytes(b"this run")
    bench.database_remove(url)
    assert not path.exists() and not (tmp_path / "bench.sqlite3.linli-bench").exists()
