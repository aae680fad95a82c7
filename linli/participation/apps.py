from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    name = "linli.participation"
    label = "participation"
    verbose_name = _("Participation")

    def ready(self) -> None:
        # The events of activities and deliberation, in the one table of who hears what,
        # and how topics and series read on a person's list of follows (linli.notify).
        from linli.participation import notification_events  # noqa: F401
