"""`linli serve`: the production-grade server for an existing database.

Collects static files (whitenoise serves them, compressed and with far-future caching for
the hashed names), then runs gunicorn with the project's WSGI application, and beside it the
clock-driven half of the platform: `linli worker` (background tasks) and `linli scheduler`
(periodic jobs), each a child process restarted with back-off if it dies, all stopped
together on SIGTERM or Ctrl+C (linli.ops.jobs_supervisor). `--no-jobs` serves the web alone,
in this process, for production where systemd runs the worker and the scheduler as services
of their own. It does not migrate: serving a database must never change its schema behind the operator's
back (several web processes would race, and a production upgrade wants a backup first), so
unapplied migrations stop it with the command to run instead.
"""

import argparse
import errno
import socket

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from linli.env import env_int, env_str
from linli.ops.jobs_supervisor import Child, Supervisor, linli_command
from linli.ops.scheduler import unapplied_migrations


def gunicorn_run(*, host: str, port: int, workers: int, threads: int, timeout: int) -> None:
    """Run gunicorn in-process until it is stopped (SIGTERM: graceful, SIGINT: quick).

    `host` is a name or address; an IPv6 address comes in brackets ("[::1]").
    """
    # The project's WSGI application by its setting, as runserver loads it: the operations
    # app stays below the project modules (docs/architecture.md).
    from django.core.servers.basehttp import get_internal_wsgi_application
    from gunicorn.app.base import BaseApplication

    from linli.ops.metrics import gunicorn_setup

    application = get_internal_wsgi_application()

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": timeout,
        "graceful_timeout": 10,
        "errorlog": "-",
        "proc_name": "linli",
        # Behind a proxy on the same machine; LINLI_FORWARDED_ALLOW_IPS widens it.
        "forwarded_allow_ips": env_str("LINLI_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
    }

    # Request metrics summed over the worker processes, and the request log (linli.ops) in
    # place of gunicorn's access log, which would print query strings (api_key) in full.
    options.update(gunicorn_setup())

    class LinliServer(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)
            # Gunicorn ≥ 24 opens a control socket under $HOME; two servers on one machine
            # would fight over it, and nothing here uses it.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self):
            return application

    # Workers are forked: none of them may inherit the parent's database connection.
    connections.close_all()
    LinliServer().run()


def port_in_use(host: str, port: int) -> bool:
    """Whether another process listens on `port` at `host`, as gunicorn would bind it."""
    try:
        addresses = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    for family, kind, protocol, _name, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return True
    return False


def could_not_start(*, host: str, shown: str, port: int, status: int) -> CommandError:
    if port_in_use(host, port):
        return CommandError(
            f"The web server could not start: port {port} on {shown} is in use (another "
            f"`linli serve`?). Stop it, or choose another port with --port (or LINLI_PORT)."
        )
    return CommandError(f"The web server could not start (exit status {status}).")


class Command(BaseCommand):
    help = "Serve Linli with gunicorn and whitenoise on an existing, migrated database."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=env_str("LINLI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("LINLI_PORT", 8000))
        parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
        parser.add_argument("--timeout", type=int, default=60, help="request timeout, seconds")
        parser.add_argument(
            "--no-jobs",
            action="store_true",
            help="serve the web only: no worker, no scheduler (production runs them as services)",
        )
        parser.add_argument("--no-worker", action="store_true", help="start no `linli worker`")
        parser.add_argument(
            "--no-scheduler", action="store_true", help="start no `linli scheduler`"
        )
        # The supervised web child: the parent has collected static files and said where.
        parser.add_argument("--supervised-web", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        for name in ("port", "workers", "threads", "timeout"):
            if options[name] < (0 if name == "port" else 1):
                raise CommandError(f"--{name} must be a positive number, got {options[name]}.")
        host, port = options["host"], options["port"]
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        pending = [] if options["supervised_web"] else unapplied_migrations()
        if pending:
            raise CommandError(
                f"The database has {len(pending)} unapplied migration(s) "
                f"(first: {pending[0]}). Run `linli migrate` first "
                "(or `linli demo` to create the demo community)."
            )
        if options["supervised_web"]:
            gunicorn_run(
                host=shown,
                port=port,
                workers=options["workers"],
                threads=options["threads"],
                timeout=options["timeout"],
            )
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        from linli.celery import app

        # Tasks that run inline (LINLI_CELERY_EAGER, memory://) need no worker.
        run_worker = not (options["no_jobs"] or options["no_worker"] or app.conf.task_always_eager)
        run_scheduler = not (options["no_jobs"] or options["no_scheduler"])
        beside = [
            name
            for name, wanted in (("worker", run_worker), ("scheduler", run_scheduler))
            if wanted
        ]
        self.stdout.write(
            f"Linli at http://{shown}:{port}/ — gunicorn, {options['workers']} worker(s) × "
            f"{options['threads']} thread(s), static files from {settings.STATIC_ROOT}"
            + (f"; with the background {' and '.join(beside)}" if beside else "")
            + ". Ctrl+C stops."
        )
        if shown not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            self.stdout.write(
                "Note: only requests for these host names are answered: "
                f"{', '.join(settings.ALLOWED_HOSTS)}; set LINLI_ALLOWED_HOSTS for others."
            )
        self.stdout.flush()
        if not beside:
            try:
                gunicorn_run(
                    host=shown,
                    port=port,
                    workers=options["workers"],
                    threads=options["threads"],
                    timeout=options["timeout"],
                )
            except SystemExit as stopped:  # gunicorn gives up on a port it cannot bind
                if stopped.code:
                    status = stopped.code if isinstance(stopped.code, int) else 1
                    raise could_not_start(
                        host=host, shown=shown, port=port, status=status
                    ) from None
                raise
            return
        web = [
            "serve",
            "--supervised-web",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--timeout",
            str(options["timeout"]),
        ]
        children = [Child(name="web server", argv=linli_command(*web), essential=True)]
        if run_worker:
            children.append(Child(name="worker", argv=linli_command("worker")))
        if run_scheduler:
            children.append(Child(name="scheduler", argv=linli_command("scheduler")))
        # Children open their own connections; this process needs none while it watches.
        connections.close_all()
        status = Supervisor(children, out=self.stdout).run()
        if status:
            raise could_not_start(host=host, shown=shown, port=port, status=status)
