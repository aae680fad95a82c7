"""Backup and restore: one dated archive of the database and the media files.

An archive is an uncompressed tar, `linli-backup-YYYYMMDDTHHMMSSZ.tar`, mode 0600:

    database.sqlite3 | database.pgdump   the database, as one consistent snapshot
    media/...                           every uploaded file (settings.MEDIA_ROOT)
    field_key.enc                       only with --with-key: the field key, encrypted
                                        under a passphrase (scrypt, then AES-256-GCM)
    manifest.json                       last: versions, migrations, the field key it needs
                                        (by fingerprint), and every member's SHA-256

SQLite is copied through its online backup API (sqlite3.Connection.backup), never as a file:
a file copied while the server writes can be torn, and misses what still sits in the WAL.
PostgreSQL is dumped by `pg_dump --format=custom` inside an exported snapshot, the same one
the manifest's counts and migrations are read from. The database goes first and the media
after it, so every photo the database names is in the archive (a photo uploaded meanwhile
is there too, unnamed, which is harmless).

Restore writes only into an empty database and an empty media directory. It verifies every
checksum, then the field key, before writing anything: a key that cannot read the archive's
ID numbers stops it, saying how many of which table would be unreadable.

The checksums find corruption (a bad disk, a truncated copy); they do not authenticate: who
can rewrite the archive can rewrite its manifest. Keep archives where only IT staff write.
"""

import base64
import getpass
import hashlib
import importlib.metadata
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import django
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.loader import MigrationLoader
from django.utils import translation
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.fieldkey import (
    EncryptedCount,
    current_fingerprint,
    describe_counts,
    encrypted_columns,
    encrypted_counts,
    encrypted_present,
    field_key_record_if_readable,
    field_key_state,
)
from linli.accounts.privacy import key_fingerprint
from linli.env import GENERATED_SECRET_FILES, forget_generated, was_generated
from linli.storage import TEMPORARY_PREFIX

FORMAT = "linli-backup"
FORMAT_VERSION = 1
ARCHIVE_PATTERN = re.compile(r"^linli-backup-(\d{8}T\d{6}Z)(?:-(\d+))?\.tar$")
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
KEY_MEMBER = "field_key.enc"
MEDIA_PREFIX = "media/"
PASSPHRASE_VARIABLE = "LINLI_BACKUP_PASSPHRASE"
PASSPHRASE_MIN_LENGTH = 12
# scrypt at N=2**17, r=8: 128 MiB and about half a second per try, once per backup; what
# OWASP recommends for passwords, and far beyond a GPU farm's budget per guess.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
KEY_AAD = b"linli-backup/field-key/v1:"
# Rows in any of these tables mean the database holds somebody's data: restore refuses it.
# (The tables `migrate` fills itself, such as the seeded case categories, do not count.)
DATA_MODELS = ("accounts.User", "grids.GridUnit", "grids.Resident", "cases.Case")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A refusal or failure, worded for the operator; nothing half-done is left behind."""


# Names and times -----------------------------------------------------------------------------


def archive_time(name: str) -> datetime | None:
    """When the archive called `name` was made (from its name), or None if not ours."""
    match = ARCHIVE_PATTERN.match(name)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _archives_in(directory: Path) -> list[tuple[datetime, int, Path]]:
    found = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    for entry in entries:
        match = ARCHIVE_PATTERN.match(entry.name)
        if match and entry.is_file(follow_symlinks=False):
            found.append((archive_time(entry.name), int(match.group(2) or 1), Path(entry.path)))
    return sorted(found, reverse=True)


def latest_backup_time(directory: Path | None = None) -> datetime | None:
    """When the newest archive in LINLI_BACKUP_DIR (or `directory`) was made, from its name;
    None when there is none. For the deploy check ("a backup younger than a day")."""
    archives = _archives_in(Path(directory or settings.LINLI_BACKUP_DIR))
    return archives[0][0] if archives else None


# Hashing while reading -----------------------------------------------------------------------


class _HashingReader:
    """Wraps a file: what tarfile reads from it is hashed on the way, so the checksum is of
    exactly the bytes archived (a file that changes meanwhile cannot disagree with it)."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size=-1):
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _sha256_of(handle) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


# The database ---------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """A consistent copy of the database, and what the manifest says about it."""

    member: str
    path: Path
    engine: str
    server_version: str
    migrations: dict[str, list[str]]
    counts: list[EncryptedCount]
    stored_fingerprint: str | None


def _engine(using: str) -> str:
    vendor = connections[using].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(
            _("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": vendor}
        )
    return vendor


