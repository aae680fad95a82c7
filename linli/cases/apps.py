from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "linli.cases"
    label = "cases"
    verbose_name = _("民情 cases")

    def ready(self) -> None:
        # The case loop's events in the table of who hears what (linli.notify.events).
        from linli.cases import notification_events  # noqa: F401
