"""The co-participation network's measures, a pure function over arrays (no database).

Two residents are tied when they took part in the same event (an activity occurrence they
checked in to, a deliberation topic they posted opinions on); the tie's weight is the number
of such shared events. Per grid unit: residents, participants, the density of the
participants' subgraph (ties inside the unit over possible pairs), the share of participants
in its largest connected component, and the residents with a visit tag and no tie at all.

`compute` fits a street of 100,000 residents and a million attendance records in seconds
(bench/participation_ties.py): attendance is grouped per event with numpy, the pairs of each
event are expanded in blocks of equal size and counted with one sort, and components come
from networkx on a graph that links each event's attendees in a star (the same components as
the full clique projection, with a fraction of the edges).
"""

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

# Pairs expanded per block: bounds memory when a large fair has hundreds of attendees.
PAIR_BLOCK = 4_000_000
# The unit of a resident outside the stored units (someone from elsewhere at a shared event).
NO_UNIT = -1


@dataclass
class UnitMeasures:
    residents: int = 0
    participants: int = 0
    ties: int = 0
    shared_events: int = 0
    density: float = 0.0
    largest_component_share: float | None = None
    isolated: list[int] = field(default_factory=list)


@dataclass
class TieResult:
    # unit id → measures, for every unit named in `units`.
    units: dict[int, UnitMeasures]
    # resident id → True when the resident has at least one tie (anywhere in the data).
    tied: set[int]
    pairs: int


def compute(
    *,
    resident_ids,
    units: dict[str, "np.ndarray | list[int]"],
    visit: "np.ndarray | list[bool]",
    events,
    people,
) -> TieResult:
    """The network measures for every unit.

    resident_ids: the residents (any order, unique). units: per level, the unit id of each
    resident (aligned with resident_ids; NO_UNIT for a resident outside the stored units,
    e.g. someone from another community at a shared event). visit: whether each resident
    carries a visit tag. events, people: one row per attendance or opinion (event code,
    resident id); duplicates and unknown residents are ignored.
    """
    resident_ids = np.asarray(resident_ids, dtype=np.int64)
    visit = np.asarray(visit, dtype=bool)
    order = np.argsort(resident_ids, kind="stable")
    sorted_ids = resident_ids[order]
    count = len(resident_ids)

    events = np.asarray(events, dtype=np.int64)
    people = np.asarray(people, dtype=np.int64)
    position = np.searchsorted(sorted_ids, people)
    known = (position < count) & (sorted_ids[np.minimum(position, max(count - 1, 0))] == people)
    person = order[position[known]] if count else np.zeros(0, dtype=np.int64)
    _, event = np.unique(events[known], return_inverse=True)
    event = event.astype(np.int64).ravel()
    # One row per (event, person): attending twice or posting five opinions is one presence.
    key = np.unique(event * max(count, 1) + person)
    event, person = key // max(count, 1), key % max(count, 1)

    size = np.bincount(event) if len(event) else np.zeros(0, dtype=np.int64)
    tied_mask = np.zeros(count, dtype=bool)
    tied_mask[person[size[event] >= 2]] = True
    present = np.zeros(count, dtype=bool)
    present[person] = True

    result: dict[int, UnitMeasures] = {}
    pairs_total = 0
    for unit_of in units.values():
        unit_of = np.asarray(unit_of, dtype=np.int64)
        measures, pairs = _level_measures(unit_of, event, person, present, count)
        pairs_total += pairs
        for index in np.flatnonzero(visit & ~tied_mask & (unit_of != NO_UNIT)):
            measures[int(unit_of[index])].isolated.append(int(resident_ids[index]))
        result.update(measures)
    for item in result.values():
        item.isolated.sort()
    return TieResult(
        units=result, tied={int(rid) for rid in resident_ids[tied_mask]}, pairs=pairs_total
    )


