"""`linli backup` and `linli restore`, end to end through the real commands on a real
installation (SQLite in the SQLite run, PostgreSQL in the PostgreSQL run), plus the archive
rules (checksums, pruning, atomic and private files) and SQLite's online snapshot under
concurrent writes."""

import io
import json
import os
import shutil
import sqlite3
import stat
import tarfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from linli.accounts.privacy import key_fingerprint
from linli.conftest import ID_NUMBERS
from linli.ops.backup import (
    BackupError,
    archive_manifest,
    archive_verify,
    backups_prune,
    latest_backup_time,
    restore,
    sqlite_snapshot,
)
from linli.ops.tests.installation import POPULATE, REVEAL, Installation, ok

FIELD_KEY = "field-key-of-the-source-installation"
PASSPHRASE = "a passphrase long enough"
# No test here touches the suite's own database: the installations have theirs.


# In-process messages are compared in English; the commands' output (in the site's
# language) is checked only for numbers, names and paths.
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """One populated installation and two archives of it (with and without the key): the
    migrate and the data are made once for the module."""
    installation = Installation.create(tmp_path_factory.mktemp("source"), field_key=FIELD_KEY)
    try:
        ok(installation.linli("migrate", "-v0"))
        populated = json.loads(ok(installation.python(POPULATE)).stdout.strip().splitlines()[-1])
        ok(installation.linli("backup"))
        (plain,) = sorted((installation.var / "backups").glob("linli-backup-*.tar"))
        ok(
            installation.linli(
                "backup",
                "--with-key",
                "--to",
                str(installation.root / "with-key"),
                LINLI_BACKUP_PASSPHRASE=PASSPHRASE,
            )
        )
        (with_key,) = sorted((installation.root / "with-key").glob("linli-backup-*.tar"))
        yield {
            "installation": installation,
            "archive": plain,
            "archive_with_key": with_key,
            **populated,
        }
    finally:
        installation.drop()


@pytest.fixture
def target(tmp_path):
    """A fresh, empty installation to restore into."""
    installation = Installation.create(tmp_path / "target", field_key=FIELD_KEY)
    yield installation
    installation.drop()


def reveal(installation: Installation) -> str:
    return ok(installation.python(REVEAL)).stdout.strip().splitlines()[-1]


def test_what_a_wrong_key_leaves_unreadable_is_said_by_table():
    manifest = {
        "encrypted": [
            {
                "table": "grids_resident",
                "column": "c",
                "what": "residents' ID numbers",
                "count": 1234,
            }
        ]
    }
    from linli.accounts.fieldkey import describe_counts
    from linli.ops.backup import _archive_counts

    assert (
        describe_counts(_archive_counts(manifest))
        == "1,234 residents' ID numbers (table grids_resident)"
    )


def test_a_wrong_passphrase_does_not_open_the_key():
    from linli.ops.backup import open_key, seal_key

    sealed = seal_key(FIELD_KEY, passphrase=PASSPHRASE, fingerprint=key_fingerprint(FIELD_KEY))
    assert open_key(sealed, passphrase=PASSPHRASE) == FIELD_KEY
    with pytest.raises(BackupError, match="passphrase does not open"):
        open_key(sealed, passphrase=PASSPHRASE + "!")
    with pytest.raises(BackupError, match="at least 12 characters"):
        seal_key(FIELD_KEY, passphrase="short", fingerprint=key_fingerprint(FIELD_KEY))


# Archive --------------------------------------------------------------------------------------


