"""Ties between people: the co-participation network of residents, and who has no tie.

Two residents are tied when they attended the same activity occurrence (a check-in) or
posted opinions on the same deliberation topic within the lookback window (ties.measures
computes the network). The vulnerable residents (elderly living alone, empty-nest,
disabled, seriously ill) with no tie at all are people to visit. `ties_rebuild` loads the
rows, computes and stores TieSnapshot / IsolatedResident; pages and the API read only those
(ties.selectors).
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import path_at_depth, within
from linli.grids.models import (
    GRID_LEVEL_ORDER,
    GridLevel,
    GridUnit,
    Resident,
    ResidentAccount,
    VulnerabilityTag,
)
from linli.participation.activities.models import SignUp, SignUpStatus
from linli.participation.deliberation.models import Opinion
from linli.participation.ties.measures import NO_UNIT, TieResult, compute
from linli.participation.ties.models import IsolatedResident, TieSnapshot
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
# path_at_depth counts from the street (1): the network is built per street.
STREET_DEPTH = 1


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
            within([root_path]),
            status=SignUpStatus.CONFIRMED,
            checked_in_at__gte=since,
        )
        .order_by()
        .values_list("occurrence_id", "user_id")
    )
    opinions = (
        Opinion.objects.filter(within([root_path], "topic__grid_path"), created_at__gte=since)
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
        root_path=path_at_depth(unit.path, STREET_DEPTH), since=now - timedelta(days=window_days)
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
        GridUnit.objects.within([unit.path])
        .filter(level__in=STORED_LEVELS)
        .values_list("id", "path", "level")
    )
    residents = list(
        Resident.objects.within([unit.path]).values_list("id", "grid_path", "vulnerability_tags")
    )
    return units, residents


def compute_inputs(*, units, residents, people) -> dict:
    """`compute`'s resident arrays: each resident's unit per stored level, whether they carry
    a visit tag; people at shared events who live outside the subtree are appended with no
    unit, because they still give its residents ties."""
    unit_by_path = {path: unit_id for unit_id, path, _level in units}
    depth = {level: GRID_LEVEL_ORDER.index(level) + 1 for level in STORED_LEVELS}
    inside = {resident_id for resident_id, _path, _tags in residents}
    outsiders = sorted(set(people) - inside)
    level_units: dict[str, list[int]] = {}
    for level in STORED_LEVELS:
        column = [
            unit_by_path.get(path_at_depth(path, depth[level]), NO_UNIT)
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
    TieSnapshot.objects.within([unit.path]).filter(is_current=True).update(is_current=False)
    IsolatedResident.objects.within([unit.path]).filter(is_current=True).update(is_current=False)
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
