"""The events of claims and the needs list, in the one table of who hears what
(linli.notify.events). Imported by PartnersConfig.ready.

Titles of the events that may leave the site (SMS, WeChat, e-mail) name a need by its
number, never by its title: staff type the title, and it may say what a household suffers
from. Only the in-app `claim_hours_pending` keeps the need's title.
"""

from django.utils.translation import gettext_lazy as _

from linli.notify.events import register_event
from linli.notify.models import Channel

register_event(
    "claim",
    label=_(
        "A claim on a need moved a step: claimed, started, delivered, received, "
        "not received, cancelled, hours approved"
    ),
    recipients=_(
        "The claimant (the volunteer, or the liaisons of the partner unit) and the residents "
        "with a login in the beneficiary household (none for a need of a whole area); never "
        "the person who took the step"
    ),
    channels=(Channel.SMS, Channel.WECHAT),
    app="partners",
)
register_event(
    "claim_delivered",
    label=_("A delivery waits for the beneficiary to confirm it"),
    recipients=_(
        "The residents with a login in the beneficiary household (none for a need of a "
        "whole area: staff confirm those)"
    ),
    channels=(Channel.SMS, Channel.WECHAT),
    app="partners",
)
register_event(
    "claim_hours_pending",
    label=_("Service hours above the approval threshold wait for approval"),
    recipients=_(
        "Staff who manage volunteers over the need's area, except anyone on the claim's side"
    ),
    app="partners",
)
register_event(
    "need_waiting",
    label=_("A need has waited too long for a claim"),
    recipients=_(
        "Staff who keep the lists over the need's area; once per need for each waiting "
        "period (7 days unless set otherwise)"
    ),
    channels=(Channel.EMAIL, Channel.WECHAT),
    app="partners",
)
