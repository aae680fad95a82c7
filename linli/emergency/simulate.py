"""Simulated drills: predict how long welfare contact of every targeted household takes.

Pure functions on plain data (no Django), so the `linli drill simulate` command, the
resilience indicators, the tests and bench/ share one definition.

The input is the assignment a real activation would make: one `Route` per volunteer (their
tasks in walking order) plus the tasks nobody got. The model, in minutes from activation:

1. Acknowledgement. Each volunteer acknowledges after a lognormal delay (median
   `acknowledge_delay_median_minutes`, log-scale spread `acknowledge_delay_sigma`). A share
   `non_response_share` never responds at all (plus any `absent_workers` named by the
   caller). Slow responders keep their tasks; only non-responders are replaced.
2. Handover of a non-responder's route. At `acknowledge_minutes` the micro-grid lead hands
   the whole route, in its order, to the nearest responding volunteer, measured between the
   routes' anchors (the start, or else the first stop with coordinates). Without anchors
   on either side it goes to the responding volunteer with the fewest tasks so far. Ties
   go to the earlier route. Non-responders are handled in route order, so a volunteer's
   load includes earlier handovers. If nobody responds, the stops are never done and the
   households are counted as "stranded".
3. Walking. Legs are straight lines on a local flat projection times `detour_factor`
   (streets are not straight), at `walking_metres_per_minute`. A leg from or to a place
   without coordinates (a volunteer with no start, a stop with no location) counts as
   `default_leg_metres`.
4. Attempts. A welfare check (a stop that counts for coverage) is answered with probability
   1 - `no_answer_probability`; the contact then takes a lognormal time (median
   `contact_median_minutes`, spread `contact_sigma`) and the household is contacted when it
   ends (the moment the volunteer can report the outcome). An unanswered attempt takes
   `no_answer_minutes` (knocking, calling). Stops that do not count for coverage (patrols,
   supply runs) always succeed and take the contact time.
5. Retries. An unanswered stop is due again `retry_interval_minutes` after its failed
   attempt ended. Whenever a volunteer is free, they take the earliest due retry if one is
   due; otherwise the next stop of their route; once the route is done they walk to the
   earliest retry and wait at the door until it is due. A stop handed over is not known
   before the handover, so a volunteer who runs out of work waits for it (or does a retry
   that comes due sooner). After `max_attempts` unanswered attempts the stop is escalated
   at the end of the last attempt: it is NOT counted as contacted, and is listed so the
   micro-grid lead can follow up.

Coverage is the share of ALL targeted households (those on routes and those only in the
unassigned list) contacted at least once; a household with several stops counts once, at
its first contact.

All randomness is drawn up front from `numpy.random.default_rng(seed)` in fixed-shape arrays
(per volunteer, per stop and attempt), so a run is reproducible and changing one volunteer's
order does not reshuffle everyone else's luck. The walk itself is a plain event loop per
volunteer (volunteers do not interact after the handover), linear in the number of attempts.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Collection, Hashable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

EARTH_RADIUS_METRES = 6_371_008.8
METRES_PER_DEGREE = EARTH_RADIUS_METRES * math.pi / 180

# Shares reported by `Outcome.summary()` (kept for the resilience indicators).
SUMMARY_SHARES = (0.5, 0.8, 0.9, 0.95, 1.0)


@dataclass(frozen=True, slots=True)
class Stop:
    """One task at one place. Welfare checks of targeted households count for coverage."""

    task_id: Hashable
    household_id: Hashable | None
    latitude: float | None
    longitude: float | None
    counts_for_coverage: bool

    def __post_init__(self) -> None:
        if self.counts_for_coverage and self.household_id is None:
            raise ValueError(f"Stop {self.task_id!r} counts for coverage but has no household.")


@dataclass(frozen=True, slots=True)
class Route:
    """A volunteer's stops in walking order; `start` is (latitude, longitude) or None."""

    worker_id: Hashable
    start: tuple[float, float] | None
    stops: Sequence[Stop]

    def __post_init__(self) -> None:
        object.__setattr__(self, "stops", tuple(self.stops))


