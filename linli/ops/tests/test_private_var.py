"""The var directory and what `linli` writes in it are private to the service user, even
when the shell that starts it has the usual umask 022 (issue 13, hole 21). Real `linli`
processes on a var directory of their own."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

LINLI = str(Path(sys.executable).with_name("linli"))


def linli(var: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LINLI_", "DATABASE_URL", "DJANGO_"))
    }
    env["LINLI_VAR_DIR"] = str(var)
    return subprocess.run(
        [LINLI, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        # The umask most shells have: files 0644, directories 0755, unless Linli says otherwise.
        preexec_fn=lambda: os.umask(0o022),
    )


def mode(path: Path) -> str:
    return f"{stat.S_IMODE(path.stat().st_mode):04o}"


def test_a_new_var_directory_and_what_linli_writes_in_it_are_private(tmp_path):
    var = tmp_path / "var"
    linli(var, "migrate", "contenttypes", "-v0")
    dump = var / "contenttypes.json"
    linli(var, "dumpdata", "contenttypes", "-o", str(dump))
    modes = {
        path.relative_to(var).as_posix(): mode(path)
        for path in [var, *var.iterdir()]
        if path.name != "static"
    }
    assert modes == {
        ".": "0700",
        "cache": "0700",
        "contenttypes.json": "0600",
        "field_key": "0600",
        "field_key.generated": "0600",
        "linli.sqlite3": "0600",
        "secret_key": "0600",
    }


def test_a_var_directory_and_database_that_others_could_read_are_made_private(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    os.chmod(var, 0o757)
    database = var / "linli.sqlite3"
    database.touch()
    os.chmod(database, 0o664)
    linli(var, "migrate", "contenttypes", "-v0")
    assert (mode(var), mode(database)) == ("0750", "0640")
