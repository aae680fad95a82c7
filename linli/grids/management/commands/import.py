"""`linli import residents FILE [--as USERNAME] [--dry-run]`.

Prints the import report; when any row is bad, prints every bad row and exits non-zero
(nothing is written then). Without --as the import runs as the system, with the whole
registry in scope; with --as it runs with that user's scope and is audited under their name.

This process does nothing but the import, so it may set the GIL switch interval short for it
(linli.grids.importing.writers.short_switch_interval: PostgreSQL's COPY writer thread is then
fed promptly); the web and the worker never do.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.accounts.models import User
from linli.grids.importing import registry_import
from linli.grids.importing.writers import short_switch_interval


class Command(BaseCommand):
    help = "Import buildings, households and residents from a .xlsx or .csv file."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["residents"], help="what the file holds")
        parser.add_argument("file", help="path to a .xlsx or .csv file (UTF-8)")
        parser.add_argument(
            "--as", dest="username", help="import as this user (their scope, their name)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    def handle(self, *args, kind: str, file: str, username: str | None, dry_run: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在 / no such file: {path}")
        actor = None
        if username:
            actor = User.objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(f"没有此用户 / no active user named {username!r}")
        try:
            with short_switch_interval():
                report = registry_import(
                    actor=actor, source=path, filename=path.name, dry_run=dry_run
                )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(report.summary())
        if report.errors:
            for error in report.errors:
                self.stdout.write(error.as_text())
            raise CommandError(
                f"{len(report.errors)} 处错误，未写入任何数据 / "
                f"{len(report.errors)} errors: nothing was written"
            )
