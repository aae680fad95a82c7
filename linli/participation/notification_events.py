"""The events of activities and deliberation, in the one table of who hears what
(linli.notify.events), and how the things one follows here read on the person's list of
follows. Imported by ParticipationConfig.ready."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.notify.events import register_event, register_follow_kind
from linli.notify.models import Channel

PERSONAL = (Channel.SMS, Channel.WECHAT)

# Activities -------------------------------------------------------------------------------

register_event(
    "activity.promoted",
    label=_("A place on an activity became free and is now yours"),
    recipients=_("The person first on the waitlist"),
    channels=PERSONAL,
    app="participation",
)
register_event(
    "activity.reminder",
    label=_("An activity you have a place at starts within a day"),
    recipients=_("Everyone with a place (once per sign-up)"),
    channels=PERSONAL,
    app="participation",
)
register_event(
    "activity.changed",
    label=_("The place of an activity you signed up for changed"),
    recipients=_(
        "Everyone signed up or waiting for a date still to come, except the organiser who "
        "changed it"
    ),
    channels=PERSONAL,
    app="participation",
)
register_event(
    "activity.cancelled",
    label=_("A date of an activity you signed up for is cancelled"),
    recipients=_("Everyone signed up or waiting for that date, and nobody else"),
    channels=PERSONAL,
    app="participation",
)
register_event(
    "activity.published",
    label=_("A new activity of a series you follow"),
    recipients=_(
        "Followers of the series (the activities of one kind by one organiser) who may see "
        "the new activity"
    ),
    channels=PERSONAL,
    app="participation",
)

# Deliberation -----------------------------------------------------------------------------

TOPIC_AUDIENCE = _(
    "The topic's participants (who raised it, supported it or gave an opinion) and its "
    "followers, each once; never the staff member who acted"
)
register_event(
    "topic.round",
    label=_("A round of a deliberation topic opened or closed"),
    recipients=TOPIC_AUDIENCE,
    channels=PERSONAL,
    app="participation",
)
register_event(
    "topic.resolved",
    label=_("A deliberation topic's resolution is recorded"),
    recipients=TOPIC_AUDIENCE,
    channels=PERSONAL,
    app="participation",
)
register_event(
    "topic.done",
    label=_("A deliberation topic is done: its outcome"),
    recipients=TOPIC_AUDIENCE,
    channels=PERSONAL,
    app="participation",
)
register_event(
    "topic.withdrawn",
    label=_("A deliberation topic was withdrawn"),
    recipients=TOPIC_AUDIENCE,
    channels=PERSONAL,
    app="participation",
)


# What people follow here ------------------------------------------------------------------


def _describe_topic(identifier: str) -> tuple[str, str] | None:
    from linli.participation.deliberation.models import Topic

    topic = Topic.objects.filter(pk=identifier).first() if identifier.isdigit() else None
    if topic is None:
        return None
    return topic.title, reverse("participation:deliberation_detail", args=[topic.pk])


def _describe_series(identifier: str) -> tuple[str, str] | None:
    from linli.participation.notices import series_label, series_parts

    parts = series_parts(identifier)
    if parts is None:
        return None
    return series_label(*parts), reverse("participation:list")


register_follow_kind("topic", _describe_topic)
register_follow_kind("series", _describe_series)