@dataclass(frozen=True)
class Parameters:
    """Every assumption of the model, with defaults for an urban residential community."""

    # Lognormal delay until a volunteer acknowledges the activation.
    acknowledge_delay_median_minutes: float = 5.0
    acknowledge_delay_sigma: float = 0.8
    # Share of volunteers who never respond; their routes are handed over at the deadline.
    non_response_share: float = 0.05
    acknowledge_minutes: float = 15.0
    walking_metres_per_minute: float = 70.0
    # Street distance over straight-line distance.
    detour_factor: float = 1.3
    default_leg_metres: float = 150.0
    # Lognormal duration of one answered contact (or one patrol/supply task).
    contact_median_minutes: float = 6.0
    contact_sigma: float = 0.5
    no_answer_probability: float = 0.15
    no_answer_minutes: float = 2.0
    retry_interval_minutes: float = 30.0
    max_attempts: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        for name in (
            "acknowledge_delay_median_minutes",
            "acknowledge_delay_sigma",
            "acknowledge_minutes",
            "detour_factor",
            "default_leg_metres",
            "contact_median_minutes",
            "contact_sigma",
            "no_answer_minutes",
            "retry_interval_minutes",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number ≥ 0, not {value!r}.")
        for name in ("non_response_share", "no_answer_probability"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value <= 1):
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}.")
        speed = self.walking_metres_per_minute
        if not (isinstance(speed, int | float) and math.isfinite(speed) and speed > 0):
            raise ValueError(f"walking_metres_per_minute must be > 0, not {speed!r}.")
        if not (isinstance(self.seed, int) and self.seed >= 0):
            raise ValueError(f"seed must be an integer ≥ 0, not {self.seed!r}.")
        if not (isinstance(self.max_attempts, int) and self.max_attempts >= 1):
            raise ValueError(f"max_attempts must be an integer ≥ 1, not {self.max_attempts!r}.")


@dataclass(frozen=True, slots=True)
class StopResult:
    task_id: Hashable
    household_id: Hashable | None
    counts_for_coverage: bool
    # The volunteer on whose route the stop was, and the one who did it (differs after a
    # handover); both None for an unassigned stop, worker_id None for a stranded one.
    assigned_worker_id: Hashable | None
    worker_id: Hashable | None
    attempts: int
    # End of the successful attempt (the contact time for a welfare check), else None.
    done_at: float | None
    # End of the last unanswered attempt when the stop was escalated, else None.
    escalated_at: float | None

    @property
    def contacted(self) -> bool:
        return self.counts_for_coverage and self.done_at is not None


@dataclass(frozen=True, slots=True)
class WorkerResult:
    worker_id: Hashable
    responded: bool
    acknowledged_at: float | None
    # End of the volunteer's last attempt (None if they did nothing).
    finished_at: float | None
    # Stops done or attempted: their own plus those handed to them.
    task_count: int
    received_task_count: int
    attempts: int
    distance_metres: float
    # For a non-responder: who took over their route (None if nobody could).
    handed_to: Hashable | None


@dataclass(frozen=True)
class Bottlenecks:
    """What holds coverage back: the last volunteers to finish and the households not reached.

    The three household counts split the households never contacted: escalated (a volunteer
    tried `max_attempts` times), stranded (their volunteer never responded and nobody could
    take over), unassigned (no volunteer at all). A household in several groups is counted in
    the first that applies, so the counts add up to targeted - contacted.
    """

    slowest_workers: tuple[WorkerResult, ...]
    final_share: float
    targeted_households: int
    contacted_households: int
    escalated_households: int
    stranded_households: int
    unassigned_households: int
    non_responders: int