def _level_measures(
    unit_of: np.ndarray, event: np.ndarray, person: np.ndarray, present: np.ndarray, count: int
) -> tuple[dict[int, UnitMeasures], int]:
    inside = unit_of != NO_UNIT
    unit_ids = np.unique(unit_of[inside])
    measures = {int(unit): UnitMeasures() for unit in unit_ids}
    if not len(unit_ids):
        return measures, 0
    # Dense unit numbers for bincount.
    dense = np.full(len(unit_of), -1, dtype=np.int64)
    dense[inside] = np.searchsorted(unit_ids, unit_of[inside])
    residents = np.bincount(dense[inside], minlength=len(unit_ids))
    participants = np.bincount(dense[inside & present], minlength=len(unit_ids))

    # A unit's subgraph: an event's attendees who live in that unit, grouped per (unit, event).
    local = dense[person] >= 0
    group_unit, group_event, member = dense[person][local], event[local], person[local]
    order = np.lexsort((member, group_event, group_unit))
    group_unit, group_event, member = group_unit[order], group_event[order], member[order]
    boundary = (group_unit[1:] != group_unit[:-1]) | (group_event[1:] != group_event[:-1])
    starts = np.flatnonzero(np.r_[len(member) > 0, boundary])
    sizes = np.diff(np.r_[starts, len(member)])

    codes = _pair_codes(member, starts, sizes, count)
    edges, weights = np.unique(codes, return_counts=True)
    edge_unit = dense[edges // count]
    ties = np.bincount(edge_unit, minlength=len(unit_ids))
    shared = np.bincount(edge_unit, weights=weights, minlength=len(unit_ids))

    largest = _largest_components(member, starts, sizes, dense, present, len(unit_ids), count)
    for index, unit in enumerate(unit_ids):
        n = int(participants[index])
        item = measures[int(unit)]
        item.residents = int(residents[index])
        item.participants = n
        item.ties = int(ties[index])
        item.shared_events = int(shared[index])
        item.density = (2 * item.ties / (n * (n - 1))) if n >= 2 else 0.0
        item.largest_component_share = (int(largest[index]) / n) if n else None
    return measures, len(codes)


def _pair_codes(member: np.ndarray, starts: np.ndarray, sizes: np.ndarray, count: int):
    """Every pair (a < b) of each group as a*count + b, expanded per group size in blocks."""
    chunks = [np.zeros(0, dtype=np.int64)]
    for k in np.unique(sizes[sizes >= 2]):
        k = int(k)
        first, second = np.triu_indices(k, 1)
        group_starts = starts[sizes == k]
        per_block = max(1, PAIR_BLOCK // len(first))
        for offset in range(0, len(group_starts), per_block):
            block = group_starts[offset : offset + per_block]
            rows = member[block[:, None] + np.arange(k)]
            # Members are sorted within a group, so a < b.
            chunks.append((rows[:, first] * count + rows[:, second]).ravel())
    return np.concatenate(chunks)


def _largest_components(member, starts, sizes, dense, present, units: int, count: int):
    """Largest connected component per unit (in participants), with networkx.

    Each group links its first member to the others: a star has the clique's components."""
    hub = np.repeat(member[starts], sizes)
    star = hub != member
    codes = np.unique(hub[star] * count + member[star])
    graph = nx.Graph()
    graph.add_nodes_from(np.flatnonzero(present & (dense >= 0)).tolist())
    graph.add_edges_from(zip((codes // count).tolist(), (codes % count).tolist(), strict=True))
    largest = np.zeros(units, dtype=np.int64)
    for component in nx.connected_components(graph):
        unit = dense[next(iter(component))]
        largest[unit] = max(largest[unit], len(component))
    return largest


def network(*, events, people) -> nx.Graph:
    """The full weighted co-participation graph (resident ids as nodes), for small sets:
    inspection, tests and the cross-check of `compute` against networkx's own measures."""
    by_event: dict[int, set[int]] = {}
    for code, resident in zip(events, people, strict=True):
        by_event.setdefault(int(code), set()).add(int(resident))
    graph = nx.Graph()
    for attendees in by_event.values():
        ordered = sorted(attendees)
        graph.add_nodes_from(ordered)
        for index, a in enumerate(ordered):
            for b in ordered[index + 1 :]:
                weight = graph.get_edge_data(a, b, {"weight": 0})["weight"]
                graph.add_edge(a, b, weight=weight + 1)
    return graph
