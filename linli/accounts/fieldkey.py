"""Does the configured field key read the ID numbers stored in the database?

ID numbers are encrypted under the field key (linli.accounts.privacy). If `var/` is lost, a
key file is generated anew on start, and with it every reveal fails and an import stores the
same residents a second time (the keyed look-up hash changed). So the database keeps the
key's fingerprint (FieldKeyFingerprint, never the key), and the platform refuses to start
while ID numbers are stored and the configured key cannot read them: the system check below
runs before `linli serve`, `worker`, `scheduler`, `migrate`, `import` and the rest.

The fingerprint is the fast answer. When it is missing or differs, a few stored numbers are
decrypted with the configured key: if they all open, the key is right after all (the row was
stale, or predates the fingerprint) and the fingerprint is recorded again.
"""

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.privacy import ENCRYPTED_COLUMNS, decrypt_text, key_fingerprint
from linli.env import GENERATED_SECRET_FILES, forget_generated

logger = logging.getLogger(__name__)

FIELD_KEY_VARIABLE = "LINLI_FIELD_KEY"
# Stored numbers tried when the fingerprint does not settle it: the oldest and the newest.
TRIAL_SAMPLE = 5


@dataclass(frozen=True)
class EncryptedCount:
    table: str
    column: str
    description: str
    count: int


@dataclass(frozen=True)
class FieldKeyState:
    current: str  # fingerprint of the configured key
    stored: str | None  # fingerprint recorded in the database
    present: bool  # anything encrypted is stored
    readable: bool  # the configured key reads what is stored (or nothing is stored)
    # Per column; counted only when asked for or when the key cannot read them (a count
    # scans the table, and this runs before every command).
    counts: list[EncryptedCount]

    @property
    def total(self) -> int:
        return sum(item.count for item in self.counts)


def current_fingerprint() -> str:
    return key_fingerprint(settings.FIELD_ENCRYPTION_KEY)


def encrypted_columns() -> list[tuple[str, str, str, str]]:
    """(table, column, what it holds, primary key column) of every column encrypted under
    the field key."""
    found = []
    for label, field_name, description in ENCRYPTED_COLUMNS:
        meta = apps.get_model(label)._meta
        found.append(
            (meta.db_table, meta.get_field(field_name).column, description, meta.pk.column)
        )
    return found


def _quote(name: str) -> str:
    # Table and column names come from the models, never from input; quoted for both
    # SQLite and PostgreSQL.
    return '"' + name.replace('"', '""') + '"'


def encrypted_counts(cursor, tables: set[str] | None = None) -> list[EncryptedCount]:
    """Rows holding encrypted text, per column, through any DB-API cursor (Django's, or
    sqlite3's on a backup snapshot). A table not in `tables` (not migrated yet) counts 0."""
    counts = []
    for table, column, description, _pk in encrypted_columns():
        count = 0
        if tables is None or table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)} WHERE {_quote(column)} <> ''")
            count = cursor.fetchone()[0]
        counts.append(EncryptedCount(table, column, str(description), count))
    return counts


def encrypted_present(cursor, tables: set[str]) -> bool:
    """Whether any encrypted value is stored (each probe stops at the first row found)."""
    for table, column, _description, _pk in encrypted_columns():
        if table in tables:
            cursor.execute(f"SELECT 1 FROM {_quote(table)} WHERE {_quote(column)} <> '' LIMIT 1")
            if cursor.fetchone():
                return True
    return False


def describe_counts(counts: list[EncryptedCount]) -> str:
    """One part per column that has rows, e.g. "4 residents' ID numbers (table grids_resident)"."""
    return "; ".join(
        _("%(count)s %(what)s (table %(table)s)")
        % {"count": f"{item.count:,}", "what": item.description, "table": item.table}
        for item in counts
        if item.count
    )


def _sample_readable(cursor, secret: str) -> bool:
    for table, column, _description, pk in encrypted_columns():
        values = []
        for order in ("ASC", "DESC"):
            cursor.execute(
                f"SELECT {_quote(column)} FROM {_quote(table)} WHERE {_quote(column)} <> '' "
                f"ORDER BY {_quote(pk)} {order} LIMIT {TRIAL_SAMPLE}"
            )
            values.extend(row[0] for row in cursor.fetchall())
        for value in values:
            try:
                decrypt_text(value, secret=secret)
            except (InvalidTag, ValueError):
                return False
    return True


