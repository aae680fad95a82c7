"""Ties between people: the co-participation network of residents, and who has no tie.

Two residents are tied when they attended the same activity occurrence (a check-in) or
posted opinions on the same deliberation topic within the lookback window; the tie's weight
is the number of such shared events. Per grid unit we keep: residents, participants, the
density of the participants' subgraph (ties inside the unit over possible pairs), the share
of participants in its largest connected component, and the vulnerable residents (elderly
living alone, empty-nest, disabled, seriously ill) with no tie at all — people to visit.

The computation (`compute`) is a pure function over arrays so that a street of 100,000
residents and a million attendance records fits in seconds (bench/participation_ties.py):
attendance is grouped per event with numpy, the pairs of each event are expanded in blocks of
equal size and counted with one sort, and components come from networkx on a graph that
links each event's attendees in a star (the same components as the full clique projection,
with a fraction of the edges). `ties_rebuild` loads the rows, computes and stores
TieSnapshot / IsolatedResident; pages and the API read only those (`*_visible` below).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import networkx as nx
import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.grids.models import (
    PATH_SEPARATOR,
    GridLevel,
    GridUnit,
    Resident,
    ResidentAccount,
    VulnerabilityTag,
)
from linli.grids.selectors import scope_for
from linli.participation.models import SignUp, SignUpStatus
from linli.participation.models_deliberation import Opinion
from linli.participation.models_ties import IsolatedResident, TieSnapshot
from linli.volunteers.models import Volunteer

WINDOW_DAYS = 180
# Tags that make a resident without ties someone to visit (独居老人, 空巢, 残疾, 重病).
VISIT_TAGS = (
    VulnerabilityTag.ELDERLY_ALONE,
    VulnerabilityTag.EMPTY_NEST,
    VulnerabilityTag.DISABLED,
    VulnerabilityTag.SERIOUS_ILLNESS,
)
STORED_LEVELS = (GridLevel.COMMUNITY, GridLevel.MICRO_GRID, GridLevel.BUILDING_GROUP)
# Isolated residents hang on their micro-grid's snapshot (the unit whose lead visits them).
ISOLATED_LEVEL = GridLevel.MICRO_GRID
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


# Loading and storing ------------------------------------------------------------------------


def _user_residents() -> dict[int, int]:
    """Login → registry row: a resident's own login, or a volunteer who is a resident."""
    mapping = dict(
        Volunteer.objects.filter(user__isnull=False, resident__isnull=False).values_list(
            "user_id", "resident_id"
        )
    )
    mapping.update(ResidentAccount.objects.values_list("user_id", "resident_id"))
    return mapping


def participation_rows(*, root_path: str, since: datetime) -> tuple[list[int], list[int]]:
    """(event code, resident id) for every check-in and opinion in the window, of events
    organised inside `root_path` (the street): occurrence ids as they are, topics negated.

    An attendance is a check-in (scanned or by the organiser) inside the window; an opinion
    counts by when it was posted, hidden or not (hiding moderates the text, the person still
    took part)."""
    users = _user_residents()
    events: list[int] = []
    people: list[int] = []
    # No ORDER BY (the models' Meta orders by created_at): `compute` takes the rows as a
    # multiset, and sorting a street's million check-ins spilled to disk and cost a quarter
    # of the load (bench/participation_ties.py).
    attendance = (
        SignUp.objects.filter(
            grid_path__startswith=root_path,
            status=SignUpStatus.CONFIRMED,
            checked_in_at__gte=since,
        )
        .order_by()
        .values_list("occurrence_id", "user_id")
    )
    opinions = (
        Opinion.objects.filter(topic__grid_path__startswith=root_path, created_at__gte=since)
        .order_by()
        .values_list("topic_id", "author_id")
    )
    for rows, sign in ((attendance.iterator(chunk_size=20_000), 1), (opinions.iterator(), -1)):
        for code, user_id in rows:
            resident = users.get(user_id)
            if resident is not None:
                events.append(sign * code)
                people.append(resident)
    return events, people


def _ancestor_path(path: str, depth: int) -> str:
    parts = path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)
    return PATH_SEPARATOR + PATH_SEPARATOR.join(parts[: depth + 1]) + PATH_SEPARATOR


@transaction.atomic
def ties_rebuild(
    *, unit: GridUnit, now: datetime | None = None, window_days: int = WINDOW_DAYS
) -> list[TieSnapshot]:
    """Compute the network for `unit`'s subtree (a street, block or community) and store a
    current snapshot for each of its communities, micro-grids and building groups."""
    if unit.level not in (GridLevel.STREET, GridLevel.BLOCK, GridLevel.COMMUNITY):
        raise ValidationError({"unit": _("Rebuild ties for a street, block or community.")})
    if window_days < 1:
        raise ValidationError({"window_days": _("The lookback is at least one day.")})
    now = now or clock.now()
    units, residents = subtree_rows(unit=unit)
    events, people = participation_rows(
        root_path=_ancestor_path(unit.path, 0), since=now - timedelta(days=window_days)
    )
    result = compute(
        **compute_inputs(units=units, residents=residents, people=people),
        events=events,
        people=people,
    )
    return ties_store(
        unit=unit, units=units, residents=residents, result=result, now=now, window_days=window_days
    )