def _sqlite_path(using: str) -> Path:
    name = str(settings.DATABASES[using]["NAME"])
    if name in ("", ":memory:") or name.startswith("file:"):
        raise BackupError(_("The SQLite database %(name)s is not a file.") % {"name": name})
    return Path(name)


def _read_only_uri(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def sqlite_snapshot(source: Path, target: Path) -> None:
    """Copy the SQLite database at `source` into a new file `target` through the online
    backup API, in one step: readers never block writers in WAL mode, and the copy is one
    committed state of the database, WAL included."""
    source_connection = sqlite3.connect(_read_only_uri(source), uri=True, timeout=60)
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(descriptor)
        target_connection = sqlite3.connect(target)
        try:
            source_connection.backup(target_connection)
            # The copy stands alone: no WAL file beside it.
            target_connection.execute("PRAGMA journal_mode=DELETE")
        finally:
            target_connection.close()
    finally:
        source_connection.close()


def _read_facts(cursor, tables: set[str]) -> tuple[dict[str, list[str]], list, str | None]:
    """Migrations applied, encrypted counts and the stored key fingerprint, through a
    DB-API cursor on the snapshot."""
    from linli.accounts.models import FieldKeyFingerprint

    migrations: dict[str, list[str]] = {}
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    counts = encrypted_counts(cursor, tables)
    stored = None
    table = FieldKeyFingerprint._meta.db_table
    if table in tables:
        cursor.execute(f'SELECT fingerprint FROM "{table}" WHERE id = 1')
        row = cursor.fetchone()
        stored = row[0] if row else None
    return migrations, counts, stored


def _snapshot_sqlite(using: str, staging: Path) -> Snapshot:
    source = _sqlite_path(using)
    if not source.exists():
        raise BackupError(_("The database %(path)s does not exist.") % {"path": source})
    target = staging / SQLITE_MEMBER
    sqlite_snapshot(source, target)
    connection = sqlite3.connect(target)
    try:
        (check,) = connection.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise BackupError(
                _("The database copy failed SQLite's integrity check: %(result)s")
                % {"result": check}
            )
        cursor = connection.cursor()
        tables = {
            row[0] for row in cursor.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        migrations, counts, stored = _read_facts(cursor, tables)
    finally:
        connection.close()
    return Snapshot(
        SQLITE_MEMBER, target, "sqlite", sqlite3.sqlite_version, migrations, counts, stored
    )


def _libpq_environment(using: str) -> dict[str, str]:
    """The connection as libpq environment variables: the password never on a command line."""
    database = settings.DATABASES[using]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    mapping = {
        "PGDATABASE": database.get("NAME"),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGHOST": database.get("HOST"),
        "PGPORT": database.get("PORT"),
    }
    options = database.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("passfile", "PGPASSFILE"),
    ):
        mapping[variable] = options.get(option)
    environment.update({key: str(value) for key, value in mapping.items() if value})
    environment["PGAPPNAME"] = "linli-backup"
    return environment


def _server_major(using: str) -> int:
    connection = connections[using]
    connection.ensure_connection()
    return connection.pg_version // 10000


def pg_tool(name: str, server_major: int) -> str:
    """pg_dump or pg_restore of the server's major version or newer (an older one refuses
    a newer server): Debian's /usr/lib/postgresql/<major>/bin first, then PATH."""
    candidates = []
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        majors = sorted((int(p.name) for p in root.iterdir() if p.name.isdigit()), reverse=False)
        candidates += [
            root / str(major) / "bin" / name for major in majors if major >= server_major
        ]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if not os.access(candidate, os.X_OK):
            continue
        result = subprocess.run([str(candidate), "--version"], capture_output=True, text=True)
        found = re.search(r"(\d+)(?:\.\d+)?", result.stdout)
        if result.returncode == 0 and found and int(found.group(1)) >= server_major:
            return str(candidate)
    raise BackupError(
        _(
            "%(tool)s for PostgreSQL %(major)s or newer was not found (looked in "
            "/usr/lib/postgresql/*/bin and on PATH); install postgresql-client-%(major)s."
        )
        % {"tool": name, "major": server_major}
    )


def _snapshot_postgres(using: str, staging: Path) -> Snapshot:
    import psycopg

    major = _server_major(using)
    pg_dump = pg_tool("pg_dump", major)
    environment = _libpq_environment(using)
    target = staging / POSTGRES_MEMBER
    # One snapshot for everything: this transaction exports it, reads the manifest's facts
    # in it, and pg_dump dumps exactly that state while the transaction stays open.
    with psycopg.connect(
        "", application_name="linli-backup", **_psycopg_params(environment)
    ) as raw:
        raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        raw.read_only = True
        with raw.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot_id, server_version = cursor.fetchone()
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = ANY(current_schemas(false))"
            )
            tables = {row[0] for row in cursor.fetchall()}
            migrations, counts, stored = _read_facts(cursor, tables)
            result = subprocess.run(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    "--no-password",
                    f"--file={target}",
                ],
                env=environment,
                capture_output=True,
                text=True,
            )
        raw.rollback()
    if result.returncode != 0:
        raise BackupError(_("pg_dump failed: %(error)s") % {"error": result.stderr.strip()})
    os.chmod(target, 0o600)
    return Snapshot(
        POSTGRES_MEMBER, target, "postgresql", server_version, migrations, counts, stored
    )