def test_the_archive_is_private_dated_and_describes_itself(source):
    archive = source["archive"]
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert not [p for p in archive.parent.iterdir() if p.name.startswith(".")]  # no leftovers
    manifest = archive_manifest(archive)
    created = datetime.fromisoformat(manifest["created_at"])
    assert archive.name == f"linli-backup-{created:%Y%m%dT%H%M%SZ}.tar"
    database = manifest["database"]
    assert database["engine"] == connection.vendor
    assert database["server_version"]
    assert manifest["linli_version"] and manifest["django_version"]
    assert "0003_field_key_fingerprint" in manifest["migrations"]["accounts"]
    assert manifest["field_key"] == {"fingerprint": key_fingerprint(FIELD_KEY), "included": False}
    assert FIELD_KEY not in archive.read_bytes().decode("latin-1")
    assert manifest["encrypted"] == [
        {
            "table": "grids_resident",
            "column": "id_number_encrypted",
            "what": "residents' ID numbers",
            "count": 4,
        }
    ]
    names = [member["name"] for member in manifest["members"]]
    assert names == [database["member"], f"media/{source['photo']}"]
    photo = next(m for m in manifest["members"] if m["name"] == f"media/{source['photo']}")
    assert photo["sha256"] == source["sha256"]
    assert archive_verify(archive) == manifest


def test_the_key_goes_in_only_when_asked_and_only_encrypted(source):
    manifest = archive_manifest(source["archive_with_key"])
    assert manifest["field_key"]["included"] is True
    raw = source["archive_with_key"].read_bytes()
    assert FIELD_KEY.encode() not in raw
    with tarfile.open(source["archive_with_key"]) as archive:
        sealed = json.load(archive.extractfile("field_key.enc"))
    assert sealed["kdf"] == "scrypt" and sealed["cipher"] == "AES-256-GCM"
    assert sealed["fingerprint"] == key_fingerprint(FIELD_KEY)


# Round trip -----------------------------------------------------------------------------------


def test_restore_into_a_fresh_database_gives_back_the_id_numbers_and_photos(source, target):
    result = ok(target.linli("restore", str(source["archive"])))
    assert "grids_resident: 4" in result.stdout
    assert reveal(target) == ID_NUMBERS[0]
    photo = target.media / source["photo"]
    import hashlib

    assert hashlib.sha256(photo.read_bytes()).hexdigest() == source["sha256"]
    assert stat.S_IMODE(photo.stat().st_mode) == 0o640
    if target.database_name is None:
        assert stat.S_IMODE(target.sqlite_file.stat().st_mode) == 0o600
        with sqlite3.connect(target.sqlite_file) as restored:
            assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # The restored platform starts: its key matches the fingerprint restored with the data.
    ok(target.linli("check"))


def test_restore_refuses_a_database_that_holds_data(source):
    installation = source["installation"]
    result = installation.linli("restore", str(source["archive"]))
    assert result.returncode != 0
    assert str(installation.database_name or installation.sqlite_file) in result.stderr
    assert reveal(installation) == ID_NUMBERS[0]


# The field key --------------------------------------------------------------------------------


def test_a_wrong_key_is_found_before_anything_is_written(source, target):
    result = target.linli("restore", str(source["archive"]), LINLI_FIELD_KEY="some other key")
    assert result.returncode != 0
    assert "4" in result.stderr and "grids_resident" in result.stderr
    assert key_fingerprint(FIELD_KEY)[:16] in result.stderr
    assert target.table_count() == 0
    assert not target.media.exists()


def test_an_archive_with_its_key_restores_on_a_server_without_one(source, target):
    # A new machine: no LINLI_FIELD_KEY and no var/field_key, so the process generates one;
    # the archive's key (decrypted with the passphrase) takes its place.
    result = ok(
        target.linli(
            "restore",
            str(source["archive_with_key"]),
            LINLI_FIELD_KEY=None,
            LINLI_BACKUP_PASSPHRASE=PASSPHRASE,
        )
    )
    key_file = target.var / "field_key"
    assert str(key_file) in result.stdout
    assert key_file.read_text() == FIELD_KEY
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    configured_by_file = Installation(target.root, None, target.database_name)
    assert reveal(configured_by_file) == ID_NUMBERS[0]


def _restored_at(archive: Path) -> str:
    """The archive's time as `linli restore` shows it: the site's time zone, to the minute."""
    from zoneinfo import ZoneInfo

    created = datetime.fromisoformat(archive_manifest(archive)["created_at"])
    return created.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


