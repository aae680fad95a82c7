"""A Linli installation in a temporary directory, driven through the real `linli` command in
subprocesses: its own var directory, media, keys and database. The database follows the
suite's: a SQLite file in the SQLite run, a throw-away database on the same PostgreSQL
server in the PostgreSQL run (dropped again by `drop`)."""

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

LINLI = str(Path(sys.executable).with_name("linli"))
# Variables of the test process that must not leak into an installation's commands.
PRIVATE_VARIABLES = (
    "DATABASE_URL",
    "LINLI_FIELD_KEY",
    "LINLI_SECRET_KEY",
    "LINLI_VAR_DIR",
    "LINLI_MEDIA_ROOT",
    "LINLI_BACKUP_DIR",
    "LINLI_BACKUP_PASSPHRASE",
    "LINLI_TEST_CLOCK",
)

POPULATE = """
import hashlib, io, json, os
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
django.setup()
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from linli.accounts.roles import Role
from linli.cases.models import CaseCategory, CaseSource
from linli.cases.services import case_create, case_photos_add
from linli.conftest import build_world

world = build_world()
case = case_create(
    reporter=world.users[Role.RESIDENT],
    category=CaseCategory.objects.get(code="SAF-01"),
    building=world.building,
    description="楼道里堆满了纸箱",
    source=CaseSource.RESIDENT_REPORT,
)
output = io.BytesIO()
Image.new("RGB", (64, 48), (200, 40, 40)).save(output, "JPEG")
(photo,) = case_photos_add(
    case=case,
    actor=world.users[Role.RESIDENT],
    files=[SimpleUploadedFile("a.jpg", output.getvalue(), "image/jpeg")],
    event=case.events.get(action="create"),
)
path = settings.MEDIA_ROOT / photo.image.name
print(json.dumps({"photo": photo.image.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}))
"""

REVEAL = """
import os
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
django.setup()
from linli.accounts.models import User
from linli.grids.models import Resident
from linli.grids.services import resident_reveal

resident = Resident.objects.get(name="张桂英")
print(resident_reveal(
    user=User.objects.get(username="street_admin"),
    resident=resident,
    field="id_number",
    purpose="other",
    reason="restore test",
))
"""


def _server_parameters() -> dict:
    database = settings.DATABASES["default"]
    return {
        "host": database.get("HOST") or "127.0.0.1",
        "port": str(database.get("PORT") or 5432),
        "user": database.get("USER") or "postgres",
        "password": database.get("PASSWORD") or "",
    }


def _maintenance(statement: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **_server_parameters()) as raw:
        raw.execute(statement)


@dataclass
class Installation:
    root: Path
    field_key: str | None
    database_name: str | None = None  # PostgreSQL only
    extra: dict = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path, *, field_key: str | None) -> "Installation":
        """A new installation with an empty database (a new PostgreSQL database in the
        PostgreSQL run; for SQLite, the file appears when first written)."""
        root.mkdir(parents=True, exist_ok=True)
        name = None
        if connection.vendor == "postgresql":
            name = f"linli_backup_{uuid.uuid4().hex[:12]}"
            _maintenance(f'CREATE DATABASE "{name}"')
        return cls(root=root, field_key=field_key, database_name=name)

    def drop(self) -> None:
        if self.database_name:
            _maintenance(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')

    @property
    def var(self) -> Path:
        return self.root / "var"

    @property
    def media(self) -> Path:
        return self.var / "media"

    @property
    def sqlite_file(self) -> Path:
        return self.var / "linli.sqlite3"

    @property
    def database_url(self) -> str | None:
        if not self.database_name:
            return None
        server = _server_parameters()
        credentials = server["user"] + (f":{server['password']}" if server["password"] else "")
        return f"postgres://{credentials}@{server['host']}:{server['port']}/{self.database_name}"

    def environment(self, **overrides: str | None) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if k not in PRIVATE_VARIABLES}
        environment["LINLI_VAR_DIR"] = str(self.var)
        environment["DJANGO_SETTINGS_MODULE"] = "linli.settings"
        if self.database_url:
            environment["DATABASE_URL"] = self.database_url
        if self.field_key:
            environment["LINLI_FIELD_KEY"] = self.field_key
        environment.update(self.extra)
        for name, value in overrides.items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        return environment

    def linli(
        self, *arguments: str, timeout: float = 300, **overrides
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [LINLI, *arguments],
            env=self.environment(**overrides),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def python(self, code: str, **overrides) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", code],
            env=self.environment(**overrides),
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )

    def table_count(self) -> int:
        """How many tables the database has (0: nothing was written)."""
        if self.database_name:
            import psycopg

            server = _server_parameters()
            with psycopg.connect(dbname=self.database_name, **server) as raw:
                return raw.execute(
                    "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'"
                ).fetchone()[0]
        if not self.sqlite_file.exists():
            return 0
        import sqlite3

        with sqlite3.connect(self.sqlite_file) as raw:
            return raw.execute("SELECT COUNT(*) FROM sqlite_master WHERE type='table'").fetchone()[
                0
            ]


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result
