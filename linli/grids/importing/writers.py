"""Writing an import: one writer per database, called by the importer in order.

On PostgreSQL new residents go straight into their table with COPY, one batch at a time,
through psycopg's queued writer thread: the database ingests batch k on one core while
Python validates, hashes and encrypts batch k+1 on the other. Each batch is sorted by ID hash,
so the ID-hash indexes fill in sweeps rather than at random pages. New buildings and
households get ids reserved from their sequences under a table lock and are copied per batch
(foreign keys are checked at commit, as Django declares them deferred). Changed residents go
through a temporary table and one UPDATE. On SQLite the same plan runs with `executemany`.
"""

from __future__ import annotations

import contextlib
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any

from django.db import DatabaseError, connection

from linli.grids.models import Building, Household, Resident

# Sorting each batch by ID hash cut the database's work by a quarter (bench/README.md).
SORT_BATCHES = True
# From this many changed residents on, PostgreSQL updates them through a temporary table.
UPDATES_VIA_TEMP_TABLE = 1000
# The GIL switch interval for a process that does nothing but an import (`short_switch_interval`):
# measured on 1M rows, it took the whole import from 50 s to 21 s.
SWITCH_INTERVAL = 0.0005


@contextmanager
def short_switch_interval() -> Iterator[None]:
    """The GIL switch interval at SWITCH_INTERVAL while the block runs, so that the COPY
    writer thread gets the GIL promptly whenever the socket can take more, instead of the
    database waiting while this thread validates.

    The interval is the whole process's: only a process that is the import's own (`linli
    import`, the benchmark) may change it, never a web request or a worker that runs other
    tasks beside the import."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _copy_escape(value: str) -> str:
    """Text-format COPY escaping (values with control characters never get this far)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


_RESIDENT_INSERT_COLUMNS = (
    "household_id",
    "grid_path",
    "name",
    "sex",
    "birth_year",
    "phone",
    "id_number_encrypted",
    "id_number_hash",
    "id_number_masked",
    "residency_type",
    "party_membership",
    "vulnerability_tags",
    "created_at",
    "updated_at",
)
_LOOKUP_COLUMNS = (
    "id_number_hash",
    "id",
    "household_id",
    "grid_path",
    "name",
    "sex",
    "birth_year",
    "phone",
    "residency_type",
    "party_membership",
    "vulnerability_tags",
)
UPDATE_COLUMNS = (
    "household_id",
    "grid_path",
    "name",
    "sex",
    "birth_year",
    "phone",
    "residency_type",
    "party_membership",
    "vulnerability_tags",
)
TABLES = {
    "building": Building._meta.db_table,
    "household": Household._meta.db_table,
    "resident": Resident._meta.db_table,
}


