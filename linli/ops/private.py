"""The var directory and what is in it are private to the service user (issue 13, hole 21).

Files that Linli creates on purpose get their modes where they are made (keys 0600, the
SQLite file 0600 before SQLite opens it, uploads 0640, the broker and backups 0700). What a
command writes without thinking about it (`linli dumpdata -o …`, a library's temporary file)
gets the process's umask: `linli` and the WSGI entry point start with one that gives nothing
to the group or others (systemd's `UMask=0077` in deploy/ does the same for the units).

An installation made before these rules may have a var directory or a database file that
everyone can read: `tighten` takes the other users' bits (and the group's write bit) away
when the process starts, and `linli check --deploy` says so where it cannot
(linli.ops.checks, linli.E007/E008).
"""

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
# What `tighten` removes: anything for other users, and writing for the group (a backup
# user of the group may keep reading: 0750 / 0640 stay as they are).
NOT_PRIVATE = stat.S_IRWXO | stat.S_IWGRP


def private_umask() -> None:
    """Make the process's umask at least 077 (never looser than it already is)."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


def tighten(path: Path) -> None:
    """Take other users' access (and the group's write) away from `path`, if it exists and
    this process owns it. Never raises: a file it may not change is for the deploy check."""
    try:
        status = path.stat()
        if status.st_uid != os.geteuid():
            return
        mode = stat.S_IMODE(status.st_mode)
        if mode & NOT_PRIVATE:
            os.chmod(path, mode & ~NOT_PRIVATE)
    except OSError:
        return
