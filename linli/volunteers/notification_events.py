"""The events of volunteer applications, in the one table of who hears what
(linli.notify.events). Imported by VolunteersConfig.ready; the sends are in
linli.volunteers.services.join (`application_notify`, `review_notify`).
"""

from django.utils.translation import gettext_lazy as _

from linli.notify.events import register_event
from linli.notify.models import Channel

VOLUNTEER_APPLIED = "volunteer_applied"
VOLUNTEER_REVIEWED = "volunteer_reviewed"

register_event(
    VOLUNTEER_APPLIED,
    label=_("Someone signed themselves up as a volunteer: the application waits for review"),
    recipients=_("The secretaries of the community the volunteer chose"),
    app="volunteers",
)
register_event(
    VOLUNTEER_REVIEWED,
    label=_("Your volunteer application was approved or not approved"),
    recipients=_("The applicant, when they have a login"),
    channels=(Channel.SMS,),
    app="volunteers",
)
