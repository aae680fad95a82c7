"""`linli check --deploy`: each of Linli's checks, passing and failing, on a var directory of
the test's own and settings set as a deployment would set them."""

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core import checks as django_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from linli.ops import checks

NOON = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def only(messages) -> django_checks.CheckMessage:
    assert len(messages) == 1, messages
    return messages[0]


@pytest.fixture
def var_dir(tmp_path, settings, monkeypatch) -> Path:
    """A var directory as a careful deployment leaves it: private, keys mode 0600."""
    var = tmp_path / "var"
    var.mkdir(mode=0o700)
    var.chmod(0o700)
    for name, value in (("secret_key", "s" * 64), ("field_key", "f" * 43)):
        (var / name).write_text(value)
        (var / name).chmod(0o600)
    settings.VAR_DIR = var
    settings.SECRET_KEY_FILE = var / "secret_key"
    settings.FIELD_KEY_FILE = var / "field_key"
    settings.LINLI_BACKUP_DIR = var / "backups"
    monkeypatch.delenv(checks.SECRET_KEY_VARIABLE, raising=False)
    monkeypatch.delenv(checks.FIELD_KEY_VARIABLE, raising=False)
    return var


# Debug ------------------------------------------------------------------------------------
def test_debug_off_passes_and_debug_on_is_an_error(settings):
    settings.DEBUG = False
    assert checks.check_debug() == []
    settings.DEBUG = True
    message = only(checks.check_debug())
    assert (message.id, message.level) == ("linli.E001", django_checks.ERROR)
    assert message.hint == (
        "Remove LINLI_DEBUG from the service's environment (or set LINLI_DEBUG=0)."
    )


# HTTPS ------------------------------------------------------------------------------------
def test_https_on_passes_and_off_is_only_a_warning(settings):
    settings.LINLI_HTTPS = True
    assert checks.check_https() == []
    settings.LINLI_HTTPS = False
    message = only(checks.check_https())
    assert (message.id, message.level) == ("linli.W002", django_checks.WARNING)
    assert "set LINLI_HTTPS=1" in message.hint


# Keys -------------------------------------------------------------------------------------
def test_keys_in_private_files_pass(var_dir):
    assert checks.check_keys() == []


def test_a_key_file_others_can_read_is_an_error_that_says_chmod(var_dir):
    (var_dir / "field_key").chmod(0o644)
    message = only(checks.check_keys())
    assert (message.id, message.level) == ("linli.E006", django_checks.ERROR)
    assert message.msg == (
        f"The field key file {var_dir / 'field_key'} has mode 0644: other users of this "
        "server can read it."
    )
    assert (
        message.hint
        == f"chmod 600 {var_dir / 'field_key'} (owned by the user the service runs as)."
    )
    (var_dir / "secret_key").chmod(0o640)
    assert ids(checks.check_keys()) == ["linli.E004", "linli.E006"]


def test_a_key_from_the_environment_needs_no_file(var_dir, monkeypatch):
    (var_dir / "secret_key").chmod(0o644)
    monkeypatch.setenv(checks.SECRET_KEY_VARIABLE, "from-a-systemd-credential-" + "x" * 40)
    assert checks.check_keys() == []


def test_a_missing_or_empty_key_is_an_error(var_dir, settings):
    (var_dir / "field_key").unlink()
    message = only(checks.check_keys())
    assert (message.id, message.msg) == (
        "linli.E005",
        f"The field key file {var_dir / 'field_key'} is missing.",
    )
    assert (
        message.hint
        == f"Restore {var_dir / 'field_key'} from your copy of it, or set LINLI_FIELD_KEY."
    )
    (var_dir / "secret_key").unlink()
    assert ids(checks.check_keys()) == ["linli.E003", "linli.E005"]
    settings.FIELD_ENCRYPTION_KEY = ""
    assert only(checks.check_keys()[1:]).msg == "The field key is empty."


# Files ------------------------------------------------------------------------------------
@pytest.fixture
def sqlite_database(var_dir, settings) -> Path:
    database = var_dir / "linli.sqlite3"
    database.write_bytes(b"SQLite format 3\x00")
    database.chmod(0o600)
    # Only the check reads this copy; the test's own connection is already open.
    settings.DATABASES = {
        **settings.DATABASES,
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)},
    }
    return database


pytestmark_files = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@pytestmark_files
def test_a_private_var_directory_and_database_pass(sqlite_database):
    assert checks.check_private_files() == []


@pytestmark_files
def test_a_world_readable_var_directory_is_an_error(sqlite_database, var_dir):
    var_dir.chmod(0o755)
    message = only(checks.check_private_files())
    assert (message.id, message.msg) == (
        "linli.E007",
        f"The var directory {var_dir} has mode 0755: every user of this server can read it.",
    )
    assert (
        message.hint == f"chmod 700 {var_dir} (or 750, if a backup user of the group must read it)."
    )
    var_dir.chmod(0o770)
    assert only(checks.check_private_files()).msg == (
        f"The var directory {var_dir} has mode 0770: its group can write to it."
    )
    var_dir.chmod(0o750)
    assert checks.check_private_files() == []


