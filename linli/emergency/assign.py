"""Emergency task assignment: tasks to available volunteers as a min-cost flow (OR-tools).

Pure functions on plain data (no Django), so the activation service, the tests and the bench
share one definition.

The model, per movement zone (a worker serves only jobs of their own zone, so no arc crosses
zones and solving each zone on its own is exactly as good as solving all at once):

- A job may go to a worker who has capacity left, belongs to the required team (if any) and
  has every required skill.
- Cost of job → worker = walking distance in whole metres from the worker's home building to
  the job's target (haversine), plus `OTHER_GROUP_PENALTY` when they are not in the same
  building group (an unknown group never counts as the same). When either side lacks
  coordinates the distance is 0 for the same building and `DEFAULT_DISTANCE_METRES` otherwise.
- Leaving a job unassigned costs `base * (priority + 1)`, where the zone's `base` is one more
  than the largest possible total walking cost of the zone (largest eligible pair cost × jobs
  in the zone). So the solver first minimises the priority-weighted count of unassigned jobs
  and only then the walking cost.

Why "higher priority first" is exact and not just a weighting: the sets of jobs that can be
served together are the independent sets of a transversal matroid (each unit of a worker's
capacity serves one job). For a matroid, which sets have the largest total weight depends
only on the order of the weights, not on their size (optimality is the exchange condition
w(kept) ≥ w(dropped)), so maximising Σ(priority + 1) over served jobs picks exactly the
sets that the greedy rule "serve as many of the most vulnerable as possible, then as many of
the next level, ..." picks. Weights are positive, so these sets are also as large as any
set that can be served: priority never costs a task that could have been done. Among those
sets, the walking cost is minimal. (The brute-force tests check all three claims.)

For speed, interchangeable jobs (same zone, target, building group, requirements and
priority) become one node whose supply is their count, and interchangeable workers (same
zone, home, group, skills and teams) one node whose capacity is their sum. Identical members
of a node can swap places without changing any cost, so the aggregated optimum equals the
optimum of the plain one-node-per-job network (`exact_network_optimum` builds that one so tests
and the bench can check). The network per zone is

    job class (supply = count) ──0──> target node ──cost──> worker class ──0, capacity──> sink
    job class ──base·(priority+1)──> sink                       (the "unassigned" arc)

where a target node pools the job classes of one target and requirement that differ only in
priority, so the expensive target × worker arcs are not repeated per priority. A min-cost
flow with integer data has an integral optimum, and OR-tools solves it exactly.

Individual job ids are handed out deterministically: within a job class the lowest ids are
served first; the jobs a worker class receives are ordered by place (then requirement, then
id) and split into contiguous runs over its members (lowest id first), with loads as even as
capacities allow, so a volunteer's tasks cluster by building.
The output does not depend on the input order.

`walking_order` (the visiting order of one volunteer's tasks) is a heuristic: nearest
neighbour followed by 2-opt.
"""

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

# Mean Earth radius (IUGG), metres.
EARTH_RADIUS_METRES = 6_371_008.8
# Assumed walk when a home or target has no coordinates and they are not the same building:
# about a five-minute walk, a typical distance inside one residential community.
DEFAULT_DISTANCE_METRES = 400
# Added when the volunteer lives in another building group than the target: neighbours who
# know the household are preferred unless someone else is 150 m closer.
OTHER_GROUP_PENALTY = 150

NO_WORKER_IN_ZONE = "no_worker_in_zone"
NO_WORKER_WITH_TEAM = "no_worker_with_team"
NO_WORKER_WITH_SKILLS = "no_worker_with_skills"
CAPACITY_EXHAUSTED = "capacity_exhausted"
# In the order in which an unassigned job's reason is decided (see `unassigned_reason`).
REASONS = (NO_WORKER_IN_ZONE, NO_WORKER_WITH_TEAM, NO_WORKER_WITH_SKILLS, CAPACITY_EXHAUSTED)


@dataclass(frozen=True)
class Worker:
    """An available volunteer."""

    id: int
    # Movement zone: the worker serves only jobs with the same zone.
    zone: str
    # Home building.
    latitude: float | None
    longitude: float | None
    building_id: int | None
    # Home building group's grid path ("" unknown).
    group_path: str
    skills: frozenset[str]
    # Kinds of the functional teams the volunteer belongs to.
    teams: frozenset[str]
    # How many more tasks they may take.
    capacity: int


