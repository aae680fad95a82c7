"""`linli scheduler`: runs every periodic job when it is due (linli.ops.scheduler).

`linli serve` starts one beside the web server; in production it is a service of its own
(one or more: a job never runs twice at once). `--once` runs the jobs due now and exits.
"""

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from linli.ops.logging import say
from linli.ops.scheduler import Scheduler, tick_seconds, unapplied_migrations


class Command(BaseCommand):
    help = "Run the periodic jobs (escalations, sweeps, snapshots, …) when they are due."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="run the jobs due now, one after the other, and exit",
        )
        parser.add_argument(
            "--threads", type=int, default=None, help="jobs at once (LINLI_SCHEDULER_THREADS)"
        )

    def handle(self, *args, **options):
        if options["threads"] is not None and options["threads"] < 1:
            raise CommandError(f"--threads must be 1 or more, got {options['threads']}.")
        pending = unapplied_migrations()
        if pending:
            raise CommandError(
                f"The database has {len(pending)} unapplied migration(s) "
                f"(first: {pending[0]}). Run `linli migrate` first."
            )
        scheduler = Scheduler(threads=options["threads"])
        if options["once"]:
            outcomes = scheduler.run_due_once()
            for name, outcome in outcomes.items():
                self.stdout.write(f"{name}: {outcome}")
            if not outcomes:
                self.stdout.write("No job is due.")
            return
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()
            scheduler.stop_waker()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        say(
            "linli.scheduler",
            f"Scheduler {scheduler.owner}: {len(scheduler.jobs)} jobs, up to "
            f"{scheduler.threads} at once, wakes at least every {tick_seconds():g} s.",
            out=self.stdout,
        )
        scheduler.serve_forever(stop)
