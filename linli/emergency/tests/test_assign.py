"""The emergency task optimiser against brute force and hand-made cases (no database)."""

import itertools
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.emergency.assign import (
    CAPACITY_EXHAUSTED,
    DEFAULT_DISTANCE_METRES,
    NO_WORKER_IN_ZONE,
    NO_WORKER_WITH_SKILLS,
    NO_WORKER_WITH_TEAM,
    OTHER_GROUP_PENALTY,
    Job,
    Worker,
    assign,
    eligible,
    exact_network_optimum,
    explain,
    metres_between,
    pair_cost,
    routes,
    total_cost,
    walking_order,
)

# A point in Jing'an; 0.001° of latitude is 111.195 m on the mean-radius sphere.
LAT, LON = 31.2290, 121.4480


def job(id, zone="c1", lat=LAT, lon=LON, building=None, group="g1", skills=(), team="", priority=0):
    return Job(id, zone, lat, lon, building, group, frozenset(skills), team, priority)


def worker(
    id, zone="c1", lat=LAT, lon=LON, building=None, group="g1", skills=(), teams=(), capacity=1
):
    return Worker(
        id, zone, lat, lon, building, group, frozenset(skills), frozenset(teams), capacity
    )


def placed(result):
    return {a.job_id: a.worker_id for a in result.assignments}


def reasons(result):
    return {a.job_id: a.reason for a in result.assignments if a.worker_id is None}


def check_feasible(result, jobs, workers):
    """Every assignment is allowed, costs what the model says, and capacities hold."""
    by_job = {j.id: j for j in jobs}
    by_worker = {w.id: w for w in workers}
    assert [a.job_id for a in result.assignments] == sorted(by_job)
    loads = {}
    for a in result.assignments:
        if a.worker_id is None:
            assert a.reason is not None and a.cost is None
            continue
        j, w = by_job[a.job_id], by_worker[a.worker_id]
        assert eligible(j, w)
        assert a.cost == pair_cost(j, w)
        loads[w.id] = loads.get(w.id, 0) + 1
    assert loads == result.worker_load
    assert all(load <= by_worker[id].capacity for id, load in loads.items())
    assert result.objective == sum(a.cost for a in result.assignments if a.cost is not None)
    assert result.objective == sum(result.zone_objectives.values())
    assert sum(result.unassigned.values()) == len(jobs) - result.assigned


# The cost model ------------------------------------------------------------------------


def test_cost_is_walking_metres_plus_penalty_for_another_group():
    target = job(1, lat=LAT + 0.001)
    assert pair_cost(target, worker(1)) == 111
    assert pair_cost(target, worker(1, group="g2")) == 111 + OTHER_GROUP_PENALTY
    # An unknown group never counts as the same, not even against another unknown one.
    assert pair_cost(job(2, group=""), worker(1, group="")) == OTHER_GROUP_PENALTY


def test_cost_without_coordinates_is_zero_in_the_same_building_else_the_default():
    target = job(1, lat=None, lon=None, building=7)
    assert pair_cost(target, worker(1, building=7)) == 0
    assert pair_cost(target, worker(2, building=8)) == DEFAULT_DISTANCE_METRES
    assert pair_cost(job(2, building=7), worker(3, lat=None, building=7)) == 0
    assert pair_cost(job(3, building=None, lat=None), worker(4, building=None)) == 400


# Hand-made cases -----------------------------------------------------------------------


def test_nearest_volunteer_in_the_same_group_gets_the_task():
    jobs = [job(1, lat=LAT + 0.002)]
    workers = [
        worker(10, lat=LAT + 0.0019, group="g2"),  # 11 m away, other group: 161
        worker(11, lat=LAT + 0.001),  # 111 m away, same group: 111
        worker(12, lat=LAT),  # 222 m away
    ]
    result = assign(jobs, workers)
    assert placed(result) == {1: 11}
    [a] = result.assignments
    assert (a.cost, a.distance_metres, a.same_group, a.reason) == (111, 111, True, None)


def test_optimum_beats_the_greedy_choice():
    # Greedy gives job 1 its nearest volunteer (10) and sends 11 far to job 2: 0 + 444.
    # The optimum crosses over: 111 + 111.
    jobs = [job(1, lat=LAT), job(2, lat=LAT + 0.002, skills={"medical"})]
    workers = [
        worker(10, lat=LAT + 0.001, skills={"medical"}),
        worker(11, lat=LAT - 0.001, skills={"medical"}),
    ]
    result = assign(jobs, workers)
    assert placed(result) == {1: 11, 2: 10}
    assert result.objective == 222