def _psycopg_params(environment: dict[str, str]) -> dict[str, str]:
    names = {
        "PGDATABASE": "dbname",
        "PGUSER": "user",
        "PGPASSWORD": "password",
        "PGHOST": "host",
        "PGPORT": "port",
        "PGSSLMODE": "sslmode",
        "PGSSLROOTCERT": "sslrootcert",
        "PGSSLCERT": "sslcert",
        "PGSSLKEY": "sslkey",
        "PGPASSFILE": "passfile",
    }
    return {names[key]: value for key, value in environment.items() if key in names}


# The field key in the archive ----------------------------------------------------------------


def passphrase_from_environment_or_prompt(*, confirm: bool) -> str:
    """LINLI_BACKUP_PASSPHRASE, or asked on the terminal (twice when choosing one)."""
    value = os.environ.get(PASSPHRASE_VARIABLE)
    if value:
        return value
    try:
        value = getpass.getpass(_("Passphrase for the field key: "))
        if confirm and getpass.getpass(_("The same passphrase again: ")) != value:
            raise BackupError(_("The two passphrases differ."))
    except (EOFError, OSError):
        raise BackupError(
            _("No passphrase: set %(name)s, or run this on a terminal to be asked.")
            % {"name": PASSPHRASE_VARIABLE}
        ) from None
    return value


def _kdf(salt: bytes, n: int, r: int, p: int) -> Scrypt:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p)


def seal_key(key: str, *, passphrase: str, fingerprint: str) -> bytes:
    """The field key encrypted under the passphrase, as the JSON of field_key.enc."""
    if len(passphrase) < PASSPHRASE_MIN_LENGTH:
        raise BackupError(
            _("The passphrase needs at least %(count)d characters.")
            % {"count": PASSPHRASE_MIN_LENGTH}
        )
    salt, nonce = os.urandom(16), os.urandom(12)
    wrapping = _kdf(salt, SCRYPT_N, SCRYPT_R, SCRYPT_P).derive(passphrase.encode())
    sealed = AESGCM(wrapping).encrypt(nonce, key.encode(), KEY_AAD + fingerprint.encode())
    return json.dumps(
        {
            "kdf": "scrypt",
            "n": SCRYPT_N,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "salt": base64.b64encode(salt).decode(),
            "cipher": "AES-256-GCM",
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(sealed).decode(),
            "fingerprint": fingerprint,
        },
        indent=2,
    ).encode()


def open_key(sealed: bytes, *, passphrase: str) -> str:
    """The field key out of field_key.enc; BackupError when the passphrase is wrong."""
    blob = json.loads(sealed)
    wrapping = _kdf(base64.b64decode(blob["salt"]), blob["n"], blob["r"], blob["p"]).derive(
        passphrase.encode()
    )
    try:
        key = (
            AESGCM(wrapping)
            .decrypt(
                base64.b64decode(blob["nonce"]),
                base64.b64decode(blob["ciphertext"]),
                KEY_AAD + blob["fingerprint"].encode(),
            )
            .decode()
        )
    except InvalidTag:
        raise BackupError(
            _("The passphrase does not open the field key in this archive.")
        ) from None
    if key_fingerprint(key) != blob["fingerprint"]:
        raise BackupError(_("The field key in this archive does not match its fingerprint."))
    return key


