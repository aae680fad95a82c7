"""Who hears of a case, and how (issue 15, "being reached"):

- the reporter, at each step that matters to them (accepted, not accepted, being handled,
  handled and awaiting a check, closed, merged into another case), and at closure a "please
  rate" prompt that opens the case's satisfaction form;
- the building-group leaders and micro-grid leads of the case's place, when a case is filed
  there;
- whoever follows the case ("case:<id>"), at each change of its state;
- whoever follows the area ("area:<path>", a building group or a micro-grid, or an area above),
  when a new case of a public category is filed in it.

Called by the services that change a case (filing, transitions), inside their transaction:
notify writes the rows there and delivers after the commit, so a step that rolls back has
told nobody. Each person is told once per step: the one who took the step hears nothing, a
reporter who also follows the case gets the reporter's message only, a leader who also
follows the area gets the leader's. The events are declared in
linli.cases.notification_events; `channels=None` lets each person's preferences, quiet hours
and daily digest choose how.

Titles leave the site (SMS, WeChat, e-mail), so they carry the case's reference, its
category and at most the name of its grid unit: never the text a person typed (the title and
description may name people, a room or an illness), never a phone or an ID number.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop

from linli.accounts.grid_paths import path_ancestors
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.cases.models import Case, CaseState
from linli.grids.models import GridLevel
from linli.notify.models import Channel
from linli.notify.selectors import area_target, followers
from linli.notify.services import message_send_to_address, notification_send

S = CaseState

# The event kinds (declared in linli.cases.notification_events).
CASE_STATE_CHANGED = "case_state_changed"
CASE_RATE_PROMPT = "case_rate_prompt"
CASE_FILED_IN_AREA = "case_filed_in_area"
FOLLOWED_CASE_CHANGED = "followed_case_changed"
AREA_NEW_CASE = "area_new_case"

# One title per state a case arrives in: a message id each, so that the inbox shows it in the
# reader's language (a state's label as a parameter would stay in the site's language).
STATE_TITLES: dict[str, str] = {
    S.ACCEPTED: gettext_noop("Case %(reference)s (%(category)s) has been accepted"),
    S.REJECTED: gettext_noop("Case %(reference)s (%(category)s) was not accepted"),
    S.DISPATCHED: gettext_noop("Case %(reference)s (%(category)s) is being handled"),
    S.IN_PROGRESS: gettext_noop("Work has started on case %(reference)s (%(category)s)"),
    S.RESOLVED: gettext_noop(
        "Case %(reference)s (%(category)s) has been handled and awaits a check"
    ),
    S.VERIFIED: gettext_noop("Case %(reference)s (%(category)s) has been checked"),
    S.CLOSED: gettext_noop("Case %(reference)s (%(category)s) is closed"),
    S.DUPLICATE: gettext_noop("Case %(reference)s (%(category)s) was merged into another case"),
    S.RETURNED: gettext_noop("Case %(reference)s (%(category)s) went back for another dispatch"),
}
RATE_TITLE = gettext_noop(
    "Case %(reference)s (%(category)s) is closed: please rate how it was handled"
)
NEW_CASE_TITLE = gettext_noop("New case %(reference)s in %(area)s: %(category)s")

# The states the reporter waits for. The others (work started, checked, sent back to the
# dispatcher) are the handlers' own steps: the reporter reads them on the case's timeline, and
# followers, who asked for every change, hear of them.
REPORTER_STATES = frozenset(
    {S.ACCEPTED, S.REJECTED, S.DISPATCHED, S.RESOLVED, S.CLOSED, S.DUPLICATE}
)

# Who leads the place of a case: told when one is filed there.
AREA_LEADER_ROLES = (Role.BUILDING_GROUP_LEADER, Role.MICRO_GRID_LEAD)
# The areas whose new cases one may follow (their pages carry the button).
FOLLOWED_AREA_LEVELS = frozenset({GridLevel.BUILDING_GROUP, GridLevel.MICRO_GRID})


def case_target(case_id: int) -> str:
    """The follow target of a case."""
    return f"case:{case_id}"


def area_leaders(grid_path: str, *, roles: Iterable[str] = AREA_LEADER_ROLES) -> list[User]:
    """The active people holding one of `roles` (by default the building-group leader and the
    micro-grid lead) on the unit at `grid_path` or a unit above it: the leaders of that place.
    One query."""
    return list(
        User.objects.filter(
            role_assignments__role__in=list(roles),
            role_assignments__grid_path__in=path_ancestors(grid_path),
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def _params(case: Case) -> dict[str, str]:
    # The category's name in the site's language, as the title that leaves the site is.
    with translation.override(settings.LANGUAGE_CODE):
        category = case.category.name
    return {"reference": case.reference, "category": category}


def _link(case: Case) -> str:
    return reverse("cases:detail", args=[case.pk])


def rate_link(case: Case) -> str:
    """Where the rate prompt leads: the case's page, at its satisfaction form."""
    return f"{_link(case)}#rate"


