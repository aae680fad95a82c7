"""Drafting tasks from the registry, the volunteers who can work them, and the solver.

Tasks are drafted and solved in memory (plain dataclasses, no rows) so that activation
inserts them once, already assigned, and so that a simulated drill (linli.emergency.drills)
makes exactly the assignment a real activation would. The solver itself is
linli.emergency.assign.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from django.db.models import Count
from django.utils import timezone

from linli.accounts.grid_paths import path_at_depth, path_depth, within
from linli.emergency import assign as solver
from linli.emergency.models import (
    HELD_TASK_STATES,
    Activation,
    MovementRule,
    Plan,
    Task,
    TaskKind,
    TaskTemplate,
)
from linli.grids.models import Building, GridLevel, Resident, VulnerabilityTag
from linli.volunteers.models import CODE_SEPARATOR, TeamMembership, Volunteer, decode_codes

# Grid path depth of each level: /street/block/community/micro-grid/building-group/.
LEVEL_DEPTH: dict[str, int] = {
    GridLevel.STREET: 1,
    GridLevel.BLOCK: 2,
    GridLevel.COMMUNITY: 3,
    GridLevel.MICRO_GRID: 4,
    GridLevel.BUILDING_GROUP: 5,
}

# How much each vulnerability weighs when capacity is short: people who cannot help
# themselves first. A household's priority is the sum over its distinct tags, plus one for
# a member aged 80 or over.
TAG_PRIORITY: dict[str, int] = {
    VulnerabilityTag.ELDERLY_ALONE: 3,
    VulnerabilityTag.DISABLED: 3,
    VulnerabilityTag.SERIOUS_ILLNESS: 3,
    VulnerabilityTag.PREGNANT: 2,
    VulnerabilityTag.EMPTY_NEST: 2,
    VulnerabilityTag.LEFT_BEHIND_CHILD: 2,
    VulnerabilityTag.LOW_INCOME: 1,
}
VERY_OLD_AGE = 80
MAX_PRIORITY = 20

# The depth of the zone each movement rule keeps a volunteer in (BUILDING has no depth:
# its zone is the building itself).
ZONE_DEPTH: dict[str, int] = {
    MovementRule.COMMUNITY: LEVEL_DEPTH[GridLevel.COMMUNITY],
    MovementRule.MICRO_GRID: LEVEL_DEPTH[GridLevel.MICRO_GRID],
    MovementRule.BUILDING_GROUP: LEVEL_DEPTH[GridLevel.BUILDING_GROUP],
}

# A task already generated, as (template, household, building): regrading or regenerating
# adds only the targets not yet among them.
TaskKey = tuple[int | None, int | None, int | None]


# ---------------------------------------------------------------------------------------
# Drafting tasks from the registry


@dataclass
class TaskDraft:
    template: TaskTemplate | None
    kind: str
    title: str
    instructions: str
    household_id: int | None
    building_id: int | None
    grid_path: str
    required_team: str
    required_skills: str
    priority: int
    due_at: datetime
    latitude: float | None = None
    longitude: float | None = None
    # Filled by the solver.
    assignee_id: int | None = None
    unassigned_reason: str = ""
    explanation: dict = field(default_factory=dict)


def household_priority(tags: set[str], oldest_birth_year: int | None, year: int) -> int:
    priority = sum(TAG_PRIORITY.get(tag, 0) for tag in tags)
    if oldest_birth_year is not None and year - oldest_birth_year >= VERY_OLD_AGE:
        priority += 1
    return min(priority, MAX_PRIORITY)


@dataclass
class Registry:
    """What drafting needs of the scope's registry, read once: buildings with their place,
    and the vulnerable households with their tags and oldest member."""

    buildings: dict[int, tuple[str, float | None, float | None]]
    # household id → (building id, tags, oldest birth year)
    vulnerable: dict[int, tuple[int, set[str], int]]
    # building group path → its first building id (where relayed information is posted)
    group_first_building: dict[str, int]


def registry_read(path: str) -> Registry:
    buildings: dict[int, tuple[str, float | None, float | None]] = {}
    group_first: dict[str, int] = {}
    for building_id, grid_path, latitude, longitude in (
        Building.objects.within([path])
        .order_by("grid_path", "id")
        .values_list("id", "grid_path", "latitude", "longitude")
    ):
        buildings[building_id] = (
            grid_path,
            float(latitude) if latitude is not None else None,
            float(longitude) if longitude is not None else None,
        )
        group_first.setdefault(grid_path, building_id)
    vulnerable: dict[int, tuple[int, set[str], int]] = {}
    rows = (
        Resident.objects.within([path])
        .exclude(vulnerability_tags="")
        .values_list("household_id", "household__building_id", "vulnerability_tags", "birth_year")
    )
    for household_id, building_id, tags, birth_year in rows.iterator(chunk_size=20_000):
        known = vulnerable.get(household_id)
        codes = {code for code in tags.split(CODE_SEPARATOR) if code}
        if known is None:
            vulnerable[household_id] = (building_id, codes, birth_year)
        else:
            known[1].update(codes)
            vulnerable[household_id] = (building_id, known[1], min(known[2], birth_year))
    return Registry(buildings, vulnerable, group_first)


def templates_at(plan: Plan, grade: int) -> list[TaskTemplate]:
    """The plan's task templates that apply at `grade` (each applies at its lowest grade
    and every more severe one)."""
    return [template for template in plan.templates.all() if template.applies_at(grade)]


def tasks_draft(
    *,
    templates: list[TaskTemplate],
    registry: Registry,
    now: datetime,
    existing: Set[TaskKey] = frozenset(),
) -> list[TaskDraft]:
    """One draft per target of each template. `existing` holds (template, household,
    building) keys already generated, so regrading or regenerating adds only what is new."""
    drafts: list[TaskDraft] = []
    year = timezone.localdate(now).year
    for template in templates:
        due_at = now + timedelta(hours=template.due_hours)
        # (household, building, priority) of each target.
        targets: list[tuple[int | None, int, int]]
        if template.kind == TaskKind.WELFARE_CHECK:
            wanted = set(decode_codes(template.target_tags))
            targets = []
            for vulnerable_id, (home_id, tags, oldest) in registry.vulnerable.items():
                if tags & wanted and home_id in registry.buildings:
                    targets.append((vulnerable_id, home_id, household_priority(tags, oldest, year)))
        elif template.kind == TaskKind.INFORMATION_RELAY:
            targets = [
                (None, building_id, 0) for building_id in registry.group_first_building.values()
            ]
        else:
            targets = [(None, building_id, 0) for building_id in registry.buildings]
        for household_id, building_id, priority in targets:
            if (template.pk, household_id, building_id) in existing:
                continue
            grid_path, latitude, longitude = registry.buildings[building_id]
            drafts.append(
                TaskDraft(
                    template=template,
                    kind=template.kind,
                    title=template.title,
                    instructions=template.instructions,
                    household_id=household_id,
                    building_id=building_id,
                    grid_path=grid_path,
                    required_team=template.required_team,
                    required_skills=template.required_skills,
                    priority=priority,
                    due_at=due_at,
                    latitude=latitude,
                    longitude=longitude,
                )
            )
    return drafts


# ---------------------------------------------------------------------------------------
# Who can work, and the solver


@lru_cache(maxsize=65_536)
def zone_key(rule: str, grid_path: str, building_id: int | None) -> str:
    """The movement zone a place belongs to under `rule`: a volunteer serves only targets
    in their own zone."""
    if rule == MovementRule.BUILDING:
        return f"building:{building_id}" if building_id is not None else f"none:{grid_path}"
    depth = ZONE_DEPTH[rule]
    if path_depth(grid_path) < depth:
        # Registered above the zone's level with no home building: no compound to serve.
        return f"above:{grid_path}"
    return path_at_depth(grid_path, depth)


@dataclass
class Workforce:
    workers: list[solver.Worker]
    volunteers: dict[int, tuple[str, int | None]]  # id → (name, user id)
    unavailable: set[int]


def workforce_read(
    *,
    path: str,
    rule: str,
    capacity: int,
    activation: Activation | None = None,
    registry: Registry | None = None,
) -> Workforce:
    """The serving volunteers registered inside `path`, minus those marked unavailable in
    the activation, each with the places they have left."""
    unavailable: set[int] = set()
    held: Counter[int] = Counter()
    if activation is not None:
        unavailable = set(activation.unavailabilities.values_list("volunteer_id", flat=True))
        held = Counter(
            dict(
                Task.objects.filter(activation=activation, state__in=HELD_TASK_STATES)
                .values("assignee_id")
                .annotate(count=Count("id"))
                .values_list("assignee_id", "count")
            )
        )
    teams: dict[int, set[str]] = defaultdict(set)
    for volunteer_id, kind in (
        TeamMembership.objects.current()
        .filter(within([path], "volunteer__grid_path"))
        .values_list("volunteer_id", "team__kind")
    ):
        teams[volunteer_id].add(kind)
    rows = (
        Volunteer.objects.serving()
        .within([path])
        .values_list(
            "id",
            "name",
            "user_id",
            "grid_path",
            "skills",
            "home_building_id",
            "home_building__grid_path",
            "home_building__latitude",
            "home_building__longitude",
        )
    )
    workers: list[solver.Worker] = []
    volunteers: dict[int, tuple[str, int | None]] = {}
    for (
        volunteer_id,
        name,
        user_id,
        grid_path,
        skills,
        building_id,
        building_path,
        latitude,
        longitude,
    ) in rows:
        volunteers[volunteer_id] = (name, user_id)
        left = capacity - held.get(volunteer_id, 0)
        if volunteer_id in unavailable or left <= 0:
            continue
        home_path = building_path or grid_path
        workers.append(
            solver.Worker(
                id=volunteer_id,
                zone=zone_key(rule, home_path, building_id),
                latitude=float(latitude) if latitude is not None else None,
                longitude=float(longitude) if longitude is not None else None,
                building_id=building_id,
                group_path=home_path if building_path else "",
                skills=frozenset(decode_codes(skills)),
                teams=frozenset(teams.get(volunteer_id, ())),
                capacity=left,
            )
        )
    return Workforce(workers=workers, volunteers=volunteers, unavailable=unavailable)


@lru_cache(maxsize=1024)
def _skill_set(encoded: str) -> frozenset[str]:
    # A street's tens of thousands of tasks share a handful of skill lists.
    return frozenset(decode_codes(encoded))


def solver_job(index: int, draft: TaskDraft, rule: str) -> solver.Job:
    """The solver's view of a draft; its id is the draft's index in the list solved."""
    return solver.Job(
        id=index,
        zone=zone_key(rule, draft.grid_path, draft.building_id),
        latitude=draft.latitude,
        longitude=draft.longitude,
        building_id=draft.building_id,
        group_path=draft.grid_path,
        required_skills=_skill_set(draft.required_skills),
        required_team=draft.required_team,
        priority=draft.priority,
    )


def solve(drafts: list[TaskDraft], workforce: Workforce, rule: str) -> solver.Result:
    """Assign the drafts in place (assignee, reason, explanation); returns the solver's
    result for the caller's figures."""
    jobs = [solver_job(index, draft, rule) for index, draft in enumerate(drafts)]
    result = solver.assign(jobs, workforce.workers)
    workers = {worker.id: worker for worker in workforce.workers}
    for assignment in result.assignments:
        draft = drafts[assignment.job_id]
        if assignment.worker_id is None:
            draft.assignee_id = None
            draft.unassigned_reason = assignment.reason or ""
            draft.explanation = {}
        else:
            draft.assignee_id = assignment.worker_id
            draft.unassigned_reason = ""
            facts = solver.explain(
                assignment,
                jobs[assignment.job_id],
                workers[assignment.worker_id],
                load=result.worker_load.get(assignment.worker_id),
            )
            # The solver's job id is the draft's index, meaningless once stored.
            facts.pop("job_id", None)
            draft.explanation = facts
    return result
