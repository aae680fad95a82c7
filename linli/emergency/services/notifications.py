"""Who hears of an emergency, and how: the holders of a post on or above a unit, a
micro-grid's leads, the channels an emergency notice goes out on, and the notice telling
volunteers they have tasks. Notices are queued in the caller's transaction
(linli.notify), so a write that fails sends nothing."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_noop

from linli.accounts.grid_paths import path_ancestors, path_at_depth, within
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.emergency.models import Activation
from linli.emergency.services.drafting import LEVEL_DEPTH
from linli.grids.models import GridLevel
from linli.notify.models import Channel
from linli.notify.services import notification_send


def post_holders(path: str, posts: list[str]) -> list[User]:
    """Active users holding one of `posts` on a unit inside `path` or above it."""
    return list(
        User.objects.filter(
            within([path], "role_assignments__grid_path")
            | Q(role_assignments__grid_path__in=path_ancestors(path)),
            role_assignments__post__in=posts,
            is_active=True,
        ).distinct()
    )


def micro_grid_leads(path: str) -> list[User]:
    """The leads of the micro-grid `path` lies in."""
    micro_grid = path_at_depth(path, LEVEL_DEPTH[GridLevel.MICRO_GRID])
    return list(
        User.objects.filter(
            role_assignments__role=Role.MICRO_GRID_LEAD,
            role_assignments__grid_path=micro_grid,
            is_active=True,
        ).distinct()
    )


def emergency_channels() -> tuple[str, ...]:
    """The inbox always; SMS, e-mail and the WeCom group robot when configured."""
    try:
        from linli.notify.channels import configured_channels
    except ImportError:  # pragma: no cover - channels arrive with the notify transports
        return (Channel.INAPP,)
    return (Channel.INAPP, *[c for c in configured_channels() if c != Channel.INAPP])


def assignees_notify(activation: Activation, volunteer_ids: Iterable[int]) -> None:
    """Tell the volunteers given tasks (at activation or on reassignment) to open theirs."""
    users = User.objects.filter(volunteer__id__in=volunteer_ids, is_active=True)
    notification_send(
        recipients=users,
        kind="emergency_tasks",
        title=gettext_noop("%(scope)s: %(plan)s — you have emergency tasks"),
        title_params={"scope": activation.scope.name, "plan": activation.plan.name},
        group_title=gettext_noop("%(scope)s: %(plan)s — emergency tasks have been assigned"),
        group_title_params={"scope": activation.scope.name, "plan": activation.plan.name},
        link=reverse("emergency:my_tasks"),
        channels=emergency_channels(),
    )