def _active(users: QuerySet[User] | Iterable[User], told: set[int]) -> list[User]:
    return [user for user in users if user.is_active and user.pk not in told]


def submitted_contact(case: Case) -> tuple[str, str]:
    """(channel, address) at which a reporter without a login asked to be answered, or
    ("", ""): the phone, else the e-mail, they gave the Open311 client that filed for them
    (the submission keeps "the minimum needed to answer them"). Nothing else on a case is a
    contact given for it: a registered resident's phone is not (no consent to contact by it
    is recorded), nor is a number typed into the description."""
    # The reverse accessor, not an import: open311 builds on cases, not the other way round.
    submission = getattr(case, "open311_submission", None)
    if submission is None:
        return "", ""
    if submission.phone:
        return Channel.SMS, submission.phone
    if submission.email:
        return Channel.EMAIL, submission.email
    return "", ""


def _render(title: str, params: dict[str, str]) -> str:
    """A title as a message to a bare address carries it: in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(title) % params


def case_filed_notify(*, case: Case, actor: User | None) -> None:
    """A new case: its place's leaders, and (a public category only) who follows the area."""
    params = {**_params(case), "area": case.grid_unit.name}
    told: set[int] = {actor.pk} if actor is not None and actor.pk else set()
    leaders = _active(area_leaders(case.grid_path), told)
    notification_send(
        recipients=leaders,
        kind=CASE_FILED_IN_AREA,
        title=NEW_CASE_TITLE,
        title_params=params,
        link=_link(case),
        channels=None,
    )
    told |= {leader.pk for leader in leaders}
    # A category that stays off the public board (a neighbour dispute names people) is not
    # announced to anyone who merely follows the area.
    if not case.category.is_public:
        return
    # One send per area followed, the closest first, so that each message's unsubscribe link
    # ends the very follow it came from; someone following two areas above is told once.
    for path in reversed(path_ancestors(case.grid_path)):
        target = area_target(path)
        recipients = _active(followers(target), told)
        notification_send(
            recipients=recipients,
            kind=AREA_NEW_CASE,
            title=NEW_CASE_TITLE,
            title_params=params,
            link=_link(case),
            channels=None,
            unsubscribe_target=target,
        )
        told |= {user.pk for user in recipients}


def case_step_notify(*, case: Case, actor: User | None, before: str) -> None:
    """A step of the case's loop: the reporter (when the new state is one they wait for)
    and whoever follows the case (at every change of state)."""
    if case.state == before or case.state not in STATE_TITLES:
        return
    params = _params(case)
    told: set[int] = {actor.pk} if actor is not None and actor.pk else set()
    if case.state in REPORTER_STATES:
        told |= _tell_reporter(case=case, params=params, told=told)
    target = case_target(case.pk)
    notification_send(
        recipients=_active(followers(target), told),
        kind=FOLLOWED_CASE_CHANGED,
        title=STATE_TITLES[case.state],
        title_params=params,
        link=_link(case),
        channels=None,
        unsubscribe_target=target,
    )


def _tell_reporter(*, case: Case, params: dict[str, str], told: set[int]) -> set[int]:
    """Tell the reporter of the case's new state; returns who was told (to leave out of the
    followers' message)."""
    reporter = case.reporter
    if reporter is not None:
        if not reporter.is_active or reporter.pk in told:
            return set()
        # At closure the prompt to rate is the closing message itself: one message, not two.
        # A case rated already (a reporter may rate once it is handled) is just closed.
        rate = case.state == S.CLOSED and case.satisfaction is None
        notification_send(
            recipients=[reporter],
            kind=CASE_RATE_PROMPT if rate else CASE_STATE_CHANGED,
            title=RATE_TITLE if rate else STATE_TITLES[case.state],
            title_params=params,
            link=rate_link(case) if rate else _link(case),
            channels=None,
        )
        return {reporter.pk}
    if case.reporter_id is not None:
        return set()  # (the login was deleted since)
    channel, address = submitted_contact(case)
    if address:
        # Without a login there is no page to link to, no inbox and no preferences: the one
        # channel they gave, with the title alone.
        message_send_to_address(
            channel=channel,
            address=address,
            kind=CASE_STATE_CHANGED,
            title=_render(STATE_TITLES[case.state], params),
        )
    return set()
