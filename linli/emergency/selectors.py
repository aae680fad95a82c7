"""Every scoped read of emergency operation.

Staff see plans, activations, tasks and help requests inside their EMERGENCY_HELP paths (the
widest emergency permission: building-group leaders follow their own group, micro-grid
leads their compound, the secretary the community). A volunteer sees the tasks they hold
and the help requests dispatched to them; a resident sees the help requests of their own
household. Anything else is not in the queryset, and the caller answers 404.
"""

from django.core.cache import cache
from django.db.models import Q, QuerySet

from linli.accounts.grid_paths import path_depth, within, within_or_above
from linli.accounts.models import User
from linli.accounts.privacy import mask_numbers_in_text
from linli.accounts.roles import Permission
from linli.emergency.models import (
    HELD_TASK_STATES,
    Activation,
    HelpRequest,
    Plan,
    Task,
    TaskState,
)
from linli.errors import get_visible_or_404
from linli.grids.models import GRID_LEVEL_ORDER, GridLevel, GridUnit
from linli.grids.selectors import scope_for
from linli.volunteers.models import MEMBER_STATUSES, Volunteer

P = Permission
COMMUNITY_DEPTH = GRID_LEVEL_ORDER.index(GridLevel.COMMUNITY)


def own_volunteer(*, user: User | None) -> Volunteer | None:
    if user is None or not user.is_authenticated:
        return None
    return Volunteer.objects.filter(user=user).first()


def plans_visible(*, user: User) -> QuerySet[Plan]:
    """Plans a person may use or edit: their own units' plans and those of the units above
    them (a street's default plans serve every community in it)."""
    scope = scope_for(user)
    paths = scope.paths_for(P.EMERGENCY_PLANS) or scope.paths_for(P.EMERGENCY_ACTIVATE)
    if scope.unrestricted:
        return Plan.objects.all()
    return Plan.objects.filter(within_or_above(paths))


def plan_get(*, user: User, plan_id: int) -> Plan:
    return get_visible_or_404(plans_visible(user=user).select_related("grid_unit"), plan_id)


def plan_editable(*, user: User, plan: Plan) -> bool:
    """Plans are edited by those holding EMERGENCY_PLANS on the owning unit itself: a
    community edits its own plans and copies the street's."""
    return scope_for(user).allows(P.EMERGENCY_PLANS, plan.grid_path)


def activations_visible(*, user: User) -> QuerySet[Activation]:
    """Activations whose scope touches the person's emergency paths: inside them, or above
    them (a street-wide emergency is shown to each community's staff)."""
    scope = scope_for(user)
    if scope.unrestricted:
        return Activation.objects.all()
    return Activation.objects.filter(within_or_above(scope.paths_for(P.EMERGENCY_HELP)))


def activation_get(*, user: User, activation_id: int) -> Activation:
    return get_visible_or_404(
        activations_visible(user=user).select_related("plan", "scope"), activation_id
    )


def activatable_units(*, user: User) -> QuerySet[GridUnit]:
    """Units the person may activate a plan for, by path: a secretary their community and
    its micro-grids, a street admin their street, its blocks and communities (one level
    below the unit held, and down to communities; never a building group). The activation
    page offers these and the API accepts only these."""
    condition = Q(pk__in=[])
    for path in scope_for(user).paths_for(P.EMERGENCY_ACTIVATE):
        # The held unit's level (0 for a street; an unrestricted scope's "/" counts as one).
        held_depth = max(path_depth(path) - 1, 0)
        deepest = max(held_depth + 1, COMMUNITY_DEPTH)
        levels = [
            level for level in GRID_LEVEL_ORDER[: deepest + 1] if level != GridLevel.BUILDING_GROUP
        ]
        condition |= within([path], "path") & Q(level__in=levels)
    return GridUnit.objects.filter(condition).order_by("path")