def test_after_a_wrong_passphrase_the_right_one_restores(source, target):
    """A refused restore takes back the key it generated: the next attempt (on the database
    file the first one left behind) installs the archive's key as a first one would."""
    archive = str(source["archive_with_key"])
    key_file = target.var / "field_key"
    for refused in (
        target.linli("restore", archive, LINLI_FIELD_KEY=None, LINLI_BACKUP_PASSPHRASE=None),
        target.linli(
            "restore", archive, LINLI_FIELD_KEY=None, LINLI_BACKUP_PASSPHRASE="the wrong one!"
        ),
    ):
        assert refused.returncode != 0
        assert not key_file.exists()
        assert not (target.var / "field_key.generated").exists()
    result = ok(
        target.linli("restore", archive, LINLI_FIELD_KEY=None, LINLI_BACKUP_PASSPHRASE=PASSPHRASE)
    )
    assert key_file.read_text() == FIELD_KEY
    assert not (target.var / "field_key.from-backup").exists()
    assert _restored_at(source["archive_with_key"]) in result.stdout
    assert archive_manifest(source["archive_with_key"])["created_at"] not in result.stdout
    assert reveal(Installation(target.root, None, target.database_name)) == ID_NUMBERS[0]
    ok(target.linli("check", LINLI_FIELD_KEY=None))


@pytest.mark.parametrize("operator_changed_it", [False, True], ids=["generated", "operators"])
def test_a_key_generated_by_an_earlier_command_is_replaced_only_if_still_generated(
    source, target, operator_changed_it
):
    """`linli migrate` on a new server generated var/field_key (and recorded so): on the
    still empty database it protects nothing, so the archive's key replaces it. A key the
    operator wrote there since is theirs: set aside with instructions instead."""
    key_file = target.var / "field_key"
    ok(target.linli("migrate", "-v0", LINLI_FIELD_KEY=None))
    assert key_file.exists() and (target.var / "field_key.generated").exists()
    if operator_changed_it:
        key_file.write_text("a key the operator put here")
    result = target.linli(
        "restore",
        str(source["archive_with_key"]),
        LINLI_FIELD_KEY=None,
        LINLI_BACKUP_PASSPHRASE=PASSPHRASE,
    )
    if operator_changed_it:
        assert result.returncode != 0
        assert key_file.read_text() == "a key the operator put here"
        assert (target.var / "field_key.from-backup").read_text() == FIELD_KEY
        assert not target.media.exists()
        return
    ok(result)
    assert key_file.read_text() == FIELD_KEY
    assert not (target.var / "field_key.generated").exists()
    assert reveal(Installation(target.root, None, target.database_name)) == ID_NUMBERS[0]


def test_a_wrong_passphrase_writes_nothing(source, target):
    result = target.linli(
        "restore",
        str(source["archive_with_key"]),
        LINLI_FIELD_KEY=None,
        LINLI_BACKUP_PASSPHRASE="not the passphrase",
    )
    assert result.returncode != 0
    assert target.table_count() == 0
    assert not target.media.exists()


def test_with_another_key_configured_the_archived_key_is_set_aside_with_instructions(
    source, target
):
    result = target.linli(
        "restore",
        str(source["archive_with_key"]),
        LINLI_FIELD_KEY="the key this server is configured with",
        LINLI_BACKUP_PASSPHRASE=PASSPHRASE,
    )
    assert result.returncode != 0
    set_aside = target.var / "field_key.from-backup"
    assert set_aside.read_text() == FIELD_KEY
    assert stat.S_IMODE(set_aside.stat().st_mode) == 0o600
    assert "LINLI_FIELD_KEY" in result.stderr and str(set_aside) in result.stderr
    assert target.table_count() == 0
    assert not target.media.exists()


# Checksums ------------------------------------------------------------------------------------


def _rewrite(archive: Path, destination: Path, change) -> Path:
    """A copy of `archive` with `change(name, data) -> data | None` applied to each member
    (None drops it); the manifest is copied as it was."""
    with tarfile.open(archive) as source, tarfile.open(destination, "w") as copy:
        for info in source:
            data = source.extractfile(info).read()
            if info.name != "manifest.json":
                data = change(info.name, data)
                if data is None:
                    continue
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))
    return destination


