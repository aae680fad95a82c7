"""Every scoped read about deliberation (议事厅).

Two ways to see a topic:
- staff with DELIBERATION_MANAGE see (and run) every topic inside their paths;
- anyone who belongs to the topic's community (linli.grids.membership: any post there, a
  resident's household or login, an approved volunteer profile) sees its topics once they
  are opened;
  a draft is seen by its author and staff only.
Anything else is not in the queryset, and the caller answers 404.
"""

from django.db.models import Count, Q, QuerySet

from linli.accounts.grid_paths import within
from linli.accounts.models import User
from linli.accounts.roles import Permission, Role
from linli.errors import get_visible_or_404
from linli.grids.membership import member_community_ids
from linli.grids.models import GridLevel, GridUnit, ResidentAccount, RoleAssignment
from linli.grids.selectors import scope_for, user_can
from linli.participation.deliberation.models import (
    Opinion,
    StakeholderGroup,
    StakeholderMembership,
    Topic,
    TopicState,
)

MANAGE = Permission.DELIBERATION_MANAGE


def may_manage(user: User, grid_path: str | None = None) -> bool:
    """Whether the user runs deliberation on `grid_path` (anywhere, without a path)."""
    return user_can(user=user, permission=MANAGE, grid_path=grid_path)


def _manage_condition(user: User | None) -> Q:
    return within(scope_for(user).paths_for(MANAGE))


def topics_visible(*, user: User | None) -> QuerySet[Topic]:
    community_ids = member_community_ids(user=user)
    member = Q(community_id__in=community_ids) & (~Q(state=TopicState.DRAFT) | Q(raised_by=user))
    return (
        Topic.objects.filter(member | _manage_condition(user))
        .select_related("community", "case", "raised_by")
        .annotate(support_count=Count("supports", distinct=True))
    )


def topic_get(*, user: User | None, topic_id: int) -> Topic:
    return get_visible_or_404(topics_visible(user=user), topic_id)


def topic_get_managed(*, user: User | None, topic_id: int) -> Topic:
    return get_visible_or_404(topics_visible(user=user).filter(_manage_condition(user)), topic_id)


def opinion_get(*, user: User | None, opinion_id: int) -> Opinion:
    visible = Opinion.objects.filter(topic__in=topics_visible(user=user).values("id"))
    return get_visible_or_404(visible.select_related("topic", "author", "round"), opinion_id)


def groups_of(*, user: User | None, community: GridUnit) -> list[str]:
    """The stakeholder groups a person may speak for in a community: 居民 when they hold a
    resident post there or their login is a resident's there (their household), plus the
    memberships staff recorded.

    Not membership of the community (linli.grids.membership): a secretary, a volunteer or a
    partner liaison belongs to the community but does not speak for its residents."""
    if user is None or not user.is_authenticated:
        return []
    groups = set(
        StakeholderMembership.objects.filter(user=user, community=community).values_list(
            "group", flat=True
        )
    )
    if (
        RoleAssignment.objects.within([community.path])
        .filter(user=user, role=Role.RESIDENT)
        .exists()
        # A resident login alone (registered, invited or linked by staff) speaks too.
        or ResidentAccount.objects.filter(
            within([community.path], "resident__grid_path"), user=user
        ).exists()
    ):
        groups.add(StakeholderGroup.RESIDENT)
    return [value for value in StakeholderGroup.values if value in groups]


def has_supported(*, user: User | None, topic: Topic) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return topic.supports.filter(user=user).exists()


def opinions_for(*, topic: Topic) -> list[Opinion]:
    """Top-level opinions in posting order, each with `.reply_list`, in two queries."""
    rows = list(
        Opinion.objects.filter(topic=topic)
        .select_related("author", "round")
        .order_by("created_at", "id")
    )
    tops = [row for row in rows if row.parent_id is None]
    by_id = {row.pk: row for row in tops}
    for row in tops:
        row.reply_list = []
    for row in rows:
        if row.parent_id is not None and row.parent_id in by_id:
            by_id[row.parent_id].reply_list.append(row)
    return tops


def opinion_text_for(*, opinion: Opinion, user: User | None) -> str | None:
    """The body a viewer sees: the author always sees their own original; others get None
    for a hidden opinion (the page shows "hidden by moderator (reason)")."""
    if not opinion.is_hidden or (user is not None and opinion.author_id == user.pk):
        return opinion.body
    return None


def memberships_managed(*, user: User | None) -> QuerySet[StakeholderMembership]:
    return StakeholderMembership.objects.filter(_manage_condition(user)).select_related(
        "user", "community"
    )


def managed_communities(*, user: User | None) -> QuerySet[GridUnit]:
    return (
        GridUnit.objects.within(scope_for(user).paths_for(MANAGE))
        .filter(level=GridLevel.COMMUNITY)
        .order_by("path")
    )