@dataclass(frozen=True)
class Job:
    """A task to assign."""

    id: int
    zone: str
    latitude: float | None
    longitude: float | None
    building_id: int | None
    group_path: str
    # The worker must have all of them.
    required_skills: frozenset[str]
    # "" = any worker; else the worker's teams must contain it.
    required_team: str
    # >= 0; higher = more vulnerable, served first when capacity is short.
    priority: int


@dataclass(frozen=True)
class Assignment:
    job_id: int
    worker_id: int | None
    # Walking distance plus the other-group penalty; None when unassigned.
    cost: int | None
    distance_metres: int | None
    same_group: bool
    # One of REASONS when unassigned, else None.
    reason: str | None
    # False when the distance is the same-building or default assumption (no coordinates).
    distance_measured: bool = True


@dataclass
class Result:
    # One per job, ordered by job id.
    assignments: list[Assignment] = field(default_factory=list)
    # Total cost (walking + group penalties) of the assigned jobs.
    objective: int = 0
    # Unassigned jobs by reason; every reason is present.
    unassigned: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    zone_objectives: dict[str, int] = field(default_factory=dict)
    # The per-zone `base` of the unassigned cost base * (priority + 1).
    unassigned_base: dict[str, int] = field(default_factory=dict)
    # Tasks given to each worker in this run (workers with none are absent).
    worker_load: dict[int, int] = field(default_factory=dict)
    # Bare OR-tools time (solve calls only), summed over zones.
    solver_seconds: float = 0.0
    nodes: int = 0
    arcs: int = 0

    @property
    def assigned(self) -> int:
        return sum(1 for a in self.assignments if a.worker_id is not None)


# Costs ---------------------------------------------------------------------------------


def _located(latitude: float | None, longitude: float | None) -> bool:
    return latitude is not None and longitude is not None


def _point_arrays(
    points: Sequence[tuple[int | None, float | None, float | None, str]],
    group_codes: dict[str, int],
) -> tuple[np.ndarray, ...]:
    """(building_id, latitude, longitude, group_path) rows as arrays: building ids with a
    known flag, coordinates in radians (NaN when missing), groups as codes (-1 unknown)."""
    count = len(points)
    buildings = np.zeros(count, dtype=np.int64)
    has_building = np.zeros(count, dtype=bool)
    latitudes = np.full(count, np.nan)
    longitudes = np.full(count, np.nan)
    groups = np.full(count, -1, dtype=np.int64)
    for index, (building_id, latitude, longitude, group_path) in enumerate(points):
        if building_id is not None:
            buildings[index], has_building[index] = building_id, True
        if _located(latitude, longitude):
            latitudes[index], longitudes[index] = latitude, longitude
        if group_path:
            groups[index] = group_codes.setdefault(group_path, len(group_codes))
    return buildings, has_building, np.radians(latitudes), np.radians(longitudes), groups


