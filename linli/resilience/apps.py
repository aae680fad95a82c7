from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResilienceConfig(AppConfig):
    name = "linli.resilience"
    label = "resilience"
    verbose_name = _("Resilience")

    def ready(self):
        # Every indicator registers itself on import: the catalogue is whole wherever the
        # engine is used, not only where someone happened to import the catalogue.
        from linli.resilience import catalogue  # noqa: F401
