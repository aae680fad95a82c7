"""`linli restore ARCHIVE [--key-only]`: the database and media files of a `linli backup`
archive, into an empty database and media directory (linli.ops.backup)."""

from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.ops.backup import BackupError, passphrase_from_environment_or_prompt, restore


def _local_minute(moment: str) -> str:
    """The manifest's ISO timestamp (UTC) as the site's local time to the minute, e.g.
    "2026-12-05 19:48"; left as written if it is not a timestamp."""
    try:
        parsed = datetime.fromisoformat(moment)
    except (TypeError, ValueError):
        return str(moment)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")


class Command(BaseCommand):
    help = (
        "Restore a `linli backup` archive into an empty database and media directory, after "
        "checking its checksums and the field key."
    )
    # Restoring is how a platform that refuses to start (no data, or a wrong key) recovers.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--key-only",
            action="store_true",
            help="only recover the field key from an archive made with --with-key",
        )

    def handle(self, *args, **options):
        try:
            result = restore(
                archive=options["archive"],
                passphrase=lambda: passphrase_from_environment_or_prompt(confirm=False),
                key_only=options["key_only"],
            )
        except BackupError as error:
            raise CommandError(str(error)) from None
        except DatabaseError as error:
            raise CommandError(
                _("The database cannot be reached or written: %(error)s") % {"error": error}
            ) from None
        if result.key_installed:
            self.stdout.write(
                _("The archive's field key was installed in %(path)s (mode 0600).")
                % {"path": result.key_installed}
            )
        elif result.key_written:
            self.stdout.write(
                _(
                    "The archive's field key is in %(file)s (mode 0600): install it as this "
                    "server's key (move it to %(path)s, or set LINLI_FIELD_KEY to its content)."
                )
                % {"file": result.key_written, "path": result.key_written.with_name("field_key")}
            )
        if options["key_only"]:
            return
        if not result.readable:
            raise CommandError(
                _(
                    "Restored, but this server's field key cannot read the restored ID numbers: "
                    "the archive's manifest named another key. Linli will not start until the "
                    "right key is installed."
                )
            )
        counts = ", ".join(f"{table}: {count:,}" for table, count in result.counts.items())
        self.stdout.write(
            _(
                "Restored the backup of %(created)s: the database (encrypted values readable "
                "with this server's key — %(counts)s) and %(media)d media files, in %(seconds).1f s."
            )
            % {
                "created": _local_minute(result.manifest["created_at"]),
                "counts": counts or "-",
                "media": result.media_files,
                "seconds": result.seconds,
            }
        )
        if result.unapplied_migrations:
            self.stdout.write(
                _(
                    "This Linli is newer than the archive: run `linli migrate` to apply %(count)d "
                    "migration(s) before serving."
                )
                % {"count": result.unapplied_migrations}
            )