def field_key_state(
    *, using: str = DEFAULT_DB_ALIAS, exact_counts: bool = False
) -> FieldKeyState | None:
    """Where the configured key stands against the database; None when the database cannot
    say (unreachable, or not migrated as far as the fingerprint). `counts` is filled when
    `exact_counts` is asked for, or when the key cannot read what is stored."""
    from linli.accounts.models import FieldKeyFingerprint

    connection = connections[using]
    try:
        tables = set(connection.introspection.table_names())
        if FieldKeyFingerprint._meta.db_table not in tables:
            return None
        row = FieldKeyFingerprint.objects.using(using).filter(pk=1).first()
        stored = row.fingerprint if row is not None else None
        current = current_fingerprint()
        with connection.cursor() as cursor:
            present = encrypted_present(cursor, tables)
            readable = (
                not present
                or stored == current
                or _sample_readable(cursor, settings.FIELD_ENCRYPTION_KEY)
            )
            counts = encrypted_counts(cursor, tables) if exact_counts or not readable else []
    except DatabaseError:
        return None
    return FieldKeyState(
        current=current, stored=stored, present=present, readable=readable, counts=counts
    )


def field_key_record(*, fingerprint: str, using: str = DEFAULT_DB_ALIAS) -> None:
    from linli.accounts.models import FieldKeyFingerprint

    FieldKeyFingerprint.objects.using(using).update_or_create(
        pk=1, defaults={"fingerprint": fingerprint, "recorded_at": clock.now()}
    )


def field_key_record_if_readable(
    *, using: str = DEFAULT_DB_ALIAS, exact_counts: bool = False
) -> FieldKeyState | None:
    """Record the configured key's fingerprint when that key reads what is stored (nothing
    stored counts); leave a differing fingerprint alone otherwise."""
    state = field_key_state(using=using, exact_counts=exact_counts)
    if state is not None and state.readable and state.stored != state.current:
        try:
            field_key_record(fingerprint=state.current, using=using)
        except DatabaseError as error:
            # A read-only database user: the key reads the data, which is what matters now.
            logger.warning("Could not record the field key's fingerprint: %s", error)
    return state


def _take_back_generated_key() -> Path | None:
    """The key file this very process generated (none was configured), removed again: a new
    key must not stay behind on a database whose data needs the old one."""
    path = Path(settings.FIELD_KEY_FILE)
    if os.environ.get(FIELD_KEY_VARIABLE) or path not in GENERATED_SECRET_FILES:
        return None
    try:
        if path.read_text().strip() == settings.FIELD_ENCRYPTION_KEY:
            path.unlink()
    except OSError:
        return None
    forget_generated(path)
    return path


def key_source(*, generated: bool) -> str:
    """Where this server's field key came from, as a phrase that completes "this server's
    key (…)"."""
    if generated:
        return _("generated just now, as none was configured")
    if os.environ.get(FIELD_KEY_VARIABLE):
        return _("set in the environment variable %(name)s") % {"name": FIELD_KEY_VARIABLE}
    return _("read from %(path)s") % {"path": settings.FIELD_KEY_FILE}


def refusal_message(state: FieldKeyState, *, generated: Path | None) -> str:
    lines = [
        _(
            "Linli will not start: this server's field key cannot read the ID numbers stored "
            "in the database (%(what)s)."
        )
        % {"what": describe_counts(state.counts)}
    ]
    if state.stored:
        lines.append(
            _(
                "They need the key with fingerprint %(stored)s; this server's key "
                "(%(source)s) has fingerprint %(current)s."
            )
            % {
                "stored": state.stored[:16],
                "current": state.current[:16],
                "source": key_source(generated=generated is not None),
            }
        )
    if generated is not None:
        lines.append(
            _(
                "No field key was configured (%(name)s is not set and %(path)s did not exist): "
                "the key generated just now was removed again, since a new key cannot read "
                "existing data."
            )
            % {"name": FIELD_KEY_VARIABLE, "path": generated}
        )
    lines.append(
        _(
            "Restore the original key, then start again: set %(name)s to it, or write it to "
            "%(path)s (mode 0600). A backup made with `linli backup --with-key` holds it: "
            "`linli restore ARCHIVE --key-only` decrypts it. Until then, import or enter no "
            "residents: they would be stored a second time under a key that cannot read the "
            "others."
        )
        % {"name": FIELD_KEY_VARIABLE, "path": settings.FIELD_KEY_FILE}
    )
    return "\n".join(lines)


def field_key_verify(*, using: str = DEFAULT_DB_ALIAS) -> str | None:
    """None when the configured key reads the stored ID numbers (recording its fingerprint
    if the database had none, or a stale one); otherwise the message that stops the
    platform. Call before serving; the system check below does for every command."""
    state = field_key_record_if_readable(using=using)
    if state is None or state.readable:
        return None
    return refusal_message(state, generated=_take_back_generated_key())


def field_key_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check (registered in AccountsConfig.ready)."""
    problem = field_key_verify()
    return [checks.Critical(problem, id="accounts.E001")] if problem else []


def record_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate: a new database learns the key that will encrypt its ID numbers."""
    if sender.label == "accounts":
        field_key_record_if_readable(using=using)