def test_reasons_follow_zone_then_team_then_skills_then_capacity():
    jobs = [
        job(1, zone="nobody"),
        job(2, team="medical_support"),
        # A care-team member exists, but only someone outside the team has the skill.
        job(3, team="care", skills={"nursing"}),
        job(4, skills={"driving"}),
        job(5, priority=1),
        job(6),
        job(7, skills={"it"}),
        job(8),
    ]
    workers = [
        worker(10, teams={"care"}),
        worker(11, skills={"nursing"}),
        worker(12, skills={"it"}, capacity=0),
    ]
    result = assign(jobs, workers)
    assert reasons(result) == {
        1: NO_WORKER_IN_ZONE,
        2: NO_WORKER_WITH_TEAM,
        3: NO_WORKER_WITH_SKILLS,
        4: NO_WORKER_WITH_SKILLS,
        7: CAPACITY_EXHAUSTED,  # the one volunteer with the skill has no capacity left
        8: CAPACITY_EXHAUSTED,  # 5 is more urgent, 6 is identical but older
    }
    assert {placed(result)[5], placed(result)[6]} == {10, 11}
    assert result.unassigned == {
        NO_WORKER_IN_ZONE: 1,
        NO_WORKER_WITH_TEAM: 1,
        NO_WORKER_WITH_SKILLS: 2,
        CAPACITY_EXHAUSTED: 2,
    }


def test_the_more_vulnerable_household_wins_when_capacity_is_short():
    near_low = job(1, building=5, priority=0)
    far_high = job(2, lat=LAT + 0.005, group="g9", priority=2)
    result = assign([near_low, far_high], [worker(10, building=5)])
    assert placed(result) == {1: None, 2: 10}
    assert reasons(result) == {1: CAPACITY_EXHAUSTED}
    base = result.unassigned_base["c1"]
    assert total_cost(result, [near_low, far_high]) == base * 1 + 556 + OTHER_GROUP_PENALTY


def test_priority_never_costs_a_task_that_could_be_served():
    # Volunteer 10 can serve either job, 11 only the ordinary one: both get served, the
    # urgent one by the only volunteer who can, although the ordinary one is closer to 10.
    urgent = job(1, lat=LAT + 0.003, skills={"medical"}, priority=2)
    ordinary = job(2)
    workers = [worker(10, skills={"medical"}), worker(11, lat=LAT + 0.004)]
    assert placed(assign([urgent, ordinary], workers)) == {1: 10, 2: 11}


def test_workers_serve_only_their_own_zone():
    jobs = [job(1, zone="a"), job(2, zone="b"), job(3, zone="c")]
    workers = [
        worker(10, zone="a", lat=LAT + 0.01, capacity=3),
        worker(11, zone="b", capacity=3),  # next door to every job, but only b's
    ]
    result = assign(jobs, workers)
    assert placed(result) == {1: 10, 2: 11, 3: None}
    assert reasons(result) == {3: NO_WORKER_IN_ZONE}
    assert set(result.zone_objectives) == {"a", "b", "c"}
    assert result.zone_objectives["b"] == 0


def test_identical_volunteers_share_the_load_evenly_in_runs_by_building():
    jobs = [job(id, building=1) for id in (1, 2)] + [
        job(id, lat=LAT + 0.001, building=2) for id in (3, 4)
    ]
    workers = [worker(10, capacity=5), worker(11, capacity=5), worker(12, capacity=5)]
    result = assign(jobs, workers)
    assert placed(result) == {1: 10, 2: 10, 3: 11, 4: 12}
    assert result.worker_load == {10: 2, 11: 1, 12: 1}


def test_lowest_ids_of_identical_jobs_are_served_first():
    jobs = [job(id) for id in (7, 3, 5)]
    assert placed(assign(jobs, [worker(10, capacity=2)])) == {3: 10, 5: 10, 7: None}


def test_output_does_not_depend_on_input_order():
    jobs, workers = random_instance(random.Random(11), job_count=120, worker_count=15)
    first = assign(jobs, workers)
    shuffler = random.Random(3)
    for _round in range(3):
        jobs_shuffled, workers_shuffled = list(jobs), list(workers)
        shuffler.shuffle(jobs_shuffled)
        shuffler.shuffle(workers_shuffled)
        again = assign(jobs_shuffled, workers_shuffled)
        assert again.assignments == first.assignments
        assert again.worker_load == first.worker_load


def test_empty_inputs():
    assert assign([], [worker(1)]).assignments == []
    result = assign([job(1, priority=2)], [])
    assert reasons(result) == {1: NO_WORKER_IN_ZONE}
    assert (
        total_cost(result, [job(1, priority=2)])
        == 3
        == exact_network_optimum([job(1, priority=2)], [])
    )


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="job ids"):
        assign([job(1), job(1)], [])
    with pytest.raises(ValueError, match="priority"):
        assign([job(1, priority=-1)], [])
    with pytest.raises(ValueError, match="capacity"):
        assign([], [worker(1, capacity=-1)])
    with pytest.raises(ValueError, match="priorities too large"):
        assign([job(1, priority=10**13)], [worker(1)])