def _flip_byte(name, data):
    if name.startswith("database."):
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_flip_byte, "Checksum mismatch in database."),
        (
            lambda name, data: data + b"x" if name.startswith("media/") else data,
            "Checksum mismatch in media/",
        ),
        (lambda name, data: None if name.startswith("media/") else data, "lacks media/"),
    ],
    ids=["database-byte", "media-appended", "media-missing"],
)
def test_a_damaged_archive_is_refused_before_anything_is_written(
    source, tmp_path, settings, change, message
):
    settings.MEDIA_ROOT = tmp_path / "media"
    damaged = _rewrite(source["archive"], tmp_path / "linli-backup-20260101T000000Z.tar", change)
    with pytest.raises(BackupError, match=message):
        restore(archive=damaged)
    assert not settings.MEDIA_ROOT.exists()


def test_a_member_the_manifest_does_not_list_is_refused(source, tmp_path):
    tampered = tmp_path / "linli-backup-20260101T000000Z.tar"
    shutil.copy(source["archive"], tampered)
    with tarfile.open(tampered, "a") as archive:
        info = tarfile.TarInfo("media/../../etc/cron.d/evil")
        info.size = 3
        archive.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(BackupError, match="does not list"):
        archive_verify(tampered)


# Pruning --------------------------------------------------------------------------------------


def test_keep_deletes_only_older_archives_of_ours(source, tmp_path):
    directory = tmp_path / "backups"
    directory.mkdir()
    names = [
        "linli-backup-20261101T010000Z.tar",
        "linli-backup-20261102T010000Z.tar",
        "linli-backup-20261103T010000Z.tar",
        "linli-backup-20261103T010000Z-2.tar",
    ]
    for name in names:
        shutil.copy(source["archive"], directory / name)
    # Named like ours but not a Linli archive, and files of other programs: never deleted.
    (directory / "linli-backup-20261001T010000Z.tar").write_bytes(b"someone else's file")
    (directory / "notes.txt").write_text("keep me")
    (directory / "linli-backup-20261001T010000Z.tar.gz").write_bytes(b"not ours either")

    removed, foreign = backups_prune(directory=directory, keep=2)

    assert sorted(path.name for path in removed) == names[:2]
    assert [path.name for path in foreign] == ["linli-backup-20261001T010000Z.tar"]
    assert sorted(path.name for path in directory.iterdir()) == sorted(
        [
            *names[2:],
            "linli-backup-20261001T010000Z.tar",
            "notes.txt",
            "linli-backup-20261001T010000Z.tar.gz",
        ]
    )
    assert latest_backup_time(directory) == datetime(2026, 11, 3, 1, 0, tzinfo=UTC)


def test_the_keep_option_of_the_command_prunes_after_writing(source):
    installation = source["installation"]
    directory = installation.root / "kept"
    directory.mkdir()
    for day in (1, 2, 3):
        shutil.copy(source["archive"], directory / f"linli-backup-200101{day:02d}T000000Z.tar")
    result = ok(installation.linli("backup", "--to", str(directory), "--keep", "2"))
    left = sorted(path.name for path in directory.iterdir())
    assert len(left) == 2 and left[0] == "linli-backup-20010103T000000Z.tar"
    assert str(directory / "linli-backup-20010101T000000Z.tar") in result.stdout
    assert str(directory / "linli-backup-20010102T000000Z.tar") in result.stdout


def test_latest_backup_time_is_none_without_archives(tmp_path, settings):
    settings.LINLI_BACKUP_DIR = tmp_path / "nothing-here"
    assert latest_backup_time() is None
    settings.LINLI_BACKUP_DIR.mkdir()
    (settings.LINLI_BACKUP_DIR / "linli-backup-2026.tar").write_text("not a dated name")
    assert latest_backup_time() is None