# Writing an archive --------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    size: int
    media_files: int
    seconds: float
    manifest: dict
    removed: list[Path] = field(default_factory=list)
    kept_foreign: list[Path] = field(default_factory=list)


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_file(archive: tarfile.TarFile, name: str, path: Path, members: list[dict]) -> bool:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - opened apart from `with` to tell a vanished file
    except FileNotFoundError:
        return False  # removed since the directory was listed: nothing to keep
    with handle:
        status = os.fstat(handle.fileno())
        reader = _HashingReader(handle)
        archive.addfile(_tarinfo(name, status.st_size, status.st_mtime), reader)
    members.append({"name": name, "size": status.st_size, "sha256": reader.digest.hexdigest()})
    return True


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, members: list[dict] | None):
    archive.addfile(_tarinfo(name, len(data), clock.now().timestamp()), io.BytesIO(data))
    if members is not None:
        members.append(
            {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )


def _media_files(root: Path) -> list[tuple[str, Path]]:
    """(member name, path) of every regular file under the media root, in a stable order;
    uploads still being written (linli.storage's temporary names) are left out."""
    found = []
    if not root.is_dir():
        return found
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if name.startswith(TEMPORARY_PREFIX) or not path.is_file() or path.is_symlink():
                continue
            found.append((MEDIA_PREFIX + path.relative_to(root).as_posix(), path))
    return found


def _linli_version() -> str:
    try:
        return importlib.metadata.version("linli")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _publish(temporary: Path, directory: Path, moment: datetime) -> Path:
    """Give the finished archive its dated name; never replaces an archive (a second
    backup in the same second gets -2)."""
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    for sequence in range(1, 1000):
        suffix = "" if sequence == 1 else f"-{sequence}"
        final = directory / f"linli-backup-{stamp}{suffix}.tar"
        try:
            os.link(temporary, final)
        except FileExistsError:
            continue
        os.unlink(temporary)
        _fsync_directory(directory)
        return final
    raise BackupError(
        _("Too many archives named for the same second in %(dir)s.") % {"dir": directory}
    )


def backup_create(
    *,
    directory: Path | None = None,
    keep: int | None = None,
    passphrase: str | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> BackupResult:
    """Write one archive of the database and the media into `directory` (default
    LINLI_BACKUP_DIR); with `passphrase`, the field key goes in too, encrypted. With `keep`,
    only the newest `keep` archives of ours stay in the directory."""
    started = time.monotonic()
    if keep is not None and keep < 1:
        raise BackupError(_("--keep must be 1 or more."))
    directory = Path(directory or settings.LINLI_BACKUP_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = _engine(using)
    moment = clock.now()
    key_needed = None
    sealed_key = None
    if passphrase is not None:
        # Checked before the (long) dump: the key going into the archive must be the one
        # that reads the database, else the archive would carry a useless key.
        state = field_key_state(using=using)
        if state is not None and not state.readable:
            raise BackupError(
                _(
                    "This server's field key cannot read the ID numbers in the database, so "
                    "--with-key would archive the wrong key. Restore the right key first."
                )
            )
        key_needed = current_fingerprint()
        sealed_key = seal_key(
            settings.FIELD_ENCRYPTION_KEY, passphrase=passphrase, fingerprint=key_needed
        )
    staging = Path(tempfile.mkdtemp(dir=directory, prefix=".linli-backup-"))
    temporary = None
    try:
        snapshot = (_snapshot_sqlite if engine == "sqlite" else _snapshot_postgres)(using, staging)
        fingerprint = snapshot.stored_fingerprint or current_fingerprint()
        if key_needed is not None and snapshot.stored_fingerprint not in (None, key_needed):
            raise BackupError(_("The field key changed while the backup ran; run it again."))
        members: list[dict] = []
        media_count = media_bytes = 0
        # Written under a temporary name (mode 0600 from the start), renamed when complete.
        descriptor, temporary_name = tempfile.mkstemp(
            dir=directory, prefix=".linli-backup-", suffix=".partial"
        )
        temporary = Path(temporary_name)
        with os.fdopen(descriptor, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w:", format=tarfile.PAX_FORMAT) as archive:
                _add_file(archive, snapshot.member, snapshot.path, members)
                # The dump is in the archive: free its disk space before the media are read.
                snapshot.path.unlink()
                for name, path in _media_files(Path(settings.MEDIA_ROOT)):
                    if _add_file(archive, name, path, members):
                        media_count += 1
                        media_bytes += members[-1]["size"]
                if sealed_key is not None:
                    _add_bytes(archive, KEY_MEMBER, sealed_key, members)
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": moment.astimezone(UTC).isoformat(),
                    "linli_version": _linli_version(),
                    "django_version": django.get_version(),
                    "database": {
                        "engine": snapshot.engine,
                        "server_version": snapshot.server_version,
                        "member": snapshot.member,
                    },
                    "migrations": snapshot.migrations,
                    "field_key": {
                        "fingerprint": fingerprint,
                        "included": sealed_key is not None,
                    },
                    "encrypted": [
                        {
                            "table": item.table,
                            "column": item.column,
                            "what": _descriptions("en").get(
                                (item.table, item.column), item.description
                            ),
                            "count": item.count,
                        }
                        for item in snapshot.counts
                    ],
                    "media": {"files": media_count, "bytes": media_bytes},
                    "members": members,
                }
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode(), None)
            handle.flush()
            os.fsync(handle.fileno())
        final = _publish(temporary, directory, moment)
    except BaseException:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result = BackupResult(
        path=final,
        size=final.stat().st_size,
        media_files=media_count,
        seconds=time.monotonic() - started,
        manifest=manifest,
    )
    if keep is not None:
        result.removed, result.kept_foreign = backups_prune(directory=directory, keep=keep)
    return result


def _is_our_archive(path: Path) -> bool:
    try:
        with tarfile.open(path, "r:") as archive:
            manifest = json.load(archive.extractfile(MANIFEST))
    except (OSError, KeyError, tarfile.TarError, ValueError, AttributeError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == FORMAT


def backups_prune(*, directory: Path, keep: int) -> tuple[list[Path], list[Path]]:
    """Delete all but the newest `keep` archives in `directory`. Only files named like ours
    whose manifest says they are Linli backups are deleted; returns (deleted, left alone)."""
    ours, foreign = [], []
    for _moment, _sequence, path in _archives_in(directory):
        (ours if _is_our_archive(path) else foreign).append(path)
    for path in ours[keep:]:
        path.unlink()
    return ours[keep:], foreign


# Reading and verifying an archive ------------------------------------------------------------


def _safe_member_name(name: str) -> bool:
    if name in (MANIFEST, SQLITE_MEMBER, POSTGRES_MEMBER, KEY_MEMBER):
        return True
    if not name.startswith(MEDIA_PREFIX) or "\\" in name or "\x00" in name:
        return False
    parts = PurePosixPath(name[len(MEDIA_PREFIX) :]).parts
    return (
        bool(parts)
        and all(part not in ("", ".", "..") for part in parts)
        and not name.endswith("/")
    )


def archive_manifest(path: Path) -> dict:
    """The manifest of the archive at `path` (not verified: see archive_verify)."""
    try:
        with tarfile.open(path, "r:") as archive:
            manifest = json.load(archive.extractfile(MANIFEST))
    except FileNotFoundError:
        raise BackupError(_("No archive at %(path)s.") % {"path": path}) from None
    except (KeyError, tarfile.TarError, ValueError, AttributeError, OSError):
        raise BackupError(
            _("%(path)s is not a Linli backup archive, or it is damaged (no readable manifest).")
            % {"path": path}
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_("%(path)s is not a Linli backup archive.") % {"path": path})
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise BackupError(
            _("%(path)s was written by a newer Linli (archive format %(version)s): upgrade first.")
            % {"path": path, "version": manifest.get("format_version")}
        )
    return manifest


def archive_verify(path: Path) -> dict:
    """The manifest, once every member's size and SHA-256 match it, every member it lists
    is present, and nothing else is; BackupError naming the first member that does not."""
    manifest = archive_manifest(path)
    expected = {member["name"]: member for member in manifest["members"]}
    seen = set()
    with tarfile.open(path, "r:") as archive:
        for info in archive:
            if info.name == MANIFEST:
                continue
            if not info.isreg() or not _safe_member_name(info.name) or info.name not in expected:
                raise BackupError(
                    _(
                        "The archive holds %(name)s, which its manifest does not list: it was altered."
                    )
                    % {"name": info.name}
                )
            if info.name in seen:
                raise BackupError(_("The archive holds %(name)s twice.") % {"name": info.name})
            seen.add(info.name)
            want = expected[info.name]
            digest = _sha256_of(archive.extractfile(info))
            if info.size != want["size"] or digest != want["sha256"]:
                raise BackupError(
                    _(
                        "Checksum mismatch in %(name)s: the archive is damaged or was altered. "
                        "Nothing was restored."
                    )
                    % {"name": info.name}
                )
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(
            _("The archive lacks %(name)s (listed in its manifest): it is incomplete.")
            % {"name": missing[0]}
        )
    return manifest


# Restoring -----------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict
    media_files: int = 0
    key_installed: Path | None = None
    key_written: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)
    unapplied_migrations: int = 0
    readable: bool = True
    seconds: float = 0.0


def _key_from_archive(path: Path, passphrase: Callable[[], str] | None) -> str:
    if passphrase is None:
        raise BackupError(_("The archive's field key is encrypted: a passphrase is needed."))
    with tarfile.open(path, "r:") as archive:
        sealed = archive.extractfile(KEY_MEMBER).read()
    return open_key(sealed, passphrase=passphrase())


def _write_private(path: Path, text: str) -> None:
    """`path` holds `text`, mode 0600, written whole under a temporary name then renamed."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _nothing_encrypted(using: str) -> bool:
    """Whether the database provably holds no value encrypted under the field key (an
    unreachable database proves nothing)."""
    connection = connections[using]
    try:
        tables = set(connection.introspection.table_names())
        with connection.cursor() as cursor:
            return not encrypted_present(cursor, tables)
    except DatabaseError:
        return False


def _replaceable_key_file(using: str) -> Path | None:
    """The key file, if the archive's key may take its place: Linli generated it (in this
    process, or recorded as generated by an earlier one, e.g. a refused restore or a first
    `linli migrate`) rather than the operator, and nothing in the database is encrypted under
    it. A key the operator set (LINLI_FIELD_KEY, or a file of theirs) is never replaced."""
    path = Path(settings.FIELD_KEY_FILE)
    if os.environ.get("LINLI_FIELD_KEY") or not was_generated(path):
        return None
    if path not in GENERATED_SECRET_FILES and not _nothing_encrypted(using):
        return None
    return path


def _take_back_key_generated_now() -> None:
    """A refused restore leaves no key behind that this process generated (and nothing was
    encrypted under): the next attempt starts as this one did."""
    path = Path(settings.FIELD_KEY_FILE)
    if os.environ.get("LINLI_FIELD_KEY") or path not in GENERATED_SECRET_FILES:
        return
    try:
        if path.read_text().strip() == settings.FIELD_ENCRYPTION_KEY:
            path.unlink()
    except OSError:
        return
    forget_generated(path)


def _place_key(key: str, result: RestoreResult, *, using: str) -> bool:
    """Install the archive's key where it cannot hurt (True), or write it beside the
    configured one for the operator to install (False)."""
    replaceable = _replaceable_key_file(using)
    if replaceable is not None:
        _write_private(replaceable, key)
        # The archive's key is a real one now: never again replaceable, never taken back.
        forget_generated(replaceable)
        settings.FIELD_ENCRYPTION_KEY = key
        result.key_installed = replaceable
        return True
    written = Path(settings.FIELD_KEY_FILE).with_name("field_key.from-backup")
    _write_private(written, key)
    result.key_written = written
    return False


def _key_instructions(written: Path) -> str:
    if os.environ.get("LINLI_FIELD_KEY"):
        return _(
            "The archive's field key is in %(file)s (mode 0600). Set LINLI_FIELD_KEY to its "
            "content (or unset LINLI_FIELD_KEY and move the file to %(path)s), then run "
            "`linli restore` again."
        ) % {"file": written, "path": settings.FIELD_KEY_FILE}
    return _(
        "The archive's field key is in %(file)s (mode 0600). Move it to %(path)s, replacing "
        "this server's key (keep a copy of that one if anything else was encrypted under "
        "it), then run `linli restore` again."
    ) % {"file": written, "path": settings.FIELD_KEY_FILE}


def _descriptions(language: str | None = None) -> dict[tuple[str, str], str]:
    """What each encrypted column holds, by (table, column), in `language` (default: the
    active one). The manifest keeps English, whatever language the backup ran in."""
    if language is None:
        return {(table, column): str(what) for table, column, what, _pk in encrypted_columns()}
    with translation.override(language):
        return _descriptions()


def _archive_counts(manifest: dict) -> list[EncryptedCount]:
    # Described in the operator's language where this Linli knows the column.
    described = _descriptions()
    return [
        EncryptedCount(
            item["table"],
            item["column"],
            described.get((item["table"], item["column"]), item["what"]),
            item["count"],
        )
        for item in manifest.get("encrypted", [])
    ]


def _check_migrations_known(manifest: dict) -> None:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [
        f"{app}.{name}"
        for app, names in sorted(manifest["migrations"].items())
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise BackupError(
            _(
                "The archive was made by a newer Linli (%(version)s): this one does not know "
                "%(count)d of its migrations (first: %(first)s). Install that version or newer, "
                "then restore."
            )
            % {
                "version": manifest.get("linli_version"),
                "count": len(unknown),
                "first": unknown[0],
            }
        )


def _data_tables() -> list[tuple[str, str]]:
    found = []
    for label in DATA_MODELS:
        model = apps.get_model(label)
        found.append((model._meta.db_table, str(model._meta.verbose_name_plural)))
    return found


def _not_empty_message(found: list[str], where: str) -> str:
    return _(
        "The database %(where)s is not empty (%(found)s): restore writes only into an empty "
        "database. Point DATABASE_URL at a new, empty database (createdb), or move the SQLite "
        "file away, then run `linli restore` again. Nothing was written."
    ) % {"where": where, "found": ", ".join(found)}


def _check_database_empty(engine: str, using: str) -> None:
    found = []
    if engine == "sqlite":
        path = _sqlite_path(using)
        if not path.exists():
            return
        connection = sqlite3.connect(_read_only_uri(path), uri=True)
        try:
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            for table, label in _data_tables():
                if table in tables:
                    (count,) = connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
                    if count:
                        found.append(f"{count:,} {label}")
        finally:
            connection.close()
        where = str(path)
    else:
        connection = connections[using]
        tables = set(connection.introspection.table_names())
        with connection.cursor() as cursor:
            for table, label in _data_tables():
                if table in tables:
                    cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
                    count = cursor.fetchone()[0]
                    if count:
                        found.append(f"{count:,} {label}")
        where = settings.DATABASES[using]["NAME"]
    if found:
        raise BackupError(_not_empty_message(found, where))


def _holds_files(root: Path) -> bool:
    return root.is_dir() and any(files for _directory, _subdirectories, files in os.walk(root))


def _remove_empty_tree(root: Path) -> None:
    """Remove `root` and its (empty) subdirectories; fails, removing nothing more, if a file
    appeared meanwhile."""
    for directory, _subdirectories, _files in os.walk(root, topdown=False):
        os.rmdir(directory)


def _check_media_empty() -> None:
    root = Path(settings.MEDIA_ROOT)
    if root.exists() and not root.is_dir():
        raise BackupError(_("%(path)s (the media directory) is not a directory.") % {"path": root})
    if _holds_files(root):
        raise BackupError(
            _(
                "The media directory %(path)s already holds files: restore writes only into an "
                "empty one. Move it away, then run `linli restore` again. Nothing was written."
            )
            % {"path": root}
        )


def _extract_member(archive: tarfile.TarFile, info: tarfile.TarInfo, target: Path, sha256: str):
    """Write one member to `target` (mode 0600 while written), checking its SHA-256 again."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    digest = hashlib.sha256()
    with os.fdopen(descriptor, "wb") as handle:
        source = archive.extractfile(info)
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    if digest.hexdigest() != sha256:
        raise BackupError(
            _("Checksum mismatch in %(name)s while restoring: the archive changed meanwhile.")
            % {"name": info.name}
        )


def _restore_sqlite(archive_path: Path, manifest: dict, using: str) -> None:
    target = _sqlite_path(using)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".linli-restore-"))
    try:
        copy = staging / SQLITE_MEMBER
        sha256 = {m["name"]: m["sha256"] for m in manifest["members"]}[SQLITE_MEMBER]
        with tarfile.open(archive_path, "r:") as archive:
            _extract_member(archive, archive.getmember(SQLITE_MEMBER), copy, sha256)
        connections[using].close()
        if not target.exists():
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        source = sqlite3.connect(_read_only_uri(copy), uri=True)
        destination = sqlite3.connect(target, timeout=60)
        try:
            # The backup API writes the whole database in one transaction on the target,
            # WAL and all; the target's old (empty) content is replaced.
            source.backup(destination)
            (check,) = destination.execute("PRAGMA integrity_check").fetchone()
            if check != "ok":
                raise BackupError(
                    _("The restored database failed SQLite's integrity check: %(result)s")
                    % {"result": check}
                )
        finally:
            destination.close()
            source.close()
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _restore_postgres(archive_path: Path, manifest: dict, using: str) -> None:
    connection = connections[using]
    major = _server_major(using)
    pg_restore = pg_tool("pg_restore", major)
    staging = Path(tempfile.mkdtemp(prefix="linli-restore-"))
    try:
        dump = staging / POSTGRES_MEMBER
        sha256 = {m["name"]: m["sha256"] for m in manifest["members"]}[POSTGRES_MEMBER]
        with tarfile.open(archive_path, "r:") as archive:
            _extract_member(archive, archive.getmember(POSTGRES_MEMBER), dump, sha256)
        # The database is empty of data (checked), but `migrate` may have made its tables:
        # they go, so that the archive's schema and django_migrations agree.
        tables = connection.introspection.table_names()
        if tables:
            with connection.cursor() as cursor:
                quoted = ", ".join(connection.ops.quote_name(table) for table in tables)
                cursor.execute(f"DROP TABLE IF EXISTS {quoted} CASCADE")
        connection.close()
        result = subprocess.run(
            [
                pg_restore,
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--no-password",
                f"--dbname={settings.DATABASES[using]['NAME']}",
                str(dump),
            ],
            env=_libpq_environment(using),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(
                _("pg_restore failed (the database was left empty): %(error)s")
                % {"error": result.stderr.strip()}
            )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _restore_media(archive_path: Path, manifest: dict) -> int:
    """Write the archive's media into a new directory beside MEDIA_ROOT, then rename it into
    place: the media directory is never seen half restored."""
    media = [m for m in manifest["members"] if m["name"].startswith(MEDIA_PREFIX)]
    if not media:
        return 0
    root = Path(settings.MEDIA_ROOT)
    root.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root.parent, prefix=".linli-restore-media-"))
    os.chmod(staging, 0o750)
    try:
        wanted = {m["name"]: m["sha256"] for m in media}
        with tarfile.open(archive_path, "r:") as archive:
            for info in archive:
                if info.name not in wanted:
                    continue
                target = staging / info.name[len(MEDIA_PREFIX) :]
                for parent in reversed(target.relative_to(staging).parents[:-1]):
                    (staging / parent).mkdir(mode=0o750, exist_ok=True)
                _extract_member(archive, info, target, wanted[info.name])
                os.chmod(target, 0o640)
        if root.exists():
            _remove_empty_tree(root)  # no files (checked): the restored one takes its place
        os.rename(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return len(media)


def _check_before_writing(
    archive: Path,
    manifest: dict,
    result: RestoreResult,
    passphrase: Callable[[], str] | None,
    using: str,
) -> None:
    """The database engine, the migrations, emptiness, then the field key (installed when it
    may be): a BackupError here means nothing of the archive was written."""
    engine = _engine(using)
    if manifest["database"]["engine"] != engine:
        raise BackupError(
            _(
                "The archive holds a %(archived)s database; this server is configured for %(engine)s."
            )
            % {"archived": manifest["database"]["engine"], "engine": engine}
        )
    _check_migrations_known(manifest)
    _check_database_empty(engine, using)
    _check_media_empty()

    # The field key, before anything is written.
    counts = _archive_counts(manifest)
    key_info = manifest["field_key"]
    needed = key_info["fingerprint"]
    if needed != current_fingerprint() and sum(item.count for item in counts):
        if not key_info.get("included"):
            raise BackupError(
                _(
                    "This server's field key is not the one the archive needs (fingerprint "
                    "%(needed)s; this server's: %(current)s). Restored with it, these could not "
                    "be read: %(what)s. Nothing was written. Set LINLI_FIELD_KEY to the original "
                    "key (or put it in %(path)s), then run `linli restore` again."
                )
                % {
                    "needed": needed[:16],
                    "current": current_fingerprint()[:16],
                    "what": describe_counts(counts),
                    "path": settings.FIELD_KEY_FILE,
                }
            )
        key = _key_from_archive(archive, passphrase)
        if key_fingerprint(key) != needed:
            raise BackupError(_("The field key in this archive does not match its manifest."))
        if not _place_key(key, result, using=using):
            raise BackupError(_key_instructions(result.key_written))


def restore(
    *,
    archive: Path,
    passphrase: Callable[[], str] | None = None,
    key_only: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> RestoreResult:
    """Restore `archive` into the empty database and media directory this server is
    configured with. Checks, in order, before writing anything: checksums, the database
    engine, the migrations, emptiness, the field key. With `key_only`, only recovers the
    field key from an archive made with --with-key."""
    started = time.monotonic()
    archive = Path(archive)
    manifest = archive_verify(archive)
    result = RestoreResult(manifest=manifest)
    key_info = manifest["field_key"]
    if key_only:
        if not key_info.get("included"):
            raise BackupError(
                _("This archive holds no field key (it was made without --with-key).")
            )
        try:
            key = _key_from_archive(archive, passphrase)
        except BackupError:
            _take_back_key_generated_now()
            raise
        _place_key(key, result, using=using)
        result.seconds = time.monotonic() - started
        return result

    try:
        _check_before_writing(archive, manifest, result, passphrase, using)
    except (BackupError, DatabaseError):
        _take_back_key_generated_now()
        raise

    engine = _engine(using)
    if engine == "sqlite":
        _restore_sqlite(archive, manifest, using)
    else:
        _restore_postgres(archive, manifest, using)
    result.media_files = _restore_media(archive, manifest)

    connections[using].close()
    state = field_key_record_if_readable(using=using, exact_counts=True)
    if state is not None:
        result.counts = {item.table: item.count for item in state.counts}
        result.readable = state.readable
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[using])
    result.unapplied_migrations = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    result.seconds = time.monotonic() - started
    return result
