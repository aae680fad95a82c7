"""`linli serve`: the production-grade server for an existing database.

Collects static files (whitenoise serves them, compressed and with far-future caching for
the hashed names), then runs gunicorn in this process with the project's WSGI application.
It does not migrate: serving a database must never change its schema behind the operator's
back (several web processes would race, and a production upgrade wants a backup first), so
unapplied migrations stop it with the command to run instead.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from linli.env import env_int, env_str


def unapplied_migrations() -> list[str]:
    """The migrations `migrate` would apply, as "app.name" (what `migrate --check` checks)."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def gunicorn_run(*, host: str, port: int, workers: int, threads: int, timeout: int) -> None:
    """Run gunicorn in-process until it is stopped (SIGTERM: graceful, SIGINT: quick).

    `host` is a name or address; an IPv6 address comes in brackets ("[::1]").
    """
    from gunicorn.app.base import BaseApplication

    from linli.wsgi import application

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": timeout,
        "graceful_timeout": 10,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "linli",
        # Behind a proxy on the same machine; LINLI_FORWARDED_ALLOW_IPS widens it.
        "forwarded_allow_ips": env_str("LINLI_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
    }

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


class Command(BaseCommand):
    help = "Serve Linli with gunicorn and whitenoise on an existing, migrated database."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=env_str("LINLI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("LINLI_PORT", 8000))
        parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
        parser.add_argument("--timeout", type=int, default=60, help="request timeout, seconds")

    def handle(self, *args, **options):
        for name in ("port", "workers", "threads", "timeout"):
            if options[name] < (0 if name == "port" else 1):
                raise CommandError(f"--{name} must be a positive number, got {options[name]}.")
        pending = unapplied_migrations()
        if pending:
            raise CommandError(
                f"The database has {len(pending)} unapplied migration(s) "
                f"(first: {pending[0]}). Run `linli migrate` first "
                "(or `linli demo` to create the demo community)."
            )
        call_command("collectstatic", interactive=False, verbosity=0)
        host, port = options["host"], options["port"]
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self.stdout.write(
            f"Linli at http://{shown}:{port}/ — gunicorn, {options['workers']} worker(s) × "
            f"{options['threads']} thread(s), static files from {settings.STATIC_ROOT}. "
            "Ctrl+C stops."
        )
        if shown not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            self.stdout.write(
                "Note: only requests for these host names are answered: "
                f"{', '.join(settings.ALLOWED_HOSTS)}; set LINLI_ALLOWED_HOSTS for others."
            )
        self.stdout.flush()
        gunicorn_run(
            host=shown,
            port=port,
            workers=options["workers"],
            threads=options["threads"],
            timeout=options["timeout"],
        )