# SQLite's online snapshot ---------------------------------------------------------------------


def test_a_snapshot_taken_while_another_thread_writes_is_consistent(tmp_path):
    """Transfers between two accounts, each with its ledger row, committed as fast as they
    go: every snapshot passes the integrity check and is one committed state (the total is
    unchanged and the ledger has exactly one row per transfer applied)."""
    database = tmp_path / "busy.sqlite3"
    with sqlite3.connect(database) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER)")
        setup.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount INTEGER, pad BLOB)")
        setup.execute("INSERT INTO account VALUES (1, 1000000), (2, 0)")
    stop = threading.Event()
    transfers = []

    def write():
        writer = sqlite3.connect(database, timeout=30, isolation_level=None)
        count = 0
        while not stop.is_set():
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("UPDATE account SET balance = balance - 1 WHERE id = 1")
            writer.execute("UPDATE account SET balance = balance + 1 WHERE id = 2")
            # Padding spreads each transfer over new pages, so a torn copy would show.
            writer.execute("INSERT INTO ledger (amount, pad) VALUES (1, randomblob(3000))")
            writer.execute("COMMIT")
            count += 1
        transfers.append(count)
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        time.sleep(0.2)
        snapshots = []
        for number in range(5):
            copy = tmp_path / f"copy-{number}.sqlite3"
            sqlite_snapshot(database, copy)
            snapshots.append(copy)
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join()
    ledgers = []
    for copy in snapshots:
        with sqlite3.connect(copy) as snapshot:
            assert snapshot.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            total, moved = snapshot.execute(
                "SELECT SUM(balance), (SELECT balance FROM account WHERE id = 2) FROM account"
            ).fetchone()
            (ledger,) = snapshot.execute("SELECT COUNT(*) FROM ledger").fetchone()
        assert total == 1000000
        assert moved == ledger
        ledgers.append(ledger)
        assert not Path(f"{copy}-wal").exists()
        assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600
    # The writer really was writing while the copies were taken.
    assert ledgers == sorted(ledgers) and ledgers[-1] > ledgers[0] > 0
    assert transfers[0] > ledgers[-1]


# The platform and a key that cannot read its ID numbers ---------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "command",
    [["serve", "--port", "PORT"], ["worker"], ["scheduler"]],
    ids=["serve", "worker", "scheduler"],
)
def test_the_platform_refuses_to_start_with_a_key_that_cannot_read_the_id_numbers(source, command):
    arguments = [str(_free_port()) if part == "PORT" else part for part in command]
    # Were the refusal missing, the process would serve until the timeout fails the test.
    result = source["installation"].linli(
        *arguments, timeout=120, LINLI_FIELD_KEY="not the key of this database"
    )
    assert result.returncode != 0
    assert "accounts.E001" in result.stderr
    assert key_fingerprint(FIELD_KEY)[:16] in result.stderr
    assert "grids_resident" in result.stderr


def test_a_lost_key_is_not_replaced_silently_and_comes_back_from_the_archive(source):
    """var/ lost: no key configured. The new key generated on start is removed again and the
    platform refuses; `restore --key-only` puts the archived key back, and it starts."""
    installation = source["installation"]
    key_file = installation.var / "field_key"
    assert not key_file.exists()
    try:
        refused = installation.linli("check", LINLI_FIELD_KEY=None)
        assert refused.returncode != 0 and "accounts.E001" in refused.stderr
        assert not key_file.exists()

        recovered = ok(
            installation.linli(
                "restore",
                str(source["archive_with_key"]),
                "--key-only",
                LINLI_FIELD_KEY=None,
                LINLI_BACKUP_PASSPHRASE=PASSPHRASE,
            )
        )
        assert str(key_file) in recovered.stdout
        assert key_file.read_text() == FIELD_KEY
        ok(installation.linli("check", LINLI_FIELD_KEY=None))
        assert (
            reveal(Installation(installation.root, None, installation.database_name))
            == (ID_NUMBERS[0])
        )
    finally:
        key_file.unlink(missing_ok=True)