def test_explain_gives_the_facts_of_a_sentence():
    target = job(1, lat=LAT + 0.001, building=3, skills={"medical"}, team="care", priority=2)
    volunteer = worker(10, building=4, skills={"medical", "it"}, teams={"care"}, capacity=3)
    result = assign([target, job(2, zone="elsewhere")], [volunteer])
    facts = explain(result.assignments[0], target, volunteer, load=result.worker_load[10])
    assert facts == {
        "job_id": 1,
        "priority": 2,
        "required_skills": ["medical"],
        "required_team": "care",
        "assigned": True,
        "worker_id": 10,
        "distance_metres": 111,
        "distance_measured": True,
        "same_building": False,
        "same_group": True,
        "group_path": "g1",
        "matched_skills": ["medical"],
        "team": "care",
        "cost": 111,
        "capacity": 3,
        "capacity_used": 1,
        "capacity_left": 2,
    }
    assert explain(result.assignments[1], job(2, zone="elsewhere")) == {
        "job_id": 2,
        "priority": 0,
        "required_skills": [],
        "required_team": None,
        "assigned": False,
        "reason": NO_WORKER_IN_ZONE,
    }


# Walking order -------------------------------------------------------------------------


def test_walking_order_follows_a_street_from_home():
    stops = [(1, LAT + 0.003, LON), (2, LAT + 0.001, LON), (3, None, None), (4, LAT + 0.004, LON)]
    stops += [(5, LAT + 0.002, LON), (0, LAT, None)]
    assert walking_order((LAT, LON), stops) == [2, 5, 1, 4, 0, 3]
    # From the far end of the street the walk comes back.
    assert walking_order((LAT + 0.005, LON), stops) == [4, 1, 5, 2, 0, 3]


def test_walking_order_without_a_home_starts_at_an_end():
    stops = [(1, LAT + 0.002, LON), (2, LAT, LON), (3, LAT + 0.003, LON), (4, LAT + 0.001, LON)]
    assert walking_order(None, stops) in ([2, 4, 1, 3], [3, 1, 4, 2])


def test_walking_order_improves_on_nearest_neighbour():
    # Nearest neighbour from home walks 1 → 3 → 4 → 2 → 5 (612 m); 2-opt finds the
    # shortest walk 5 → 2 → 1 → 3 → 4 (530 m).
    home = (LAT, LON)
    grid = {1: (2, 2), 2: (3, 4), 3: (3, 1), 4: (4, 0), 5: (1, 3)}
    stops = [(id, LAT + 0.0005 * north, LON + 0.0005 * east) for id, (north, east) in grid.items()]
    order = walking_order(home, stops)
    assert order == [5, 2, 1, 3, 4]
    best = min(path_length(home, stops, p) for p in itertools.permutations(grid))
    assert path_length(home, stops, order) == pytest.approx(best)
    assert round(best) == 530 and round(path_length(home, stops, [1, 3, 4, 2, 5])) == 612


def path_length(home, stops, order):
    points = {id: (lat, lon) for id, lat, lon in stops}
    walk = [home] + [points[id] for id in order]
    return sum(metres_between(a, b) for a, b in itertools.pairwise(walk))


def test_routes_order_each_volunteers_tasks():
    jobs = [job(1, lat=LAT + 0.002), job(2, lat=LAT + 0.001), job(3, lat=LAT + 0.003)]
    workers = [worker(10, capacity=3)]
    assert routes(assign(jobs, workers), jobs, workers) == {10: [2, 1, 3]}


# Against brute force and the plain network ---------------------------------------------


def brute_force(jobs, workers):
    """By trying every assignment: the best served count per priority (highest priority
    first, compared lexicographically), the most jobs served, and among the assignments
    with the fewest priority-weighted unassigned jobs the least walking cost."""
    options = [[None] + [w for w in workers if eligible(j, w)] for j in jobs]
    priorities = sorted({j.priority for j in jobs}, reverse=True)
    best_lexicographic, most_served, best_weighted = None, 0, None
    for choice in itertools.product(*options):
        loads = {}
        for w in choice:
            if w is not None:
                loads[w.id] = loads.get(w.id, 0) + 1
                if loads[w.id] > w.capacity:
                    break
        else:
            served = [j for j, w in zip(jobs, choice, strict=True) if w is not None]
            vector = tuple(sum(1 for j in served if j.priority == p) for p in priorities)
            best_lexicographic = max(best_lexicographic or vector, vector)
            most_served = max(most_served, len(served))
            weighted = sum(j.priority + 1 for j, w in zip(jobs, choice, strict=True) if w is None)
            walking = sum(pair_cost(j, w) for j, w in zip(jobs, choice, strict=True) if w)
            best_weighted = min(best_weighted or (weighted, walking), (weighted, walking))
    return best_lexicographic, most_served, best_weighted