def active_activations_for(*, user: User) -> list[Activation]:
    """The live emergencies the banner shows this person: those of their staff scope, the
    one holding tasks for them as a volunteer, and the one covering their own household."""
    if user is None or not user.is_authenticated:
        return []
    scope = scope_for(user)
    found = {
        a.pk: a
        for a in activations_visible(user=user)
        .filter(state="active")
        .select_related("scope", "plan")
    }
    volunteer = own_volunteer(user=user)
    if volunteer is not None:
        held = Q(tasks__assignee=volunteer)
        # Only a volunteer staff approved belongs to the community (participation's one
        # definition of membership): an application waiting for review hears of nothing.
        if volunteer.status in MEMBER_STATUSES:
            held |= Q(pk__in=Activation.objects.covering(volunteer.grid_path))
        for activation in (
            Activation.objects.active().select_related("scope", "plan").filter(held).distinct()
        ):
            found.setdefault(activation.pk, activation)
    if scope.own_household_ids:
        from linli.grids.models import Household

        for path in Household.objects.filter(pk__in=scope.own_household_ids).values_list(
            "grid_path", flat=True
        ):
            for activation in (
                Activation.objects.active().covering(path).select_related("scope", "plan")
            ):
                found.setdefault(activation.pk, activation)
    return sorted(found.values(), key=lambda a: a.activated_at, reverse=True)


# The live emergencies, kept in the cache so that the banner on every page costs no query:
# services drop the entry whenever an activation starts, changes grade or stands down, and
# it expires after LIVE_SECONDS anyway (a drop lost while the cache was unreachable is
# corrected then). The cache fails soft (linli.ops.cache): while it is down, every page
# reads the live emergencies from the database and activations proceed.
LIVE_KEY = "emergency:live"
LIVE_SECONDS = 30


def live_activations() -> list[dict]:
    live = cache.get(LIVE_KEY)
    if live is None:
        live = list(
            Activation.objects.active()
            .order_by("-activated_at")
            .values("pk", "grid_path", "is_drill", "grade", "scope__name", "plan__name")
        )
        cache.set(LIVE_KEY, live, LIVE_SECONDS)
    return live


def live_activations_forget() -> None:
    cache.delete(LIVE_KEY)


def live_activations_for(*, user: User) -> list[dict]:
    """The live emergencies that concern the person: those covering a unit they hold any
    role on, and those inside it (the street sees its communities')."""
    live = live_activations()
    if not live or user is None or not user.is_authenticated:
        return []
    scope = scope_for(user)
    if scope.unrestricted:
        return live
    return [
        activation
        for activation in live
        if any(
            path.startswith(activation["grid_path"]) or activation["grid_path"].startswith(path)
            for path in scope.role_paths
        )
    ]


def tasks_visible(*, user: User) -> QuerySet[Task]:
    scope = scope_for(user)
    if scope.unrestricted:
        return Task.objects.all()
    condition = within(scope.paths_for(P.EMERGENCY_HELP))
    volunteer = own_volunteer(user=user)
    if volunteer is not None:
        condition |= Q(assignee=volunteer)
    return Task.objects.filter(condition)


def task_get(*, user: User, task_id: int) -> Task:
    return get_visible_or_404(
        tasks_visible(user=user).select_related(
            "activation", "household", "household__building", "building", "assignee"
        ),
        task_id,
    )


def my_tasks(*, user: User, activation: Activation | None = None) -> list[Task]:
    """The volunteer's open tasks (held, or waiting for a retry), as stored; the page puts
    them in walking order."""
    volunteer = own_volunteer(user=user)
    if volunteer is None:
        return []
    tasks = Task.objects.filter(
        assignee=volunteer, state__in=HELD_TASK_STATES, activation__state="active"
    ).select_related("activation", "household", "building", "household__building")
    if activation is not None:
        tasks = tasks.filter(activation=activation)
    return list(tasks)


