"""Who hears of activities and deliberation topics, and what they read (the events are
declared in linli.participation.notification_events).

Every send runs inside the caller's transaction with `channels=None`, so each person's
channels, quiet hours and daily digest apply. People hear of a topic as participants (they
raised it, supported it or spoke) or as followers, never twice: a participant's message
mutes its kind when unsubscribed from, a follower's ends the follow (`unsubscribe_target`).

What one follows here:
- a topic, `topic:<topic id>`: its rounds, its resolution and its end;
- a series, `series:<organiser unit id>:<kind>`: the activities of one kind that one
  community or micro-grid organises (its Thursday action days, its round tables); each new
  one is announced to the followers who may see it.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from linli.accounts.models import User
from linli.grids.models import GridUnit
from linli.notify.selectors import followers
from linli.notify.services import notification_send
from linli.participation.activities import selectors as activity_selectors
from linli.participation.activities.models import (
    Activity,
    ActivityKind,
    Occurrence,
    SignUp,
    SignUpStatus,
)
from linli.participation.deliberation import selectors as topic_selectors
from linli.participation.deliberation.models import Opinion, Topic, TopicSupport

# Targets ------------------------------------------------------------------------------------


def topic_target(topic_id: int) -> str:
    return f"topic:{topic_id}"


def series_target(activity: Activity) -> str:
    return f"series:{activity.organiser_id}:{activity.kind}"


def series_parts(identifier: str) -> tuple[GridUnit, str] | None:
    """The organiser and kind a series target's identifier ("12:action_day") names."""
    organiser_id, _separator, kind = identifier.partition(":")
    if not organiser_id.isdigit() or kind not in ActivityKind.values:
        return None
    organiser = GridUnit.objects.filter(pk=organiser_id).first()
    return (organiser, kind) if organiser is not None else None


def series_label(organiser: GridUnit, kind: str) -> str:
    """ "Action day (周四行动日) · A社区", in the active language."""
    return f"{ActivityKind(kind).label} · {organiser.name}"


def _acting(actor: User | None) -> int | None:
    return actor.pk if actor is not None and actor.is_authenticated else None


# Deliberation -------------------------------------------------------------------------------


def topic_participants(topic: Topic) -> list[User]:
    """Who took part in a topic: who raised it, supported it or gave an opinion or reply."""
    ids = set(Opinion.objects.filter(topic=topic).values_list("author_id", flat=True))
    ids |= set(TopicSupport.objects.filter(topic=topic).values_list("user_id", flat=True))
    if topic.raised_by_id is not None:
        ids.add(topic.raised_by_id)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def topic_notify(
    *, topic: Topic, actor: User | None, kind: str, title: str, params: dict, body: str = ""
) -> None:
    """Tell a topic's participants, then its other followers who may still see it."""
    acting = _acting(actor)
    participants = [user for user in topic_participants(topic) if user.pk != acting]
    told = {user.pk for user in participants} | {acting}
    target = topic_target(topic.pk)
    watching = [
        user
        for user in followers(target).order_by("pk")
        if user.pk not in told
        and topic_selectors.topics_visible(user=user).filter(pk=topic.pk).exists()
    ]
    common = {
        "kind": kind,
        "title": title,
        "title_params": {"title": topic.title[:80], **params},
        "body": body,
        "link": reverse("participation:deliberation_detail", args=[topic.pk]),
        "channels": None,
    }
    if participants:
        notification_send(recipients=participants, **common)
    if watching:
        notification_send(recipients=watching, unsubscribe_target=target, **common)


def round_opened(*, topic: Topic, number: int, actor: User | None) -> None:
    topic_notify(
        topic=topic,
        actor=actor,
        kind="topic.round",
        title=gettext_noop("Round %(number)s of “%(title)s” is open: have your say"),
        params={"number": number},
    )


def round_closed(*, topic: Topic, number: int, actor: User | None) -> None:
    topic_notify(
        topic=topic,
        actor=actor,
        kind="topic.round",
        title=gettext_noop("Round %(number)s of “%(title)s” has closed"),
        params={"number": number},
    )


def topic_resolved(*, topic: Topic, actor: User | None) -> None:
    topic_notify(
        topic=topic,
        actor=actor,
        kind="topic.resolved",
        title=gettext_noop("“%(title)s” is resolved: read the resolution"),
        params={},
    )


def topic_finished(*, topic: Topic, actor: User | None) -> None:
    # The outcome is the public result staff write for everyone (300 characters at most).
    topic_notify(
        topic=topic,
        actor=actor,
        kind="topic.done",
        title=gettext_noop("“%(title)s” is done"),
        params={},
        body=topic.outcome,
    )


def topic_withdrawn(*, topic: Topic, actor: User | None) -> None:
    topic_notify(
        topic=topic,
        actor=actor,
        kind="topic.withdrawn",
        title=gettext_noop("“%(title)s” was withdrawn"),
        params={},
    )


# Activities ---------------------------------------------------------------------------------


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def activity_published(*, activity: Activity, actor: User | None) -> None:
    """Announce a new activity to the followers of its series who may see it."""
    acting = _acting(actor)
    target = series_target(activity)
    watching = [
        user
        for user in followers(target).order_by("pk")
        if user.pk != acting
        and activity_selectors.activities_visible(user=user).filter(pk=activity.pk).exists()
    ]
    first = activity.occurrences.order_by("starts_at", "id").first()
    if not watching or first is None:
        return
    notification_send(
        recipients=watching,
        kind="activity.published",
        title=gettext_noop("New activity: %(title)s, %(when)s"),
        title_params={"title": activity.title[:80], "when": _when(first.starts_at)},
        link=reverse("participation:detail", args=[first.pk]),
        channels=None,
        unsubscribe_target=target,
    )


def activity_place_changed(
    *, activity: Activity, occurrences: list[Occurrence], actor: User | None
) -> None:
    """Tell everyone signed up or waiting for one of `occurrences` (the dates still to
    come) where the activity is now held; each person once."""
    acting = _acting(actor)
    sign_ups = (
        SignUp.objects.filter(
            occurrence__in=occurrences,
            status__in=[SignUpStatus.CONFIRMED, SignUpStatus.WAITLISTED],
        )
        .exclude(user_id=acting)
        .select_related("user", "occurrence")
        .order_by("occurrence__starts_at", "id")
    )
    # Each person is sent to the first coming date they signed up for.
    first_date: dict[int, tuple[User, Occurrence]] = {}
    for sign_up in sign_ups:
        first_date.setdefault(sign_up.user_id, (sign_up.user, sign_up.occurrence))
    by_date: dict[int, list[User]] = {}
    for user, occurrence in first_date.values():
        by_date.setdefault(occurrence.pk, []).append(user)
    venue = activity.venue
    for occurrence in occurrences:
        people = by_date.get(occurrence.pk)
        if not people:
            continue
        if venue is not None:
            title = gettext_noop("%(title)s moves to %(where)s")
            params = {"title": activity.title[:80], "where": venue.name}
        else:
            title = gettext_noop("The place of %(title)s changed: see the activity")
            params = {"title": activity.title[:80]}
        notification_send(
            recipients=people,
            kind="activity.changed",
            title=title,
            title_params=params,
            link=reverse("participation:detail", args=[occurrence.pk]),
            channels=None,
        )