coordinates = st.one_of(
    st.none(),
    st.tuples(
        st.floats(LAT - 0.003, LAT + 0.003, allow_nan=False),
        st.floats(LON - 0.003, LON + 0.003, allow_nan=False),
    ),
)
place = st.tuples(coordinates, st.sampled_from([None, 1, 2]), st.sampled_from(["", "g1", "g2"]))
zone = st.sampled_from(["a", "a", "b"])
skill_sets = st.frozensets(st.sampled_from(["medical", "driving"]), max_size=2)


@st.composite
def small_instances(draw):
    jobs = []
    for id in range(1, draw(st.integers(0, 6)) + 1):
        point, building, group = draw(place)
        lat, lon = point or (None, None)
        jobs.append(
            Job(
                id,
                draw(zone),
                lat,
                lon,
                building,
                group,
                draw(st.frozensets(st.sampled_from(["medical", "driving"]), max_size=1)),
                draw(st.sampled_from(["", "", "care"])),
                draw(st.integers(0, 2)),
            )
        )
    workers = []
    for id in range(101, 101 + draw(st.integers(0, 3))):
        point, building, group = draw(place)
        lat, lon = point or (None, None)
        workers.append(
            Worker(
                id,
                draw(zone),
                lat,
                lon,
                building,
                group,
                draw(skill_sets),
                draw(st.frozensets(st.just("care"))),
                draw(st.integers(0, 3)),
            )
        )
    # Copies of jobs make the aggregation matter.
    jobs += [replace(j, id=j.id + 50) for j in jobs[: draw(st.integers(0, 2))]]
    return jobs[:6], workers


@settings(max_examples=250, deadline=None)
@given(small_instances())
def test_matches_brute_force_on_small_instances(instance):
    jobs, workers = instance
    result = assign(jobs, workers)
    check_feasible(result, jobs, workers)
    best_lexicographic, most_served, (weighted, walking) = brute_force(jobs, workers)

    served = {a.job_id for a in result.assignments if a.worker_id is not None}
    priorities = sorted({j.priority for j in jobs}, reverse=True)
    vector = tuple(sum(1 for j in jobs if j.id in served and j.priority == p) for p in priorities)
    assert vector == best_lexicographic
    assert len(served) == most_served
    assert sum(j.priority + 1 for j in jobs if j.id not in served) == weighted
    assert result.objective == walking

    bases = result.unassigned_base
    expected = walking + sum(bases[j.zone] * (j.priority + 1) for j in jobs if j.id not in served)
    assert total_cost(result, jobs) == expected == exact_network_optimum(jobs, workers)


def random_instance(rng, *, job_count, worker_count, zones=("a", "b", "c")):
    """Few buildings, groups and requirement kinds, so many jobs and some volunteers are
    interchangeable; a few points lack coordinates."""
    buildings = {
        (zone, number): (LAT + rng.uniform(-0.004, 0.004), LON + rng.uniform(-0.004, 0.004))
        for zone in zones
        for number in range(4)
    }

    def location():
        zone, number = rng.choice(list(buildings))
        lat, lon = buildings[zone, number] if rng.random() > 0.05 else (None, None)
        return zone, lat, lon, hash((zone, number)) % 1000, f"{zone}/g{number % 3}"

    jobs = []
    for id in range(1, job_count + 1):
        zone, lat, lon, building, group = location()
        skills, team = rng.choice(
            [((), ""), ((), ""), (("medical",), ""), ((), "care"), (("driving",), "patrol")]
        )
        jobs.append(
            Job(id, zone, lat, lon, building, group, frozenset(skills), team, rng.randint(0, 2))
        )
    workers = []
    for id in range(10_001, 10_001 + worker_count):
        zone, lat, lon, building, group = location()
        skills = rng.sample(["medical", "driving", "it"], rng.randint(0, 2))
        teams = rng.sample(["care", "patrol"], rng.randint(0, 1))
        workers.append(
            Worker(
                id,
                zone,
                lat,
                lon,
                building,
                group,
                frozenset(skills),
                frozenset(teams),
                rng.randint(0, 6),
            )
        )
    return jobs, workers


@pytest.mark.parametrize("seed", range(8))
def test_aggregated_network_has_the_plain_networks_optimum(seed):
    rng = random.Random(seed)
    jobs, workers = random_instance(
        rng, job_count=rng.randint(100, 400), worker_count=rng.randint(10, 60)
    )
    result = assign(jobs, workers)
    check_feasible(result, jobs, workers)
    assert total_cost(result, jobs) == exact_network_optimum(jobs, workers)
    # Aggregation shrank the network.
    plain_arcs = sum(eligible(j, w) for j in jobs for w in workers) + len(jobs) + len(workers)
    assert result.arcs < plain_arcs
