"""`linli check --deploy`: Linli's own deployment checks, beside Django's.

Registered with Django's system-check framework for deployment only (linli/ops/apps.py), so
they run with `--deploy` and never slow an ordinary start. Each message says what is wrong
and its hint says how to fix it. Errors make the command fail; what a trial on a closed
office LAN may live with for a while (no TLS yet, no backup yet) is a warning.
"""

import os
import stat
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core import checks

from linli import clock

SECRET_KEY_VARIABLE = "LINLI_SECRET_KEY"
FIELD_KEY_VARIABLE = "LINLI_FIELD_KEY"
# Names that only reach this machine (and Django's test client).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "testserver"})
BACKUP_MAX_AGE = timedelta(days=1)
# Read, write or enter for everyone else; write for the group.
OTHERS = stat.S_IRWXO
GROUP_WRITE = stat.S_IWGRP


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_debug(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if not settings.DEBUG:
        return []
    return [
        checks.Error(
            "Debug mode is on: an error page shows anyone the code, the settings and the "
            "data of the request.",
            hint="Remove LINLI_DEBUG from the service's environment (or set LINLI_DEBUG=0).",
            id="linli.E001",
        )
    ]


def check_https(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.LINLI_HTTPS:
        return []
    return [
        checks.Warning(
            "LINLI_HTTPS is off: pages, passwords and session cookies cross the network "
            "unencrypted. (Django's security.W004, W008, W012 and W016 below say the same.)",
            hint="Put nginx or Caddy with a TLS certificate in front (docs/deploy.md) and set "
            "LINLI_HTTPS=1. A short trial on a closed office LAN may run without it.",
            id="linli.W002",
        )
    ]


def _key_messages(
    *, what: str, value: str, variable: str, path: Path, missing_id: str, mode_id: str
) -> list[checks.CheckMessage]:
    if not value:
        return [
            checks.Error(
                f"The {what} is empty.",
                hint=f"Set {variable} in the service's environment, or remove it so that "
                f"Linli generates {path} on its first start.",
                id=missing_id,
            )
        ]
    if os.environ.get(variable):
        return []  # From the environment (e.g. a systemd credential): no file to check.
    if not path.exists():
        return [
            checks.Error(
                f"The {what} file {path} is missing.",
                hint=f"Restore {path} from your copy of it, or set {variable}.",
                id=missing_id,
            )
        ]
    mode = _mode(path)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [
            checks.Error(
                f"The {what} file {path} has mode {mode:04o}: other users of this server "
                "can read it.",
                hint=f"chmod 600 {path} (owned by the user the service runs as).",
                id=mode_id,
            )
        ]
    return []


def check_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The secret key (sessions, CSRF) and the field key (ID numbers) are set, and a key read
    from a file is readable by its owner only."""
    return _key_messages(
        what="secret key",
        value=settings.SECRET_KEY,
        variable=SECRET_KEY_VARIABLE,
        path=Path(settings.SECRET_KEY_FILE),
        missing_id="linli.E003",
        mode_id="linli.E004",
    ) + _key_messages(
        what="field key",
        value=settings.FIELD_ENCRYPTION_KEY,
        variable=FIELD_KEY_VARIABLE,
        path=Path(settings.FIELD_KEY_FILE),
        missing_id="linli.E005",
        mode_id="linli.E006",
    )


def _private_messages(path: Path, *, what: str, fix: str, id: str) -> list[checks.CheckMessage]:
    mode = _mode(path)
    problems = []
    if mode & stat.S_IROTH:
        problems.append("every user of this server can read it")
    elif mode & OTHERS:
        problems.append("every user of this server has access to it")
    if mode & GROUP_WRITE:
        problems.append("its group can write to it")
    if not problems:
        return []
    return [
        checks.Error(
            f"The {what} {path} has mode {mode:04o}: {' and '.join(problems)}.",
            hint=fix,
            id=id,
        )
    ]


def check_private_files(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The var directory (keys, uploads, the embedded database) and the SQLite files are
    neither readable by everyone nor writable by the group."""
    messages = []
    var_dir = Path(settings.VAR_DIR)
    if var_dir.is_dir():
        messages += _private_messages(
            var_dir,
            what="var directory",
            fix=f"chmod 700 {var_dir} (or 750, if a backup user of the group must read it).",
            id="linli.E007",
        )
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(str(database["NAME"]))
        # The write-ahead log and its index hold recent rows too.
        for path in (name, Path(f"{name}-wal"), Path(f"{name}-shm")):
            if path.is_file():
                messages += _private_messages(
                    path, what="SQLite database file", fix=f"chmod 600 {path}", id="linli.E008"
                )
    return messages


def check_allowed_hosts(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    hosts = list(settings.ALLOWED_HOSTS)
    example = "LINLI_ALLOWED_HOSTS=linli.street.example,192.168.1.10"
    if "*" in hosts:
        return [
            checks.Error(
                "ALLOWED_HOSTS accepts any host name ('*'): links in messages and password "
                "resets can be made to point elsewhere.",
                hint=f"Name the server's host names and addresses, e.g. {example}.",
                id="linli.E009",
            )
        ]
    if not set(hosts) - LOCAL_HOSTS:
        return [
            checks.Warning(
                f"ALLOWED_HOSTS names only this machine ({', '.join(hosts) or 'nothing'}): "
                "browsers on other machines get 400 Bad Request.",
                hint=f"Add the name or address people type, e.g. {example}. (Behind a proxy "
                "that passes Host: localhost this is right.)",
                id="linli.W010",
            )
        ]
    return []


def check_backup(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    directory = Path(settings.LINLI_BACKUP_DIR)
    fix = (
        f"Run `linli backup` (archives go to LINLI_BACKUP_DIR, now {directory}), nightly by "
        "the systemd timer of docs/deploy.md, and keep a copy on another machine."
    )
    try:
        from linli.ops.backup import latest_backup_time
    except ImportError:
        latest = None
    else:
        latest = latest_backup_time()
    if latest is None:
        return [checks.Warning(f"No backup found in {directory}.", hint=fix, id="linli.W011")]
    age = clock.now() - latest
    if age > BACKUP_MAX_AGE:
        hours = int(age.total_seconds() // 3600)
        return [
            checks.Warning(
                f"The newest backup in {directory} is {hours} hours old "
                f"({latest:%Y-%m-%d %H:%M} UTC).",
                hint=fix,
                id="linli.W012",
            )
        ]
    return []


def check_two_factor(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.LINLI_STAFF_TWO_FACTOR:
        return []
    return [
        checks.Warning(
            "LINLI_STAFF_TWO_FACTOR is off: street administrators, secretaries and micro-grid "
            "leads reveal full ID numbers and export the register with a password alone.",
            hint="Remove LINLI_STAFF_TWO_FACTOR from the service's environment (or set "
            "LINLI_STAFF_TWO_FACTOR=1): staff then set up an authenticator app at their next "
            "log-in.",
            id="linli.W013",
        )
    ]


DEPLOY_CHECKS = (
    check_debug,
    check_https,
    check_keys,
    check_private_files,
    check_allowed_hosts,
    check_backup,
    check_two_factor,
)


def register() -> None:
    for check in DEPLOY_CHECKS:
        checks.register(check, checks.Tags.security, "linli", deploy=True)
