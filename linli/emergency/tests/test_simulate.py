"""The drill simulator on hand-built routes (pure computation, no database)."""

import json

import pytest

from linli.emergency.simulate import (
    METRES_PER_DEGREE,
    Parameters,
    Route,
    Stop,
    simulate,
    simulate_runs,
)

# Everything along one meridian, so a leg is exactly its difference in latitude.
ORIGIN_LATITUDE, LONGITUDE = 31.2, 121.45

# No randomness: acknowledge at 5, walk 70 m/min in straight lines, 6 minutes a contact,
# every household answers, nobody fails to respond.
DETERMINISTIC = Parameters(
    acknowledge_delay_median_minutes=5,
    acknowledge_delay_sigma=0,
    non_response_share=0,
    acknowledge_minutes=15,
    walking_metres_per_minute=70,
    detour_factor=1,
    default_leg_metres=140,
    contact_median_minutes=6,
    contact_sigma=0,
    no_answer_probability=0,
    no_answer_minutes=2,
    retry_interval_minutes=30,
    max_attempts=3,
)


def north(metres):
    """(latitude, longitude) of the point `metres` north of the origin."""
    return (ORIGIN_LATITUDE + metres / METRES_PER_DEGREE, LONGITUDE)


def welfare(task_id, household_id, metres=None):
    latitude, longitude = north(metres) if metres is not None else (None, None)
    return Stop(task_id, household_id, latitude, longitude, counts_for_coverage=True)


def patrol(task_id, metres):
    latitude, longitude = north(metres)
    return Stop(task_id, None, latitude, longitude, counts_for_coverage=False)


def block_of_households(count, columns=20, spacing=30):
    """Households on a grid `spacing` metres apart, in row order (a sensible walking order)."""
    stops = []
    for number in range(count):
        row, column = divmod(number, columns)
        latitude = ORIGIN_LATITUDE + row * spacing / METRES_PER_DEGREE
        longitude = LONGITUDE + column * spacing / METRES_PER_DEGREE / 0.855
        stops.append(Stop(f"t{number}", f"h{number}", latitude, longitude, True))
    return stops


