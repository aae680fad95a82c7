"""`linli worker`: the Celery worker for background tasks sent with `.delay()`.

In the embedded default it reads the broker folder under var/broker (linli.ops.jobs_broker)
and `linli serve` starts it beside the web server; in production it is a service of its own
on Redis (LINLI_CELERY_BROKER_URL=redis://…). Periodic jobs are not its business: they run
in `linli scheduler`.
"""

import sys
import warnings

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from linli.ops.jobs_broker import SCHEME
from linli.ops.logging import say


def worker_says(message: str, out=None) -> None:
    """Celery's `safe_say`, which writes "\\nmessage\\n" to the terminal: one line instead."""
    say("linli.worker", message.strip(), out=out or sys.__stderr__)


def uses_file_broker() -> bool:
    return settings.CELERY_BROKER_URL.startswith(f"{SCHEME}://")


class Command(BaseCommand):
    help = "Run the Celery worker for background tasks (notifications to send, …)."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=4, help="tasks at once (default 4)")
        parser.add_argument(
            "--pool",
            choices=["threads", "prefork", "solo"],
            default="threads",
            help="threads (default: deliveries wait on the network, not the CPU), prefork, solo",
        )
        parser.add_argument(
            "--loglevel", default="WARNING", help="DEBUG, INFO, WARNING (default), ERROR"
        )

    def handle(self, *args, **options):
        if options["concurrency"] < 1:
            raise CommandError(f"--concurrency must be 1 or more, got {options['concurrency']}.")
        from linli.celery import app

        if app.conf.task_always_eager:
            self.stdout.write(
                "Background tasks run inline (LINLI_CELERY_EAGER=1 or a memory:// broker): "
                "there is nothing for a worker to do."
            )
            return
        # Log through the project's logging (one JSON line a record, secrets redacted), not
        # Celery's own handlers.
        app.conf.worker_hijack_root_logger = False
        # Celery writes a few words straight to the terminal ("worker: Warm shutdown
        # (MainProcess)"), past logging: they go through `say` too, a JSON record in JSON mode.
        import celery.apps.worker

        celery.apps.worker.safe_say = worker_says
        if uses_file_broker():
            # Remote control, gossip and mingle talk to other workers through broadcast
            # queues; a folder of files keeps those forever for workers long gone.
            app.conf.worker_enable_remote_control = False
            # Celery warns about running as root because a message could carry code (pickle).
            # Here messages are JSON, in a folder only the service's user may write: the
            # warning would only alarm whoever runs the demo as root (a container).
            warnings.filterwarnings("ignore", message="You're running the worker with superuser")
        argv = [
            "--quiet",  # no banner: `linli serve` prints one line for the whole platform
            "worker",
            "--pool",
            options["pool"],
            "--concurrency",
            str(options["concurrency"]),
            "--loglevel",
            options["loglevel"],
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            "linli@%h",
        ]
        app.worker_main(argv)
