"""The events of an emergency, in the one table of who hears what (linli.notify.events).

All urgent: quiet hours and the daily digest do not hold them, and they cannot be muted.
Imported by EmergencyConfig.ready. The sends are in services.activation
(`emergency_activated`), services.notifications (`emergency_tasks`), services.tasks
(`emergency_task_escalated`), services.help_requests (`emergency_help`,
`emergency_help_dispatched`) and services.help_notices (the person who asked).
"""

from django.utils.translation import gettext_lazy as _

from linli.emergency.services.help_notices import HELP_CLOSED, HELP_ON_THE_WAY
from linli.notify.events import register_event
from linli.notify.models import Channel

# What services.notifications.emergency_channels() sends on, each when configured: the
# inbox, e-mail, the duty group's WeCom robot (its own headline, naming nobody) and SMS,
# whatever the person's preferences (these sends name their channels).
AS_CONFIGURED = (Channel.EMAIL, Channel.WECOM, Channel.SMS)
# The person who asked for help: the channels they read on a phone, as their addresses and
# preferences choose (an urgent event ignores channels they turned off).
PERSONAL = (Channel.SMS, Channel.WECHAT, Channel.EMAIL)

register_event(
    "emergency_activated",
    label=_("An emergency plan was activated (or a drill started)"),
    recipients=_(
        "The plan's contact tree: holders of its posts in the scope and above (without one, "
        "the party secretary and the street administrator)"
    ),
    channels=AS_CONFIGURED,
    urgent=True,
    app="emergency",
)
register_event(
    "emergency_tasks",
    label=_("You have emergency tasks"),
    recipients=_("The volunteers given tasks, at activation or on reassignment"),
    channels=AS_CONFIGURED,
    urgent=True,
    app="emergency",
)
register_event(
    "emergency_task_escalated",
    label=_("An emergency task had no answer after its tries"),
    recipients=_("The micro-grid leads of the task's place"),
    channels=AS_CONFIGURED,
    urgent=True,
    app="emergency",
)
register_event(
    "emergency_help",
    label=_("A help request came in"),
    recipients=_(
        "The micro-grid leads and building-group leaders of the household's place, and the "
        "community's party secretary and committee staff"
    ),
    channels=AS_CONFIGURED,
    urgent=True,
    app="emergency",
)
register_event(
    "emergency_help_dispatched",
    label=_("A help request was handed to you"),
    recipients=_("The volunteer it went to, or the partner unit's liaisons"),
    channels=AS_CONFIGURED,
    urgent=True,
    app="emergency",
)
register_event(
    HELP_ON_THE_WAY,
    label=_("Help is on the way, and who is coming"),
    recipients=_(
        "Who asked: the resident who filed it, or the household's own logins when it was "
        "filed on their behalf"
    ),
    channels=PERSONAL,
    urgent=True,
    app="emergency",
)
register_event(
    HELP_CLOSED,
    label=_("Your help request was dealt with, or cancelled"),
    recipients=_(
        "Who asked: the resident who filed it, or the household's own logins when it was "
        "filed on their behalf"
    ),
    channels=PERSONAL,
    urgent=True,
    app="emergency",
)