def my_done_tasks(*, user: User, activation: Activation | None = None) -> QuerySet[Task]:
    volunteer = own_volunteer(user=user)
    if volunteer is None:
        return Task.objects.none()
    tasks = Task.objects.filter(assignee=volunteer, state=TaskState.DONE)
    if activation is not None:
        tasks = tasks.filter(activation=activation)
    return tasks


def help_requests_visible(*, user: User) -> QuerySet[HelpRequest]:
    scope = scope_for(user)
    if scope.unrestricted:
        return HelpRequest.objects.all()
    condition = within(scope.paths_for(P.EMERGENCY_HELP))
    condition |= Q(household_id__in=scope.own_household_ids)
    volunteer = own_volunteer(user=user)
    if volunteer is not None:
        condition |= Q(volunteer=volunteer)
    if user is not None and user.is_authenticated:
        condition |= Q(submitted_by=user)
        # A partner unit's liaison follows the requests dispatched to their unit.
        condition |= Q(partner__liaisons__user=user)
    return HelpRequest.objects.filter(condition).distinct()


def free_text(*, user: User | None, of: Task | HelpRequest, text: str) -> str:
    """Text typed on a task or help request (a title, instructions, a description, a note)
    as `user` reads it. Staff whose EMERGENCY_HELP covers it, the household's own people
    and whoever filed the request read it as typed (it may name people and their numbers);
    the volunteer holding a task and the volunteer or partner unit a request was sent to
    read it with phone and ID numbers masked."""
    scope = scope_for(user)
    if scope.allows(P.EMERGENCY_HELP, of.grid_path):
        return text
    if of.household_id is not None and of.household_id in scope.own_household_ids:
        return text
    submitted_by_id = getattr(of, "submitted_by_id", None)
    if submitted_by_id is not None and user is not None and submitted_by_id == user.pk:
        return text
    return mask_numbers_in_text(text)


def help_request_get(*, user: User, request_id: int) -> HelpRequest:
    return get_visible_or_404(
        help_requests_visible(user=user).select_related(
            "activation", "household", "household__building", "volunteer", "partner"
        ),
        request_id,
    )


def may(*, user: User, permission: str, grid_path: str) -> bool:
    return scope_for(user).allows(permission, grid_path)


def household_residents(*, household_ids) -> dict[int, list]:
    """The people of the given households, for whoever holds a task or request there (the
    caller has checked that): pages show them masked, a full number only through the
    audited reveal."""
    from linli.grids.models import Resident

    found: dict[int, list] = {}
    for resident in Resident.objects.filter(household_id__in=set(household_ids)).order_by(
        "household_id", "id"
    ):
        found.setdefault(resident.household_id, []).append(resident)
    return found


def scope_volunteers(*, path: str, serving_only: bool = True) -> QuerySet[Volunteer]:
    """Volunteers registered inside an emergency's scope: whoever commands the emergency may
    name them, even where the volunteer registry itself is outside their reading scope (a
    community's volunteers for a micro-grid lead)."""
    volunteers = Volunteer.objects.within([path])
    return volunteers.serving() if serving_only else volunteers


def scope_supplies(*, path: str):
    """Supply items an emergency of `path` may draw on: those kept inside its scope and those
    kept above it (a street's store serves its communities), as `supplies_draw` accepts."""
    from linli.supplies.models import SupplyItem

    return (
        SupplyItem.objects.filter(within_or_above([path]))
        .select_related("location")
        .order_by("location__name", "name")
    )


def is_help_handler(*, user: User, help_request: HelpRequest) -> bool:
    """Whether the request was dispatched to this person: their volunteer profile, or the
    partner unit they are liaison for."""
    if user is None or not user.is_authenticated:
        return False
    volunteer = own_volunteer(user=user)
    if volunteer is not None and help_request.volunteer_id == volunteer.pk:
        return True
    partner = help_request.partner
    return partner is not None and partner.liaisons.filter(user=user).exists()
