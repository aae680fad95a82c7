"""Who hears of a help request beyond the people who handle it (issue 15, "being reached"):

- the person who asked, when it is dispatched (who is coming: the volunteer's or partner
  unit's name, as the request's page shows it, never a phone) and when it is done or
  cancelled;
- the building-group leaders of the household's building group when it is raised, beside the
  micro-grid leads and the community's secretaries who already hear of it
  (`emergency_help`, help_requests.help_request_create).

Emergencies: the events are urgent (linli.emergency.notification_events), so quiet hours and
the daily digest do not hold them. Titles reach phones: they name no household, no room and
no kind of help (it may be a health need); the page behind the link has the detail.

A request records no phone of its own, and a resident's registered phone was not given for
contact (no consent is recorded): someone without a login is not texted; the staff member or
volunteer who filed for them is the one who calls back.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_noop

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.cases.services.notices import area_leaders
from linli.emergency.models import HelpRequest, HelpState
from linli.notify.services import notification_send

HELP_ON_THE_WAY = "emergency_help_on_the_way"
HELP_CLOSED = "emergency_help_closed"

CLOSED_TITLES: dict[str, str] = {
    HelpState.DONE: gettext_noop("Your help request has been dealt with"),
    HelpState.CANCELLED: gettext_noop("Your help request was cancelled"),
}


def building_group_leaders(grid_path: str) -> list[User]:
    """The building-group leaders of the building group `grid_path` lies in."""
    return area_leaders(grid_path, roles=(Role.BUILDING_GROUP_LEADER,))


def help_requesters(request: HelpRequest) -> list[User]:
    """Who asked: the resident who filed for their own household, or, for a request filed on
    a household's behalf (by staff, a volunteer, a welfare check), the household's own
    logins (residents still living there)."""
    if not request.on_behalf:
        user = request.submitted_by
        return [user] if user is not None and user.is_active else []
    return list(
        User.objects.filter(
            resident_account__resident__household_id=request.household_id,
            resident_account__resident__moved_out_on__isnull=True,
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def _others(users: list[User], actor: User | None) -> list[User]:
    return [user for user in users if actor is None or user.pk != actor.pk]


def help_dispatched_notify(*, request: HelpRequest, actor: User | None) -> None:
    """Tell who asked that help is on the way, and who is coming."""
    handler = request.volunteer or request.partner
    if handler is None:
        return
    notification_send(
        recipients=_others(help_requesters(request), actor),
        kind=HELP_ON_THE_WAY,
        title=gettext_noop("Help is on the way: %(who)s is coming"),
        title_params={"who": handler.name},
        link=reverse("emergency:help_detail", args=[request.pk]),
        channels=None,
    )


def help_closed_notify(*, request: HelpRequest, actor: User | None) -> None:
    """Tell who asked that their request is done, or cancelled."""
    title = CLOSED_TITLES.get(request.state)
    if title is None:
        return
    notification_send(
        recipients=_others(help_requesters(request), actor),
        kind=HELP_CLOSED,
        title=title,
        title_params={},
        link=reverse("emergency:help_detail", args=[request.pk]),
        channels=None,
    )