@pytestmark_files
def test_world_readable_database_files_are_errors_the_write_ahead_log_too(sqlite_database):
    sqlite_database.chmod(0o644)
    wal = Path(f"{sqlite_database}-wal")
    wal.write_bytes(b"")
    wal.chmod(0o664)
    messages = checks.check_private_files()
    assert [(message.id, message.msg, message.hint) for message in messages] == [
        (
            "linli.E008",
            f"The SQLite database file {sqlite_database} has mode 0644: every user of this "
            "server can read it.",
            f"chmod 600 {sqlite_database}",
        ),
        (
            "linli.E008",
            f"The SQLite database file {wal} has mode 0664: every user of this server can read "
            "it and its group can write to it.",
            f"chmod 600 {wal}",
        ),
    ]


@pytestmark_files
def test_a_postgresql_database_has_no_file_to_check(var_dir, settings):
    settings.DATABASES = {
        **settings.DATABASES,
        "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "linli"},
    }
    assert checks.check_private_files() == []


# Allowed hosts ----------------------------------------------------------------------------
def test_allowed_hosts(settings):
    settings.ALLOWED_HOSTS = ["linli.street.example", "192.168.1.10", "localhost"]
    assert checks.check_allowed_hosts() == []

    settings.ALLOWED_HOSTS = ["*"]
    message = only(checks.check_allowed_hosts())
    assert (message.id, message.level) == ("linli.E009", django_checks.ERROR)
    assert message.hint == (
        "Name the server's host names and addresses, e.g. "
        "LINLI_ALLOWED_HOSTS=linli.street.example,192.168.1.10."
    )

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
    message = only(checks.check_allowed_hosts())
    assert (message.id, message.level) == ("linli.W010", django_checks.WARNING)
    assert message.msg == (
        "ALLOWED_HOSTS names only this machine (127.0.0.1, localhost, [::1], testserver): "
        "browsers on other machines get 400 Bad Request."
    )


# Backups ----------------------------------------------------------------------------------
def make_archive(directory: Path, moment: datetime) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / f"linli-backup-{moment:%Y%m%dT%H%M%SZ}.tar"
    archive.write_bytes(b"")
    return archive


def test_a_backup_younger_than_a_day_passes(var_dir, settings):
    make_archive(settings.LINLI_BACKUP_DIR, datetime(2027, 1, 3, 13, 0, tzinfo=UTC))
    with time_machine.travel(NOON, tick=False):
        assert checks.check_backup() == []


def test_the_newest_backup_older_than_a_day_is_a_warning(var_dir, settings):
    make_archive(settings.LINLI_BACKUP_DIR, datetime(2027, 1, 1, 2, 30, tzinfo=UTC))
    make_archive(settings.LINLI_BACKUP_DIR, datetime(2027, 1, 3, 11, 0, tzinfo=UTC))
    with time_machine.travel(NOON, tick=False):
        message = only(checks.check_backup())
    assert (message.id, message.level) == ("linli.W012", django_checks.WARNING)
    assert message.msg == (
        f"The newest backup in {settings.LINLI_BACKUP_DIR} is 25 hours old (2027-01-03 11:00 UTC)."
    )
    assert message.hint.startswith("Run `linli backup` (archives go to LINLI_BACKUP_DIR, now ")


def test_no_backup_is_a_warning(var_dir, settings):
    (settings.LINLI_BACKUP_DIR).mkdir()
    (settings.LINLI_BACKUP_DIR / "notes.txt").write_text("not an archive")
    message = only(checks.check_backup())
    assert (message.id, message.msg) == (
        "linli.W011",
        f"No backup found in {settings.LINLI_BACKUP_DIR}.",
    )


def test_without_the_backup_module_no_backup_is_found(var_dir, settings, monkeypatch):
    make_archive(settings.LINLI_BACKUP_DIR, NOON)
    # An installation without `linli backup` (the module cannot be imported).
    monkeypatch.setitem(sys.modules, "linli.ops.backup", None)
    with time_machine.travel(NOON, tick=False):
        assert ids(checks.check_backup()) == ["linli.W011"]


# The command ------------------------------------------------------------------------------
@pytestmark_files
def test_check_deploy_runs_linlis_checks_and_fails_on_an_error(
    db, sqlite_database, settings, capsys, monkeypatch
):
    # Set by the browser tests' modules (Playwright's event loop); Django's async.E001 refuses it.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    settings.DEBUG = False
    settings.LINLI_HTTPS = False
    settings.ALLOWED_HOSTS = ["linli.street.example"]
    # Without --deploy, none of them runs.
    call_command("check")
    assert "linli.W" not in capsys.readouterr().err

    call_command("check", "--deploy")
    err = capsys.readouterr().err
    assert "(linli.W002) LINLI_HTTPS is off" in err
    assert "(linli.W011) No backup found" in err
    assert "security.W018" not in err and "security.W021" not in err

    sqlite_database.chmod(0o644)
    with pytest.raises(SystemCheckError, match=r"linli\.E008"):
        call_command("check", "--deploy")