class Writer(ABC):
    """What differs between PostgreSQL and SQLite; the importer calls these in order."""

    def __init__(self, now: datetime):
        self.now = now
        self.cursor = connection.cursor()

    def lock(self) -> None:  # noqa: B027 - most databases need no lock beyond the transaction
        """Keep concurrent writers out of the registry tables for the import's duration."""

    def table_has_rows(self, table: str) -> bool:
        self.cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608 (fixed names)
        return self.cursor.fetchone() is not None

    @abstractmethod
    def lookup(self, hashes: list[str]) -> dict[str, tuple]:
        """Implemented per database."""

    @abstractmethod
    def first_free_id(self, table: str) -> int:
        """Implemented per database."""

    def ids_used(self, table: str, last: int) -> None:  # noqa: B027 - optional hook
        """Tell the database which ids were taken (PostgreSQL moves its sequences)."""

    def prepare_residents(self, rows: list[tuple]) -> Any:
        """Whatever `write_residents` sends, made before waiting for the database."""
        return rows

    @abstractmethod
    def write_residents(self, payload: Any) -> None:
        """Implemented per database."""

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Wait until every queued row has reached the database."""

    def insert_buildings(self, rows: list[tuple]) -> None:
        self.cursor.executemany(
            f"INSERT INTO {TABLES['building']} (id, grid_unit_id, grid_path, name, address) "
            "VALUES (%s, %s, %s, %s, '')",
            rows,
        )

    def insert_households(self, rows: list[tuple]) -> None:
        now = connection.ops.adapt_datetimefield_value(self.now)
        self.cursor.executemany(
            f"INSERT INTO {TABLES['household']} "
            "(id, building_id, grid_path, room, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(*row, now, now) for row in rows],
        )

    def update_residents(self, rows: list[tuple]) -> None:
        now = connection.ops.adapt_datetimefield_value(self.now)
        assignments = ", ".join(f"{column} = %s" for column in UPDATE_COLUMNS)
        self.cursor.executemany(
            f"UPDATE {TABLES['resident']} SET {assignments}, updated_at = %s WHERE id = %s",
            [(*row[1:], now, row[0]) for row in rows],
        )

    def close(self) -> None:
        self.cursor.close()


class SqliteWriter(Writer):
    chunk = 500

    def lookup(self, hashes: list[str]) -> dict[str, tuple]:
        found = {}
        columns = ", ".join(_LOOKUP_COLUMNS)
        for start in range(0, len(hashes), self.chunk):
            part = hashes[start : start + self.chunk]
            marks = ", ".join(["%s"] * len(part))
            self.cursor.execute(
                f"SELECT {columns} FROM {TABLES['resident']} WHERE id_number_hash IN ({marks})",
                part,
            )
            for row in self.cursor.fetchall():
                found[row[0]] = row
        return found

    def first_free_id(self, table: str) -> int:
        # The import holds SQLite's write lock (BEGIN IMMEDIATE) for its whole transaction.
        self.cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        highest = self.cursor.fetchone()[0]
        self.cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = self.cursor.fetchone()
        return max(highest, row[0] if row else 0) + 1

    def write_residents(self, rows: list[tuple]) -> None:
        now = connection.ops.adapt_datetimefield_value(self.now)
        columns = ", ".join(_RESIDENT_INSERT_COLUMNS)
        marks = ", ".join(["%s"] * len(_RESIDENT_INSERT_COLUMNS))
        self.cursor.executemany(
            f"INSERT INTO {TABLES['resident']} ({columns}) VALUES ({marks})",
            [(*row, now, now) for row in rows],
        )


class PostgresWriter(Writer):
    def __init__(self, now: datetime):
        super().__init__(now)
        self.now_text = now.isoformat()
        self._copy_stack: ExitStack | None = None
        self._copy = None

    def lock(self) -> None:
        # Readers go on; other writers to these tables wait until the import commits, so the
        # existing keys read at the start stay true and reserved ids stay free.
        self.cursor.execute(
            "LOCK TABLE {building}, {household}, {resident} IN SHARE ROW EXCLUSIVE MODE".format(
                **TABLES
            )
        )
        # A crash loses at most this transaction, which then did not happen at all.
        self.cursor.execute("SET LOCAL synchronous_commit = off")

    def lookup(self, hashes: list[str]) -> dict[str, tuple]:
        self.flush()
        columns = ", ".join(_LOOKUP_COLUMNS)
        self.cursor.execute(
            f"SELECT {columns} FROM {TABLES['resident']} WHERE id_number_hash = ANY(%s)",
            [hashes],
        )
        return {row[0]: row for row in self.cursor.fetchall()}

    def first_free_id(self, table: str) -> int:
        self.cursor.execute(
            f"SELECT GREATEST(nextval(pg_get_serial_sequence(%s, 'id')), "
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}))",
            [table],
        )
        return self.cursor.fetchone()[0]

    def ids_used(self, table: str, last: int) -> None:
        self.cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, last])

    def _copy_start(self, sql: str):
        from psycopg.copy import QueuedLibpqWriter

        raw = self.cursor.cursor  # the psycopg cursor under Django's wrapper
        self._copy_stack = ExitStack()
        self._copy = self._copy_stack.enter_context(raw.copy(sql, writer=QueuedLibpqWriter(raw)))
        return self._copy

    def prepare_residents(self, rows: list[tuple]) -> bytes:
        # Sorted by hash: the two ID-hash indexes then fill page after page.
        if SORT_BATCHES:
            rows.sort(key=lambda row: row[7])
        now = self.now_text
        lines = [
            f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\t{r[7]}\t{r[8]}\t"
            f"{r[9]}\t{r[10]}\t{r[11]}\t{now}\t{now}\n"
            for r in (
                row if "\\" not in row[1] and "\\" not in row[2] else _escaped(row) for row in rows
            )
        ]
        return "".join(lines).encode()

    def write_residents(self, payload: bytes) -> None:
        copy = self._copy or self._copy_start(
            f"COPY {TABLES['resident']} ({', '.join(_RESIDENT_INSERT_COLUMNS)}) FROM STDIN"
        )
        copy.write(payload)

    def flush(self) -> None:
        """End the COPY in flight (waits for the server to take the rest)."""
        if self._copy_stack is not None:
            stack, self._copy_stack, self._copy = self._copy_stack, None, None
            stack.close()

    def _copy_rows(self, sql: str, rows: Iterable[tuple]) -> None:
        self.flush()
        with self.cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def _copy_text(self, sql: str, lines: list[str]) -> None:
        self.flush()
        with self.cursor.cursor.copy(sql) as copy:
            copy.write("".join(lines).encode())

    def insert_buildings(self, rows: list[tuple]) -> None:
        escape = _copy_escape
        self._copy_text(
            f"COPY {TABLES['building']} (id, grid_unit_id, grid_path, name, address) FROM STDIN",
            [
                f"{pk}\t{group}\t{escape(path)}\t{escape(name)}\t\n"
                for pk, group, path, name in rows
            ],
        )

    def insert_households(self, rows: list[tuple]) -> None:
        escape, now = _copy_escape, self.now_text
        self._copy_text(
            f"COPY {TABLES['household']} "
            "(id, building_id, grid_path, room, created_at, updated_at) FROM STDIN",
            [
                f"{pk}\t{building}\t{escape(path)}\t{escape(room)}\t{now}\t{now}\n"
                for pk, building, path, room in rows
            ],
        )

    def update_residents(self, rows: list[tuple]) -> None:
        self.flush()
        if len(rows) < UPDATES_VIA_TEMP_TABLE:
            super().update_residents(rows)
            return
        self.cursor.execute(
            "CREATE TEMP TABLE linli_import_update "
            f"(id bigint, {', '.join(f'{c} text' for c in UPDATE_COLUMNS)}) ON COMMIT DROP"
        )
        self._copy_rows(
            f"COPY linli_import_update (id, {', '.join(UPDATE_COLUMNS)}) FROM STDIN", rows
        )
        casts = {"household_id": "::bigint", "birth_year": "::smallint"}
        assignments = ", ".join(f"{c} = u.{c}{casts.get(c, '')}" for c in UPDATE_COLUMNS)
        self.cursor.execute(
            f"UPDATE {TABLES['resident']} r SET {assignments}, updated_at = %s "
            "FROM linli_import_update u WHERE r.id = u.id",
            [self.now],
        )

    def close(self) -> None:
        # The transaction failed and is being rolled back anyway.
        with contextlib.suppress(DatabaseError):
            self.flush()
        super().close()


def _escaped(row: tuple) -> tuple:
    return (row[0], _copy_escape(row[1]), _copy_escape(row[2]), *row[3:])


def writer_for_database(now: datetime) -> Writer:
    """The writer for the database of the default connection."""
    if connection.vendor == "postgresql":
        return PostgresWriter(now)
    return SqliteWriter(now)