def _cost_matrices(
    targets: Sequence[tuple[int | None, float | None, float | None, str]],
    homes: Sequence[tuple[int | None, float | None, float | None, str]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cost, distance in metres, same group, distance measured) for every target × home,
    each a (len(targets), len(homes)) array. The single definition of the cost model."""
    group_codes: dict[str, int] = {}
    t_building, t_has_building, t_lat, t_lon, t_group = _point_arrays(targets, group_codes)
    h_building, h_has_building, h_lat, h_lon, h_group = _point_arrays(homes, group_codes)
    half_dlat = (t_lat[:, None] - h_lat[None, :]) / 2
    half_dlon = (t_lon[:, None] - h_lon[None, :]) / 2
    chord = np.sin(half_dlat) ** 2 + np.cos(t_lat)[:, None] * np.cos(h_lat)[None, :] * (
        np.sin(half_dlon) ** 2
    )
    with np.errstate(invalid="ignore"):
        metres = 2 * EARTH_RADIUS_METRES * np.arcsin(np.sqrt(np.clip(chord, 0.0, 1.0)))
    measured = ~np.isnan(t_lat)[:, None] & ~np.isnan(h_lat)[None, :]
    same_building = (
        t_has_building[:, None]
        & h_has_building[None, :]
        & (t_building[:, None] == h_building[None, :])
    )
    assumed = np.where(same_building, 0, DEFAULT_DISTANCE_METRES)
    distance = np.where(measured, np.rint(np.nan_to_num(metres)), assumed).astype(np.int64)
    same_group = (t_group[:, None] == h_group[None, :]) & (t_group[:, None] >= 0)
    cost = distance + OTHER_GROUP_PENALTY * (~same_group)
    return cost, distance, same_group, measured


def _target(job: Job) -> tuple[int | None, float | None, float | None, str]:
    if _located(job.latitude, job.longitude):
        return (job.building_id, job.latitude, job.longitude, job.group_path)
    return (job.building_id, None, None, job.group_path)


def _home(worker: Worker) -> tuple[int | None, float | None, float | None, str]:
    if _located(worker.latitude, worker.longitude):
        return (worker.building_id, worker.latitude, worker.longitude, worker.group_path)
    return (worker.building_id, None, None, worker.group_path)


def pair_cost(job: Job, worker: Worker) -> int:
    """The cost of sending `worker` to `job` (eligibility aside)."""
    return int(_cost_matrices([_target(job)], [_home(worker)])[0][0, 0])


def eligible(job: Job, worker: Worker) -> bool:
    """Whether `worker` may take `job` at all (zone, team, skills, capacity)."""
    return (
        worker.zone == job.zone
        and worker.capacity > 0
        and (not job.required_team or job.required_team in worker.teams)
        and job.required_skills <= worker.skills
    )


def _eligibility(
    requirements: Sequence[tuple[frozenset[str], str]],
    abilities: Sequence[tuple[frozenset[str], frozenset[str]]],
) -> np.ndarray:
    """requirement (skills, team) × ability (skills, teams) → may serve, as bit masks."""
    skill_codes: dict[str, int] = {}
    team_codes: dict[str, int] = {}
    for skills, team in requirements:
        for skill in skills:
            skill_codes.setdefault(skill, len(skill_codes))
        if team:
            team_codes.setdefault(team, len(team_codes))
    if max(len(skill_codes), len(team_codes)) > 62:  # pragma: no cover - catalogues are small
        # Beyond one signed 64-bit word: decide pair by pair.
        return np.array(
            [
                [(not team or team in teams) and skills <= has for has, teams in abilities]
                for skills, team in requirements
            ],
            dtype=bool,
        ).reshape(len(requirements), len(abilities))

    def mask(values: Iterable[str], codes: dict[str, int]) -> int:
        # Values no requirement mentions cannot matter and get no bit.
        return sum(1 << codes[value] for value in values if value in codes)

    needed = np.array([mask(skills, skill_codes) for skills, _team in requirements], np.int64)
    team_bit = np.array(
        [1 << team_codes[team] if team else 0 for _skills, team in requirements], np.int64
    )
    has = np.array([mask(skills, skill_codes) for skills, _teams in abilities], np.int64)
    in_teams = np.array([mask(teams, team_codes) for _skills, teams in abilities], np.int64)
    skills_ok = (needed[:, None] & ~has[None, :]) == 0
    team_ok = (team_bit[:, None] & in_teams[None, :]) == team_bit[:, None]
    return skills_ok & team_ok


def _unassigned_base(largest_pair_cost: int, job_count: int) -> int:
    """One more than the largest possible total walking cost of a zone."""
    return largest_pair_cost * job_count + 1


# OR-tools scales costs by about the node count internally; staying below this keeps every
# product inside 64 bits (a zone as wide as a city with priorities in the thousands fits).
LARGEST_COST = 2**42


def _unassigned_costs(base: int, priorities: np.ndarray) -> np.ndarray:
    if len(priorities) and base * (int(priorities.max()) + 1) > LARGEST_COST:
        raise ValueError("priorities too large for exact integer costs in this zone")
    return base * (priorities + 1)


def unassigned_reason(job: Job, zone_workers: Sequence[Worker]) -> str:
    """Why `job` could not be assigned, given every worker of its zone (with or without
    capacity left). The first failing check, in this order: nobody in the zone; nobody in
    the required team; nobody in that team (or anybody, if no team is required) with all
    the required skills; otherwise eligible workers exist but their capacity is used up
    (by jobs of higher priority, or by jobs only they could serve), or was zero to begin with.
    """
    workers = [w for w in zone_workers if w.zone == job.zone]
    if not workers:
        return NO_WORKER_IN_ZONE
    if job.required_team:
        workers = [w for w in workers if job.required_team in w.teams]
        if not workers:
            return NO_WORKER_WITH_TEAM
    if not any(job.required_skills <= w.skills for w in workers):
        return NO_WORKER_WITH_SKILLS
    return CAPACITY_EXHAUSTED


# The optimiser -------------------------------------------------------------------------


def _validate(jobs: Sequence[Job], workers: Sequence[Worker]) -> None:
    if len({job.id for job in jobs}) != len(jobs):
        raise ValueError("job ids must be unique")
    if len({worker.id for worker in workers}) != len(workers):
        raise ValueError("worker ids must be unique")
    for job in jobs:
        if job.priority < 0:
            raise ValueError(f"job {job.id}: priority must be >= 0")
    for worker in workers:
        if worker.capacity < 0:
            raise ValueError(f"worker {worker.id}: capacity must be >= 0")


def _by_zone(
    jobs: Sequence[Job], workers: Sequence[Worker]
) -> dict[str, tuple[list[Job], list[Worker]]]:
    """Jobs and workers of each zone that has jobs, sorted by id, zones sorted by name."""
    zones: dict[str, tuple[list[Job], list[Worker]]] = {}
    for job in sorted(jobs, key=lambda j: j.id):
        zones.setdefault(job.zone, ([], []))[0].append(job)
    for worker in sorted(workers, key=lambda w: w.id):
        if worker.zone in zones:
            zones[worker.zone][1].append(worker)
    return dict(sorted(zones.items()))


def _solve(
    supplies: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    capacities: np.ndarray,
    costs: np.ndarray,
) -> tuple[min_cost_flow.SimpleMinCostFlow, float]:
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    solver.set_nodes_supplies(np.arange(len(supplies), dtype=np.int64), supplies)
    started = time.perf_counter()
    status = solver.solve()
    seconds = time.perf_counter() - started
    if status != solver.OPTIMAL:  # pragma: no cover - the network is always feasible
        raise RuntimeError(f"min-cost flow failed with status {status}")
    return solver, seconds


def _balanced_loads(capacities: list[int], total: int) -> list[int]:
    """Split `total` over members as evenly as their capacities allow (one each in turn)."""
    loads = [0] * len(capacities)
    while total:
        progressed = False
        for index, capacity in enumerate(capacities):
            if total and loads[index] < capacity:
                loads[index] += 1
                total -= 1
                progressed = True
        if not progressed:  # pragma: no cover - the flow respects the class capacity
            raise RuntimeError("more tasks than capacity in a worker class")
    return loads


def _assign_zone(zone: str, jobs: list[Job], workers: list[Worker], result: Result) -> None:
    """Solve one zone (jobs and workers sorted by id) and record it into `result`."""
    # Job classes: identical jobs, in order of their lowest id (jobs arrive sorted). The key
    # is built inline, not via _target(): this loop runs once per job.
    classes: dict[tuple, list[Job]] = {}
    for job in jobs:
        key = (
            job.building_id,
            job.latitude,
            job.longitude,
            job.group_path,
            job.required_skills,
            job.required_team,
            job.priority,
        )
        members = classes.get(key)
        if members is None:
            classes[key] = [job]
        else:
            members.append(job)
    class_jobs = list(classes.values())
    # Target nodes: job classes that differ only in priority, ordered by place so that a
    # worker class receives its jobs grouped by place.
    place_index: dict[tuple, int] = {}
    requirement_index: dict[tuple, int] = {}
    first_target: dict[tuple, tuple[int, int, int]] = {}
    for index, members in enumerate(class_jobs):
        job = members[0]
        place = place_index.setdefault(_target(job), len(place_index))
        requirement_key = (job.required_skills, job.required_team)
        requirement = requirement_index.setdefault(requirement_key, len(requirement_index))
        first_target.setdefault((place, requirement), (place, index, requirement))
    targets = sorted(first_target.values())
    target_index = {(place, requirement): n for n, (place, _i, requirement) in enumerate(targets)}
    target_place = np.array([place for place, _i, _r in targets], np.int64)
    target_requirement = np.array([requirement for _p, _i, requirement in targets], np.int64)
    class_target = np.array(
        [
            target_index[
                place_index[_target(members[0])],
                requirement_index[(members[0].required_skills, members[0].required_team)],
            ]
            for members in class_jobs
        ],
        np.int64,
    )

    # Worker classes: identical workers with capacity left, in order of their lowest id.
    worker_classes: dict[tuple, list[Worker]] = {}
    for worker in workers:
        if worker.capacity > 0:
            key = (_home(worker), worker.skills, worker.teams)
            worker_classes.setdefault(key, []).append(worker)
    worker_keys = list(worker_classes)
    home_index: dict[tuple, int] = {}
    ability_index: dict[tuple, int] = {}
    class_home = [home_index.setdefault(key[0], len(home_index)) for key in worker_keys]
    class_ability = np.array(
        [ability_index.setdefault(key[1:], len(ability_index)) for key in worker_keys], np.int64
    )
    worker_capacity = np.array(
        [sum(w.capacity for w in worker_classes[key]) for key in worker_keys], np.int64
    )

    counts = np.array([len(members) for members in class_jobs], np.int64)
    priorities = np.array([members[0].priority for members in class_jobs], np.int64)
    job_count = len(jobs)

    if worker_keys:
        cost, distance, same_group, measured = _cost_matrices(list(place_index), list(home_index))
        allowed = _eligibility(list(requirement_index), list(ability_index))
        pair_allowed = allowed[target_requirement][:, class_ability]
        pair_target, pair_worker = np.nonzero(pair_allowed)
        pair_cost_values = cost[target_place[pair_target], np.array(class_home)[pair_worker]]
    else:
        pair_target = pair_worker = pair_cost_values = np.zeros(0, np.int64)
    largest = int(pair_cost_values.max()) if len(pair_cost_values) else 0
    base = _unassigned_base(largest, job_count)
    result.unassigned_base[zone] = base

    served = np.zeros(len(class_jobs), np.int64)
    pair_flow = np.zeros(len(pair_target), np.int64)
    if len(pair_target):
        class_count, target_count, worker_count = len(class_jobs), len(targets), len(worker_keys)
        target_node = class_count
        worker_node = class_count + target_count
        sink = worker_node + worker_count
        target_demand = np.bincount(class_target, weights=counts, minlength=target_count)
        tails = np.concatenate(
            [
                np.arange(class_count, dtype=np.int64),
                np.arange(class_count, dtype=np.int64),
                target_node + pair_target,
                worker_node + np.arange(worker_count, dtype=np.int64),
            ]
        )
        heads = np.concatenate(
            [
                target_node + class_target,
                np.full(class_count, sink, np.int64),
                worker_node + pair_worker,
                np.full(worker_count, sink, np.int64),
            ]
        )
        capacities = np.concatenate(
            [
                counts,
                counts,
                np.minimum(
                    target_demand.astype(np.int64)[pair_target], worker_capacity[pair_worker]
                ),
                worker_capacity,
            ]
        )
        costs = np.concatenate(
            [
                np.zeros(class_count, np.int64),
                _unassigned_costs(base, priorities),
                pair_cost_values,
                np.zeros(worker_count, np.int64),
            ]
        )
        supplies = np.zeros(sink + 1, np.int64)
        supplies[:class_count] = counts
        supplies[sink] = -job_count
        solver, seconds = _solve(supplies, tails, heads, capacities, costs)
        result.solver_seconds += seconds
        result.nodes += sink + 1
        result.arcs += len(tails)
        served = solver.flows(np.arange(class_count, dtype=np.int64))
        first_pair = 2 * class_count
        pair_flow = solver.flows(np.arange(first_pair, first_pair + len(pair_target)))

    # Hand out job ids: the lowest ids of each class are served; a target's served jobs go,
    # by id, to worker classes in arc order (so each worker class receives them by place).
    pool: list[list[Job]] = [[] for _ in targets]
    unassigned: list[Job] = []
    for index, members in enumerate(class_jobs):
        take = int(served[index])
        pool[class_target[index]].extend(members[:take])
        unassigned.extend(members[take:])
    for target_jobs in pool:
        target_jobs.sort(key=lambda j: j.id)
    taken = [0] * len(targets)
    received: list[list[tuple[int, list[Job]]]] = [[] for _ in worker_keys]
    for arc in np.flatnonzero(pair_flow).tolist():
        target, flow = int(pair_target[arc]), int(pair_flow[arc])
        start = taken[target]
        taken[target] += flow
        segment = pool[target][start : start + flow]
        received[int(pair_worker[arc])].append((int(target_place[target]), segment))

    zone_objective = 0
    assignments = result.assignments
    if worker_keys:
        cost_rows, distance_rows = cost.tolist(), distance.tolist()
        same_rows, measured_rows = same_group.tolist(), measured.tolist()
    for worker_class, segments in enumerate(received):
        if not segments:
            continue
        home = class_home[worker_class]
        members = worker_classes[worker_keys[worker_class]]
        loads = _balanced_loads([w.capacity for w in members], sum(len(s) for _p, s in segments))
        # Contiguous runs over the members, lowest id first.
        turns = iter([(w.id, load) for w, load in zip(members, loads, strict=True) if load])
        member_id, left = next(turns)
        result.worker_load[member_id] = left
        for place, segment in segments:
            pair = cost_rows[place][home]
            facts = (distance_rows[place][home], same_rows[place][home], measured_rows[place][home])
            zone_objective += pair * len(segment)
            for job in segment:
                if not left:
                    member_id, left = next(turns)
                    result.worker_load[member_id] = left
                assignments.append(
                    Assignment(job.id, member_id, pair, facts[0], facts[1], None, facts[2])
                )
                left -= 1

    reasons: dict[tuple, str] = {}
    for job in unassigned:
        requirement = (job.required_skills, job.required_team)
        if requirement not in reasons:
            reasons[requirement] = unassigned_reason(job, workers)
        reason = reasons[requirement]
        result.unassigned[reason] += 1
        assignments.append(Assignment(job.id, None, None, None, False, reason, False))
    result.zone_objectives[zone] = zone_objective
    result.objective += zone_objective


def assign(jobs: Sequence[Job], workers: Sequence[Worker]) -> Result:
    """The optimal assignment of `jobs` to `workers` (see the module docstring)."""
    _validate(jobs, workers)
    result = Result()
    for zone, (zone_jobs, zone_workers) in _by_zone(jobs, workers).items():
        _assign_zone(zone, zone_jobs, zone_workers, result)
    result.assignments.sort(key=lambda a: a.job_id)
    return result


def total_cost(result: Result, jobs: Sequence[Job]) -> int:
    """The full objective of `result`: walking costs of the assigned plus
    base * (priority + 1) for each unassigned job; comparable to `exact_network_optimum`."""
    by_id = {a.job_id: a for a in result.assignments}
    total = 0
    for job in jobs:
        assignment = by_id[job.id]
        if assignment.worker_id is None:
            total += result.unassigned_base[job.zone] * (job.priority + 1)
        else:
            total += assignment.cost
    return total


def exact_network_optimum(jobs: Sequence[Job], workers: Sequence[Worker]) -> int:
    """The optimal total cost of the plain network: one node per job (supply 1) and per
    worker (capacity to the sink), an arc for every eligible pair and an unassigned arc per
    job; no aggregation. Built zone by zone (no arc crosses zones, so the optimum of the
    whole is the sum) to keep memory bounded on a district."""
    _validate(jobs, workers)
    total = 0
    for zone_jobs, zone_workers in _by_zone(jobs, workers).values():
        open_workers = [w for w in zone_workers if w.capacity > 0]
        job_count, worker_count = len(zone_jobs), len(open_workers)
        if worker_count:
            cost = _cost_matrices(
                [_target(j) for j in zone_jobs], [_home(w) for w in open_workers]
            )[0]
            allowed = _eligibility(
                [(j.required_skills, j.required_team) for j in zone_jobs],
                [(w.skills, w.teams) for w in open_workers],
            )
            pair_job, pair_worker = np.nonzero(allowed)
            pair_costs = cost[pair_job, pair_worker]
        else:
            pair_job = pair_worker = pair_costs = np.zeros(0, np.int64)
        largest = int(pair_costs.max()) if len(pair_costs) else 0
        base = _unassigned_base(largest, job_count)
        priorities = np.array([j.priority for j in zone_jobs], np.int64)
        unassigned_costs = _unassigned_costs(base, priorities)
        if not len(pair_job):
            total += int(unassigned_costs.sum())
            continue
        worker_node, sink = job_count, job_count + worker_count
        job_nodes = np.arange(job_count, dtype=np.int64)
        worker_nodes = worker_node + np.arange(worker_count, dtype=np.int64)
        tails = np.concatenate([pair_job, job_nodes, worker_nodes])
        heads = np.concatenate(
            [
                worker_node + pair_worker,
                np.full(job_count, sink, np.int64),
                np.full(worker_count, sink, np.int64),
            ]
        )
        capacities = np.concatenate(
            [
                np.ones(len(pair_job) + job_count, np.int64),
                np.array([w.capacity for w in open_workers], np.int64),
            ]
        )
        costs = np.concatenate([pair_costs, unassigned_costs, np.zeros(worker_count, np.int64)])
        supplies = np.zeros(sink + 1, np.int64)
        supplies[:job_count] = 1
        supplies[sink] = -job_count
        solver, _seconds = _solve(supplies, tails, heads, capacities, costs)
        total += int(solver.optimal_cost())
    return total


# Explanations and routes ---------------------------------------------------------------


def explain(
    assignment: Assignment, job: Job, worker: Worker | None = None, *, load: int | None = None
) -> dict:
    """The facts behind one assignment, for a one-sentence explanation (rendered with i18n
    by the caller). `load` is how many tasks the worker got in this run
    (`Result.worker_load`); without it the capacity facts are None."""
    facts: dict = {
        "job_id": job.id,
        "priority": job.priority,
        "required_skills": sorted(job.required_skills),
        "required_team": job.required_team or None,
    }
    if assignment.worker_id is None or worker is None:
        facts.update(assigned=False, reason=assignment.reason)
        return facts
    facts.update(
        assigned=True,
        worker_id=worker.id,
        distance_metres=assignment.distance_metres,
        distance_measured=assignment.distance_measured,
        same_building=job.building_id is not None and job.building_id == worker.building_id,
        same_group=assignment.same_group,
        group_path=job.group_path if assignment.same_group else None,
        matched_skills=sorted(job.required_skills & worker.skills),
        team=job.required_team or None,
        cost=assignment.cost,
        capacity=worker.capacity,
        capacity_used=load,
        capacity_left=None if load is None else worker.capacity - load,
    )
    return facts


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    chord = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(min(1.0, chord)))


def walking_order(
    start: tuple[float, float] | None,
    stops: list[tuple[int, float | None, float | None]],
) -> list[int]:
    """A short visiting order of (id, latitude, longitude) stops from `start` (home): nearest
    neighbour, then 2-opt until no reversal shortens the open path. A heuristic, not an
    optimum. Ties go to the lower id; with no start the walk may begin at any stop; stops
    without coordinates come last, by id."""
    located = sorted((s for s in stops if _located(s[1], s[2])), key=lambda s: s[0])
    unlocated = sorted(s[0] for s in stops if not _located(s[1], s[2]))
    count = len(located)
    # Node 0 is the start; without one, a virtual start at distance 0 from every stop.
    points = [(s[1], s[2]) for s in located]
    distance = [[0.0] * (count + 1) for _ in range(count + 1)]
    for i in range(count):
        for j in range(i + 1, count):
            distance[i + 1][j + 1] = distance[j + 1][i + 1] = metres_between(points[i], points[j])
        if start is not None:
            distance[0][i + 1] = distance[i + 1][0] = metres_between(start, points[i])

    path = [0]
    remaining = set(range(1, count + 1))
    while remaining:
        here = path[-1]
        nearest = min(remaining, key=lambda node: (distance[here][node], node))
        path.append(nearest)
        remaining.remove(nearest)

    # 2-opt on the open path with a fixed start: reverse path[i..j].
    improved = True
    while improved:
        improved = False
        for i in range(1, count):
            for j in range(i + 1, count + 1):
                before, first, last = path[i - 1], path[i], path[j]
                change = distance[before][last] - distance[before][first]
                if j < count:
                    after = path[j + 1]
                    change += distance[first][after] - distance[last][after]
                if change < -1e-9:
                    path[i : j + 1] = reversed(path[i : j + 1])
                    improved = True
    return [located[node - 1][0] for node in path[1:]] + unlocated


def routes(result: Result, jobs: Sequence[Job], workers: Sequence[Worker]) -> dict[int, list[int]]:
    """Each worker's job ids in `walking_order` from home."""
    by_job = {job.id: job for job in jobs}
    by_worker = {worker.id: worker for worker in workers}
    stops: dict[int, list[tuple[int, float | None, float | None]]] = {}
    for assignment in result.assignments:
        if assignment.worker_id is not None:
            job = by_job[assignment.job_id]
            stops.setdefault(assignment.worker_id, []).append((job.id, job.latitude, job.longitude))
    ordered: dict[int, list[int]] = {}
    for worker_id, worker_stops in sorted(stops.items()):
        worker = by_worker[worker_id]
        home = (
            (worker.latitude, worker.longitude)
            if _located(worker.latitude, worker.longitude)
            else None
        )
        ordered[worker_id] = walking_order(home, worker_stops)
    return ordered