@dataclass(frozen=True)
class Outcome:
    parameters: Parameters
    stops: tuple[StopResult, ...]
    workers: tuple[WorkerResult, ...]
    targeted_households: int
    # First-contact minute of every contacted household, ascending.
    household_contact_times: tuple[float, ...]
    escalated_households: int
    stranded_households: int
    unassigned_households: int
    # Minute by which every targeted household was contacted or escalated to the micro-grid
    # lead; None if some have no volunteer. Unlike time_to(1.0) it exists for a large
    # community, where a few households never answer (0.15³ of them with the defaults).
    all_settled_at: float | None

    @property
    def contacted_households(self) -> int:
        return len(self.household_contact_times)

    @property
    def final_share(self) -> float:
        if self.targeted_households == 0:
            return 1.0
        return self.contacted_households / self.targeted_households

    @property
    def coverage_curve(self) -> tuple[tuple[float, float], ...]:
        """(minute, share contacted by then) at each minute the share rises, ascending."""
        if not self.household_contact_times:
            return ()
        times, counts = np.unique(np.asarray(self.household_contact_times), return_counts=True)
        shares = np.cumsum(counts) / self.targeted_households
        return tuple(zip(times.tolist(), shares.tolist(), strict=True))

    def time_to(self, share: float) -> float | None:
        """Minutes until at least `share` of the targeted households were contacted.

        None if the simulation never gets there; 0.0 if nothing is needed (share 0, or no
        targeted households at all).
        """
        if not 0 <= share <= 1:
            raise ValueError(f"share must be between 0 and 1, not {share!r}.")
        # Count households rather than compare float shares, so 0.9 of 10 is exactly 9.
        needed = math.ceil(share * self.targeted_households - 1e-9)
        if needed <= 0:
            return 0.0
        if needed > self.contacted_households:
            return None
        return self.household_contact_times[needed - 1]

    def contact_times(self) -> dict[Hashable, float | None]:
        """task_id → minute the task was done (contact made), None if it never was."""
        return {stop.task_id: stop.done_at for stop in self.stops}

    @property
    def escalated(self) -> tuple[StopResult, ...]:
        return tuple(stop for stop in self.stops if stop.escalated_at is not None)

    def bottlenecks(self, top: int = 5) -> Bottlenecks:
        working = [w for w in self.workers if w.finished_at is not None]
        # Last to finish first; on a tie the heavier load is the likelier cause.
        working.sort(key=lambda w: (-w.finished_at, -w.task_count))
        return Bottlenecks(
            slowest_workers=tuple(working[:top]),
            final_share=self.final_share,
            targeted_households=self.targeted_households,
            contacted_households=self.contacted_households,
            escalated_households=self.escalated_households,
            stranded_households=self.stranded_households,
            unassigned_households=self.unassigned_households,
            non_responders=sum(1 for w in self.workers if not w.responded),
        )

    def summary(self, top: int = 5) -> dict:
        """JSON-ready figures to keep with the drill (worker ids must be JSON values)."""
        bottlenecks = self.bottlenecks(top)
        return {
            "parameters": asdict(self.parameters),
            "targeted_households": self.targeted_households,
            "contacted_households": self.contacted_households,
            "final_share": self.final_share,
            "time_to": {str(share): self.time_to(share) for share in SUMMARY_SHARES},
            "escalated_households": self.escalated_households,
            "stranded_households": self.stranded_households,
            "unassigned_households": self.unassigned_households,
            "all_settled_at": self.all_settled_at,
            "non_responders": bottlenecks.non_responders,
            "workers": len(self.workers),
            "slowest_workers": [asdict(worker) for worker in bottlenecks.slowest_workers],
        }


def simulate(
    routes: Sequence[Route],
    *,
    unassigned: Sequence[Stop] = (),
    parameters: Parameters | None = None,
    absent_workers: Collection[Hashable] = (),
) -> Outcome:
    """Run one simulated drill. `absent_workers` never respond, on top of the random share."""
    parameters = parameters or Parameters()
    rng = np.random.default_rng(parameters.seed)
    return _run(list(routes), list(unassigned), parameters, frozenset(absent_workers), rng)


def simulate_runs(
    routes: Sequence[Route],
    *,
    unassigned: Sequence[Stop] = (),
    parameters: Parameters | None = None,
    absent_workers: Collection[Hashable] = (),
    runs: int = 20,
) -> tuple[Outcome, ...]:
    """Repeat the drill with independent streams derived from the seed, for spreads."""
    parameters = parameters or Parameters()
    routes, unassigned, absent = list(routes), list(unassigned), frozenset(absent_workers)
    return tuple(
        _run(routes, unassigned, parameters, absent, np.random.default_rng([parameters.seed, run]))
        for run in range(runs)
    )


def _coordinates(points: list[tuple[float | None, float | None]]) -> np.ndarray:
    """(latitude, longitude) rows, NaN where either is missing."""
    array = np.array(
        [(math.nan, math.nan) if lat is None or lng is None else (lat, lng) for lat, lng in points],
        dtype=float,
    ).reshape(-1, 2)
    missing = np.isnan(array).any(axis=1)
    array[missing] = math.nan
    return array


