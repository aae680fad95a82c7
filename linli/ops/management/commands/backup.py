"""`linli backup [--to DIR] [--keep N] [--with-key]`: one dated archive of the database and
the media files (linli.ops.backup). Safe while the platform serves."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _

from linli.ops.backup import BackupError, backup_create, passphrase_from_environment_or_prompt


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


class Command(BaseCommand):
    help = (
        "Write a consistent, dated archive of the database and the media files, with a "
        "manifest of versions, migrations and checksums."
    )
    # A backup must be possible whatever state the platform is in, a wrong field key included.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            type=Path,
            default=None,
            help=f"directory for the archive (default LINLI_BACKUP_DIR, {settings.LINLI_BACKUP_DIR})",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help="then keep only the newest N archives in that directory (older ones of ours are deleted)",
        )
        parser.add_argument(
            "--with-key",
            action="store_true",
            help="include the field key, encrypted with a passphrase (LINLI_BACKUP_PASSPHRASE, or asked)",
        )

    def handle(self, *args, **options):
        try:
            passphrase = (
                passphrase_from_environment_or_prompt(confirm=True) if options["with_key"] else None
            )
            result = backup_create(
                directory=options["to"], keep=options["keep"], passphrase=passphrase
            )
        except BackupError as error:
            raise CommandError(str(error)) from None
        except DatabaseError as error:
            raise CommandError(
                _("The database cannot be read: %(error)s") % {"error": error}
            ) from None
        manifest = result.manifest
        self.stdout.write(
            _(
                "Backup written: %(path)s (%(size)s; the %(engine)s database and %(media)d media "
                "files; %(seconds).1f s)."
            )
            % {
                "path": result.path,
                "size": _size(result.size),
                "engine": manifest["database"]["engine"],
                "media": result.media_files,
                "seconds": result.seconds,
            }
        )
        fingerprint = manifest["field_key"]["fingerprint"][:16]
        if manifest["field_key"]["included"]:
            self.stdout.write(
                _(
                    "The field key (fingerprint %(fingerprint)s) is inside, encrypted: keep the "
                    "passphrase apart from the archive."
                )
                % {"fingerprint": fingerprint}
            )
        else:
            self.stdout.write(
                _(
                    "The field key is not inside: ID numbers in this archive need the key with "
                    "fingerprint %(fingerprint)s. Keep a copy of it (%(path)s or LINLI_FIELD_KEY) "
                    "somewhere safe, or back up with --with-key."
                )
                % {"fingerprint": fingerprint, "path": settings.FIELD_KEY_FILE}
            )
        for path in result.removed:
            self.stdout.write(_("Removed the older archive %(path)s.") % {"path": path})
        for path in result.kept_foreign:
            self.stdout.write(
                _("Left alone %(path)s: named like an archive, but not a Linli backup.")
                % {"path": path}
            )
