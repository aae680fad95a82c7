from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the platform: scheduled jobs, health, metrics, logs, backups."""

    name = "linli.ops"
    label = "ops"
    verbose_name = "Operations"
