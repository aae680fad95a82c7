"""`linli resilience snapshot [--backfill WEEKS]`.

Computes every indicator and the index for every street's subtree and stores this week's
snapshot (the scheduled weekly task does the same); with `--backfill`, the last WEEKS weeks
as the records stand now, so that trends are there from the first day.
"""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.resilience.services import snapshots_backfill, snapshots_take_all


class Command(BaseCommand):
    help = "Take the weekly resilience snapshot (or backfill past weeks)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["snapshot"])
        parser.add_argument("--backfill", type=int, default=0, metavar="WEEKS")

    def handle(self, *args, action: str, backfill: int, **options):
        started = time.perf_counter()
        try:
            written = snapshots_backfill(weeks=backfill) if backfill else snapshots_take_all()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"{written:,} indicator values stored in {time.perf_counter() - started:.1f} s"
        )