def split(stops, workers):
    """Contiguous chunks of the walking order, one route per volunteer, starting at the first."""
    size = -(-len(stops) // workers)
    routes = []
    for worker in range(workers):
        chunk = stops[worker * size : (worker + 1) * size]
        start = (chunk[0].latitude, chunk[0].longitude) if chunk else None
        routes.append(Route(f"w{worker}", start, chunk))
    return routes


def test_single_route_without_randomness_gives_hand_computed_contact_times():
    route = Route(
        "wang",
        north(0),
        [
            welfare("a", "h1", 140),  # leave 5, walk 2 → 7, contact ends 13
            welfare("b", "h2", 350),  # walk 210 m = 3 → 16, ends 22
            patrol("p", 560),  # walk 3 → 25, patrol ends 31 (not a contact)
            welfare("c", "h3"),  # no place: default 140 m = 2 → 33, ends 39
            welfare("d", "h4", 0),  # from an unknown place: 2 → 41, ends 47
        ],
    )

    outcome = simulate([route], parameters=DETERMINISTIC)

    assert outcome.contact_times() == pytest.approx(
        {"a": 13.0, "b": 22.0, "p": 31.0, "c": 39.0, "d": 47.0}
    )
    assert outcome.targeted_households == 4
    assert [point[1] for point in outcome.coverage_curve] == [0.25, 0.5, 0.75, 1.0]
    assert [point[0] for point in outcome.coverage_curve] == pytest.approx([13, 22, 39, 47])
    assert outcome.time_to(0.5) == pytest.approx(22.0)
    assert outcome.time_to(0.9) == pytest.approx(47.0)
    assert outcome.time_to(1.0) == pytest.approx(47.0)
    assert outcome.all_settled_at == pytest.approx(47.0)
    assert outcome.escalated == ()
    (worker,) = outcome.workers
    assert worker.worker_id == "wang"
    assert worker.acknowledged_at == 5.0
    assert worker.finished_at == pytest.approx(47.0)
    assert worker.task_count == 5
    assert worker.attempts == 5
    assert worker.distance_metres == pytest.approx(140 + 210 + 210 + 140 + 140)


def test_unanswered_stops_are_retried_after_the_interval_then_escalated():
    parameters = Parameters(**{**vars(DETERMINISTIC), "no_answer_probability": 1.0})
    route = Route("wang", north(0), [welfare("a", "h1", 140), welfare("b", "h2", 280)])

    outcome = simulate([route], parameters=parameters)

    # a: 7–9 no answer; b: 11–13 no answer; a due 39 (walk 2, wait) 39–41; b due 43: 43–45;
    # a due 71: 71–73, third failure, escalated; b due 75: 75–77, escalated.
    by_task = {stop.task_id: stop for stop in outcome.stops}
    assert by_task["a"].attempts == 3
    assert by_task["a"].escalated_at == pytest.approx(73.0)
    assert by_task["b"].escalated_at == pytest.approx(77.0)
    assert outcome.contact_times() == {"a": None, "b": None}
    assert [stop.task_id for stop in outcome.escalated] == ["a", "b"]
    assert outcome.coverage_curve == ()
    assert outcome.time_to(0.5) is None
    # Nobody was contacted, but every household is with the lead by the end of the walk.
    assert outcome.all_settled_at == pytest.approx(77.0)
    assert outcome.workers[0].finished_at == pytest.approx(77.0)
    assert outcome.workers[0].attempts == 6
    assert outcome.workers[0].distance_metres == pytest.approx(6 * 140)
    bottlenecks = outcome.bottlenecks()
    assert bottlenecks.escalated_households == 2
    assert bottlenecks.final_share == 0.0


def test_a_due_retry_comes_before_the_next_new_stop():
    parameters = Parameters(
        **{**vars(DETERMINISTIC), "no_answer_probability": 1.0, "retry_interval_minutes": 3}
    )
    # Five households in one building: no walking, every attempt takes 2 minutes.
    route = Route("wang", north(0), [welfare(task, f"h-{task}", 0) for task in "abcde"])

    outcome = simulate([route], parameters=parameters)

    # a 5–7 (due 10), b 7–9 (due 12), c 9–11 (due 14); at 11 a is due, so it goes before d:
    # a 11–13, b 13–15, c 15–17, a 17–19 (escalated), b 19–21, c 21–23; then d 23–25 (due
    # 28), e 25–27 (due 30); wait at d until 28: 28–30 (due 33); e 30–32 (due 35); d 33–35
    # (escalated); e 35–37 (escalated).
    escalated = {stop.task_id: stop.escalated_at for stop in outcome.stops}
    assert escalated == pytest.approx({"a": 19.0, "b": 21.0, "c": 23.0, "d": 35.0, "e": 37.0})
    assert outcome.workers[0].distance_metres == 0.0


def test_households_with_several_stops_count_once_at_their_first_contact():
    route = Route(
        "wang",
        north(0),
        [welfare("a", "h1", 140), welfare("b", "h2", 350), welfare("a-again", "h1", 350)],
    )

    outcome = simulate([route], parameters=DETERMINISTIC)

    assert outcome.targeted_households == 2
    assert outcome.contacted_households == 2
    assert [share for _minute, share in outcome.coverage_curve] == [0.5, 1.0]
    assert [minute for minute, _share in outcome.coverage_curve] == pytest.approx([13.0, 22.0])
    assert outcome.time_to(1.0) == pytest.approx(22.0)


def test_unassigned_households_cap_coverage_and_are_reported():
    route = Route("wang", north(0), [welfare("a", "h1", 140), welfare("b", "h2", 350)])
    unassigned = [
        welfare("x", "h3", 500),
        welfare("y", "h4"),
        welfare("b-again", "h2", 350),  # h2 is reached through "b"
        patrol("patrol", 600),
    ]

    outcome = simulate([route], unassigned=unassigned, parameters=DETERMINISTIC)

    assert outcome.targeted_households == 4
    assert outcome.final_share == 0.5
    assert outcome.time_to(0.5) == pytest.approx(22.0)
    assert outcome.time_to(0.9) is None
    assert outcome.time_to(1.0) is None
    assert outcome.all_settled_at is None
    assert outcome.contact_times()["x"] is None
    assert outcome.contact_times()["patrol"] is None
    bottlenecks = outcome.bottlenecks()
    assert bottlenecks.unassigned_households == 2
    assert bottlenecks.escalated_households == 0
    assert bottlenecks.stranded_households == 0
    assert [worker.worker_id for worker in bottlenecks.slowest_workers] == ["wang"]


def test_a_non_responders_route_goes_to_the_nearest_responder_at_the_deadline():
    routes = [
        Route("near", north(0), [welfare("a", "h1", 140)]),
        Route("absent", north(700), [welfare("b", "h2", 840)]),
        Route("far", north(2100), [welfare("c", "h3", 2240)]),
    ]

    outcome = simulate(routes, parameters=DETERMINISTIC, absent_workers={"absent"})

    # near: a 7–13, idle until the handover at 15, walk 700 m = 10 → 25, contact ends 31.
    assert outcome.contact_times() == pytest.approx({"a": 13.0, "b": 31.0, "c": 13.0})
    workers = {worker.worker_id: worker for worker in outcome.workers}
    assert workers["absent"].responded is False
    assert workers["absent"].handed_to == "near"
    assert workers["absent"].task_count == 0
    assert workers["near"].task_count == 2
    assert workers["near"].received_task_count == 1
    by_task = {stop.task_id: stop for stop in outcome.stops}
    assert by_task["b"].assigned_worker_id == "absent"
    assert by_task["b"].worker_id == "near"
    bottlenecks = outcome.bottlenecks(top=2)
    assert [worker.worker_id for worker in bottlenecks.slowest_workers] == ["near", "far"]
    assert bottlenecks.non_responders == 1


def test_when_nobody_responds_households_are_stranded():
    routes = [Route("wang", north(0), [welfare("a", "h1", 140)])]

    outcome = simulate(
        routes, unassigned=[welfare("x", "h2")], parameters=DETERMINISTIC, absent_workers=["wang"]
    )

    assert outcome.final_share == 0.0
    bottlenecks = outcome.bottlenecks()
    assert bottlenecks.stranded_households == 1
    assert bottlenecks.unassigned_households == 1
    assert bottlenecks.slowest_workers == ()


def test_same_seed_gives_the_same_outcome_and_another_seed_a_different_one():
    routes = split(block_of_households(300), 10)

    first = simulate(routes, parameters=Parameters(seed=7))
    again = simulate(routes, parameters=Parameters(seed=7))
    other = simulate(routes, parameters=Parameters(seed=8))

    assert first == again
    assert first.contact_times() != other.contact_times()


def test_more_volunteers_on_the_same_stops_reach_full_coverage_sooner():
    stops = block_of_households(400)
    # Enough attempts that nobody is escalated, so full coverage is reached.
    parameters = [Parameters(max_attempts=10, seed=seed) for seed in range(10)]

    few = [simulate(split(stops, 5), parameters=p).time_to(1.0) for p in parameters]
    many = [simulate(split(stops, 20), parameters=p).time_to(1.0) for p in parameters]

    assert None not in few and None not in many
    assert all(m < f for m, f in zip(many, few, strict=True))
    assert sum(many) / len(many) < 0.5 * sum(few) / len(few)


def test_longer_distances_delay_full_coverage():
    near = split(block_of_households(200, spacing=20), 10)
    far = split(block_of_households(200, spacing=200), 10)
    parameters = Parameters(max_attempts=10, non_response_share=0)

    assert simulate(far, parameters=parameters).time_to(1.0) > simulate(
        near, parameters=parameters
    ).time_to(1.0)


def test_repeated_runs_differ_and_are_reproducible():
    routes = split(block_of_households(100), 5)

    runs = simulate_runs(routes, parameters=Parameters(seed=3), runs=4)

    assert len(runs) == 4
    assert len({run.household_contact_times for run in runs}) == 4
    assert runs == simulate_runs(routes, parameters=Parameters(seed=3), runs=4)


def test_summary_reports_the_figures_for_the_resilience_indicators():
    route = Route("wang", north(0), [welfare("a", "h1", 140), welfare("b", "h2", 350)])

    summary = simulate([route], unassigned=[welfare("x", "h3")], parameters=DETERMINISTIC).summary()

    assert summary["targeted_households"] == 3
    assert summary["contacted_households"] == 2
    assert summary["time_to"]["0.5"] == pytest.approx(22.0)
    assert summary["time_to"]["1.0"] is None
    assert summary["unassigned_households"] == 1
    assert summary["slowest_workers"][0]["worker_id"] == "wang"
    assert json.loads(json.dumps(summary)) == summary


def test_invalid_input_is_refused():
    with pytest.raises(ValueError, match="walking_metres_per_minute"):
        Parameters(walking_metres_per_minute=0)
    with pytest.raises(ValueError, match="no_answer_probability"):
        Parameters(no_answer_probability=1.5)
    with pytest.raises(ValueError, match="seed"):
        Parameters(seed=-1)
    with pytest.raises(ValueError, match="max_attempts"):
        Parameters(max_attempts=0)
    with pytest.raises(ValueError, match="household"):
        Stop("a", None, None, None, counts_for_coverage=True)
    with pytest.raises(ValueError, match="only once"):
        simulate([Route("w", None, [welfare("a", "h1")])], unassigned=[welfare("a", "h1")])
    with pytest.raises(ValueError, match="one route"):
        simulate([Route("w", None, []), Route("w", None, [])])


def test_a_community_sized_drill_reaches_every_household():
    # Speed is measured in bench/, never asserted here.
    outcome = simulate(split(block_of_households(2_500, columns=50), 125))
    assert outcome.targeted_households == 2_500
    assert outcome.contacted_households + outcome.escalated_households == 2_500
