from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the platform: scheduled jobs, health, metrics, logs, backups."""

    name = "linli.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self):
        # The embedded default's broker (files under var/broker, linli.ops.jobs_broker): kombu
        # finds a transport by the URL's scheme, so the scheme is made known before any
        # `.delay()` or `linli worker` opens a connection.
        from kombu.transport import TRANSPORT_ALIASES

        from linli.ops.jobs_broker import SCHEME

        TRANSPORT_ALIASES.setdefault(SCHEME, "linli.ops.jobs_broker:Transport")

        # `linli check --deploy`: Linli's own deployment checks (linli/ops/checks.py).
        from linli.ops import checks

        checks.register()