def _run(
    routes: list[Route],
    unassigned: list[Stop],
    parameters: Parameters,
    absent: frozenset,
    rng: np.random.Generator,
) -> Outcome:
    worker_ids = [route.worker_id for route in routes]
    if len(set(worker_ids)) != len(worker_ids):
        raise ValueError("Each volunteer may have only one route.")
    stops = [stop for route in routes for stop in route.stops]
    task_ids = [stop.task_id for stop in stops] + [stop.task_id for stop in unassigned]
    if len(set(task_ids)) != len(task_ids):
        raise ValueError("Each task may appear only once across routes and unassigned stops.")

    worker_count, stop_count, max_attempts = len(routes), len(stops), parameters.max_attempts
    lengths = [len(route.stops) for route in routes]
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).tolist()

    # Local flat projection around the mean latitude: metres, exact enough within a street.
    stop_coordinates = _coordinates([(stop.latitude, stop.longitude) for stop in stops])
    start_coordinates = _coordinates(
        [route.start if route.start is not None else (None, None) for route in routes]
    )
    latitudes = np.concatenate([stop_coordinates[:, 0], start_coordinates[:, 0]])
    known = latitudes[~np.isnan(latitudes)]
    reference = math.cos(math.radians(float(known.mean()))) if known.size else 1.0

    def project(coordinates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (
            coordinates[:, 1] * reference * METRES_PER_DEGREE,
            coordinates[:, 0] * METRES_PER_DEGREE,
        )

    stop_x, stop_y = project(stop_coordinates)
    start_x, start_y = project(start_coordinates)

    # All randomness, in a fixed order and shape.
    acknowledge_normal = rng.standard_normal(worker_count)
    response_uniform = rng.random(worker_count)
    contact_normal = rng.standard_normal((stop_count, max_attempts))
    answer_uniform = rng.random((stop_count, max_attempts))

    acknowledged = parameters.acknowledge_delay_median_minutes * np.exp(
        parameters.acknowledge_delay_sigma * acknowledge_normal
    )
    responded = response_uniform >= parameters.non_response_share
    if absent:
        responded &= np.array([worker_id not in absent for worker_id in worker_ids], dtype=bool)
    contact_minutes = parameters.contact_median_minutes * np.exp(
        parameters.contact_sigma * contact_normal
    )
    counts = np.fromiter((stop.counts_for_coverage for stop in stops), dtype=bool, count=stop_count)
    answered = (answer_uniform >= parameters.no_answer_probability) | ~counts[:, None]

    # Each volunteer's queue: (first stop index, end index, available from) segments.
    queues: list[list[tuple[int, int, float]]] = [[] for _ in range(worker_count)]
    loads = [0] * worker_count
    for worker in range(worker_count):
        if responded[worker] and lengths[worker]:
            queues[worker].append(
                (offsets[worker], offsets[worker + 1], float(acknowledged[worker]))
            )
            loads[worker] = lengths[worker]
    handed_to: list[int | None] = [None] * worker_count
    received = [0] * worker_count
    stranded = np.zeros(stop_count, dtype=bool)
    _hand_over(
        parameters=parameters,
        lengths=lengths,
        offsets=offsets,
        responded=responded,
        anchors=_anchors(start_x, start_y, stop_x, stop_y, offsets),
        queues=queues,
        loads=loads,
        handed_to=handed_to,
        received=received,
        stranded=stranded,
    )

    # Plain Python lists: scalar indexing into numpy arrays is far slower in the loop.
    x_list, y_list = stop_x.tolist(), stop_y.tolist()
    has_place = (~np.isnan(stop_x)).tolist()
    # Flat (stop × attempt) lists: one list of floats is much cheaper than 400,000 small ones.
    contact_list = contact_minutes.ravel().tolist()
    answered_list = answered.ravel().tolist()
    done_at: list[float | None] = [None] * stop_count
    escalated_at: list[float | None] = [None] * stop_count
    attempts = [0] * stop_count
    executor: list[int | None] = [None] * stop_count
    distances = [0.0] * worker_count
    finished: list[float | None] = [None] * worker_count
    worker_attempts = [0] * worker_count

    speed = parameters.walking_metres_per_minute
    detour = parameters.detour_factor
    default_leg = parameters.default_leg_metres
    no_answer = parameters.no_answer_minutes
    interval = parameters.retry_interval_minutes

    for worker in range(worker_count):
        if not queues[worker]:
            continue
        fresh = deque(
            (index, available)
            for first, end, available in queues[worker]
            for index in range(first, end)
        )
        for index, _available in fresh:
            executor[index] = worker
        now = float(acknowledged[worker])
        at_place = not math.isnan(start_x[worker])
        here_x, here_y = float(start_x[worker]), float(start_y[worker])
        retries: list[tuple[float, int, int]] = []  # (due, sequence, stop index)
        sequence = 0
        walked = 0.0
        count = 0
        while fresh or retries:
            due = 0.0
            if retries and retries[0][0] <= now:
                due, _, index = heapq.heappop(retries)
            elif fresh and (fresh[0][1] <= now or not retries or fresh[0][1] < retries[0][0]):
                index, available = fresh.popleft()
                if available > now:
                    now = available  # waits where they are until the handover arrives
            else:
                due, _, index = heapq.heappop(retries)
            if at_place and has_place[index]:
                leg = math.hypot(x_list[index] - here_x, y_list[index] - here_y) * detour
            else:
                leg = default_leg
            walked += leg
            arrival = now + leg / speed
            if arrival < due:
                arrival = due  # waits at the door until the retry interval has passed
            attempt = attempts[index]
            attempts[index] = attempt + 1
            count += 1
            draw = index * max_attempts + attempt
            if answered_list[draw]:
                now = arrival + contact_list[draw]
                done_at[index] = now
            else:
                now = arrival + no_answer
                if attempt + 1 >= max_attempts:
                    escalated_at[index] = now
                else:
                    heapq.heappush(retries, (now + interval, sequence, index))
                    sequence += 1
            at_place = has_place[index]
            if at_place:
                here_x, here_y = x_list[index], y_list[index]
        distances[worker] = walked
        finished[worker] = now
        worker_attempts[worker] = count

    return _outcome(
        parameters=parameters,
        routes=routes,
        stops=stops,
        unassigned=unassigned,
        offsets=offsets,
        responded=responded,
        acknowledged=acknowledged,
        loads=loads,
        received=received,
        handed_to=handed_to,
        stranded=stranded,
        executor=executor,
        attempts=attempts,
        done_at=done_at,
        escalated_at=escalated_at,
        distances=distances,
        finished=finished,
        worker_attempts=worker_attempts,
    )


def _anchors(
    start_x: np.ndarray,
    start_y: np.ndarray,
    stop_x: np.ndarray,
    stop_y: np.ndarray,
    offsets: list[int],
) -> tuple[np.ndarray, np.ndarray]:
    """Where each route is: its start, else its first stop with coordinates, else NaN."""
    anchor_x, anchor_y = start_x.copy(), start_y.copy()
    for worker in np.flatnonzero(np.isnan(anchor_x)).tolist():
        segment = stop_x[offsets[worker] : offsets[worker + 1]]
        placed = np.flatnonzero(~np.isnan(segment))
        if placed.size:
            index = offsets[worker] + int(placed[0])
            anchor_x[worker], anchor_y[worker] = stop_x[index], stop_y[index]
    return anchor_x, anchor_y


def _hand_over(
    *,
    parameters: Parameters,
    lengths: list[int],
    offsets: list[int],
    responded: np.ndarray,
    anchors: tuple[np.ndarray, np.ndarray],
    queues: list[list[tuple[int, int, float]]],
    loads: list[int],
    handed_to: list[int | None],
    received: list[int],
    stranded: np.ndarray,
) -> None:
    """Give each non-responder's route to the nearest responding volunteer (module docstring)."""
    anchor_x, anchor_y = anchors
    candidates = np.flatnonzero(responded)
    placed = candidates[~np.isnan(anchor_x[candidates])]
    for worker in np.flatnonzero(~responded).tolist():
        if not lengths[worker]:
            continue
        if not candidates.size:
            stranded[offsets[worker] : offsets[worker + 1]] = True
            continue
        if placed.size and not math.isnan(anchor_x[worker]):
            distance = np.hypot(
                anchor_x[placed] - anchor_x[worker], anchor_y[placed] - anchor_y[worker]
            )
            taker = int(placed[int(np.argmin(distance))])
        else:
            taker = int(candidates[int(np.argmin(np.asarray(loads)[candidates]))])
        # The handover happens at the deadline; the taker cannot start it before acknowledging.
        queues[taker].append((offsets[worker], offsets[worker + 1], parameters.acknowledge_minutes))
        loads[taker] += lengths[worker]
        received[taker] += lengths[worker]
        handed_to[worker] = taker


def _outcome(
    *,
    parameters: Parameters,
    routes: list[Route],
    stops: list[Stop],
    unassigned: list[Stop],
    offsets: list[int],
    responded: np.ndarray,
    acknowledged: np.ndarray,
    loads: list[int],
    received: list[int],
    handed_to: list[int | None],
    stranded: np.ndarray,
    executor: list[int | None],
    attempts: list[int],
    done_at: list[float | None],
    escalated_at: list[float | None],
    distances: list[float],
    finished: list[float | None],
    worker_attempts: list[int],
) -> Outcome:
    worker_ids = [route.worker_id for route in routes]
    owner = np.repeat(np.arange(len(routes)), np.diff(offsets)).tolist()
    stop_results = [
        StopResult(
            task_id=stop.task_id,
            household_id=stop.household_id,
            counts_for_coverage=stop.counts_for_coverage,
            assigned_worker_id=worker_ids[owner[index]],
            worker_id=None if executor[index] is None else worker_ids[executor[index]],
            attempts=attempts[index],
            done_at=done_at[index],
            escalated_at=escalated_at[index],
        )
        for index, stop in enumerate(stops)
    ]
    stop_results.extend(
        StopResult(
            task_id=stop.task_id,
            household_id=stop.household_id,
            counts_for_coverage=stop.counts_for_coverage,
            assigned_worker_id=None,
            worker_id=None,
            attempts=0,
            done_at=None,
            escalated_at=None,
        )
        for stop in unassigned
    )

    # Households: first contact, and why the others were never reached.
    household_index: dict[Hashable, int] = {}
    rows, times, escalated_rows, escalated_times, stranded_rows = [], [], [], [], []
    for index, stop in enumerate(stops):
        if not stop.counts_for_coverage:
            continue
        row = household_index.setdefault(stop.household_id, len(household_index))
        if done_at[index] is not None:
            rows.append(row)
            times.append(done_at[index])
        elif escalated_at[index] is not None:
            escalated_rows.append(row)
            escalated_times.append(escalated_at[index])
        elif stranded[index]:
            stranded_rows.append(row)
    for stop in unassigned:
        if stop.counts_for_coverage:
            household_index.setdefault(stop.household_id, len(household_index))
    household_count = len(household_index)
    first_contact = np.full(household_count, math.inf)
    np.minimum.at(first_contact, np.asarray(rows, dtype=np.int64), np.asarray(times, dtype=float))
    uncontacted = np.isinf(first_contact)
    escalated_households = np.zeros(household_count, dtype=bool)
    escalated_households[np.asarray(escalated_rows, dtype=np.int64)] = True
    escalated_households &= uncontacted
    stranded_households = np.zeros(household_count, dtype=bool)
    stranded_households[np.asarray(stranded_rows, dtype=np.int64)] = True
    stranded_households &= uncontacted & ~escalated_households
    unassigned_count = int(
        uncontacted.sum() - escalated_households.sum() - stranded_households.sum()
    )
    # Settled: contacted, or escalated to the lead after the last attempt at any of its stops.
    last_escalation = np.full(household_count, -math.inf)
    np.maximum.at(
        last_escalation,
        np.asarray(escalated_rows, dtype=np.int64),
        np.asarray(escalated_times, dtype=float),
    )
    settled_at = np.where(uncontacted, last_escalation, first_contact)
    if not household_count:
        all_settled_at = 0.0
    elif np.isneginf(settled_at).any():
        all_settled_at = None
    else:
        all_settled_at = float(settled_at.max())

    workers = tuple(
        WorkerResult(
            worker_id=worker_ids[worker],
            responded=bool(responded[worker]),
            acknowledged_at=float(acknowledged[worker]) if responded[worker] else None,
            finished_at=finished[worker],
            task_count=loads[worker] if responded[worker] else 0,
            received_task_count=received[worker],
            attempts=worker_attempts[worker],
            distance_metres=distances[worker],
            handed_to=None if handed_to[worker] is None else worker_ids[handed_to[worker]],
        )
        for worker in range(len(routes))
    )
    return Outcome(
        parameters=parameters,
        stops=tuple(stop_results),
        workers=workers,
        targeted_households=household_count,
        household_contact_times=tuple(np.sort(first_contact[~uncontacted]).tolist()),
        escalated_households=int(escalated_households.sum()),
        stranded_households=int(stranded_households.sum()),
        unassigned_households=unassigned_count,
        all_settled_at=all_settled_at,
    )