def subtree_rows(
    *, unit: GridUnit
) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """(id, path, level) of the stored units and (id, grid_path, tags) of the residents."""
    units = list(
        GridUnit.objects.filter(path__startswith=unit.path, level__in=STORED_LEVELS).values_list(
            "id", "path", "level"
        )
    )
    residents = list(
        Resident.objects.filter(grid_path__startswith=unit.path).values_list(
            "id", "grid_path", "vulnerability_tags"
        )
    )
    return units, residents


def compute_inputs(*, units, residents, people) -> dict:
    """`compute`'s resident arrays: each resident's unit per stored level, whether they carry
    a visit tag; people at shared events who live outside the subtree are appended with no
    unit, because they still give its residents ties."""
    unit_by_path = {path: unit_id for unit_id, path, _level in units}
    depth = {level: index for index, level in enumerate(GridLevel.values)}
    inside = {resident_id for resident_id, _path, _tags in residents}
    outsiders = sorted(set(people) - inside)
    level_units: dict[str, list[int]] = {}
    for level in STORED_LEVELS:
        column = [
            unit_by_path.get(_ancestor_path(path, depth[level]), NO_UNIT)
            for _resident_id, path, _tags in residents
        ]
        level_units[level] = column + [NO_UNIT] * len(outsiders)
    visit = [any(f",{tag}," in tags for tag in VISIT_TAGS) for _id, _path, tags in residents]
    return dict(
        resident_ids=[resident_id for resident_id, _path, _tags in residents] + outsiders,
        units=level_units,
        visit=visit + [False] * len(outsiders),
    )


def ties_store(
    *, unit: GridUnit, units, residents, result: TieResult, now: datetime, window_days: int
) -> list[TieSnapshot]:
    """Mark the subtree's snapshots and people to visit as history; write the new ones."""
    path_of = {unit_id: path for unit_id, path, _level in units}
    level_of = {unit_id: level for unit_id, _path, level in units}
    TieSnapshot.objects.filter(grid_path__startswith=unit.path, is_current=True).update(
        is_current=False
    )
    IsolatedResident.objects.filter(grid_path__startswith=unit.path, is_current=True).update(
        is_current=False
    )
    snapshots = TieSnapshot.objects.bulk_create(
        [
            TieSnapshot(
                unit_id=unit_id,
                grid_path=path_of[unit_id],
                level=level_of[unit_id],
                computed_at=now,
                window_days=window_days,
                residents=measures.residents,
                participants=measures.participants,
                ties=measures.ties,
                shared_events=measures.shared_events,
                density=measures.density,
                largest_component_share=measures.largest_component_share,
                isolated_vulnerable=len(measures.isolated),
            )
            for unit_id, measures in sorted(result.units.items(), key=lambda item: path_of[item[0]])
        ],
        batch_size=2_000,
    )
    resident_path = {resident_id: path for resident_id, path, _tags in residents}
    by_unit = {snapshot.unit_id: snapshot for snapshot in snapshots}
    IsolatedResident.objects.bulk_create(
        [
            IsolatedResident(
                snapshot=by_unit[unit_id], resident_id=rid, grid_path=resident_path[rid]
            )
            for unit_id, measures in result.units.items()
            if level_of[unit_id] == ISOLATED_LEVEL
            for rid in measures.isolated
        ],
        batch_size=5_000,
    )
    return snapshots


def ties_rebuild_all(*, now: datetime | None = None) -> int:
    """Every street, one transaction each (the nightly task). Returns snapshots written."""
    written = 0
    for street in GridUnit.objects.filter(level=GridLevel.STREET):
        written += len(ties_rebuild(unit=street, now=now))
    return written


# Reading (what pages and the API show) -------------------------------------------------------


def _paths(user: User | None) -> list[str]:
    # Who is isolated is read off vulnerability tags, so the whole feature sits behind
    # VIEW_SENSITIVE: micro-grid leads, building-group leaders (their group) and above.
    return scope_for(user).paths_for(Permission.VIEW_SENSITIVE)


def may_view_ties(user: User | None) -> bool:
    return bool(_paths(user))


def snapshots_visible(*, user: User | None) -> QuerySet[TieSnapshot]:
    return TieSnapshot.objects.current().within(_paths(user)).select_related("unit")


def snapshot_for_unit(*, user: User | None, unit_id: int) -> TieSnapshot | None:
    return snapshots_visible(user=user).filter(unit_id=unit_id).first()


def isolated_visible(*, user: User | None, path: str | None = None) -> QuerySet[IsolatedResident]:
    rows = IsolatedResident.objects.current().within(_paths(user))
    if path:
        rows = rows.filter(grid_path__startswith=path)
    return rows.select_related("resident__household__building").order_by("grid_path", "resident_id")


def tie_unit_get(*, user: User | None, unit_id: int) -> GridUnit:
    """A grid unit inside the user's VIEW_SENSITIVE subtrees; 404 otherwise."""
    try:
        return GridUnit.objects.within(_paths(user)).get(pk=unit_id)
    except (GridUnit.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
