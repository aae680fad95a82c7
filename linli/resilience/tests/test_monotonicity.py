"""Evidence that the index means something (issue 7): generated communities with one
dimension deliberately weakened score lower on that sub-index and EXACTLY the same on the
other two; and improving a single indicator moves its sub-index up and nothing else.

The communities come from synthetic.py: the same seed gives the same rows, and every knob
feeds one dimension only (see its docstring), so a weakened community differs from the
baseline in the rows of one dimension alone. Each is measured over the same quarter (91
days, so that every generated case falls inside the period) with the same end.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.accounts.roles import Role
from linli.emergency.drills import drill_simulate
from linli.grids.services import role_assign, visit_record
from linli.participation.deliberation.models import StakeholderGroup, Topic
from linli.participation.deliberation.services import opinion_post, stakeholder_membership_add
from linli.resilience.catalogue import indicators
from linli.resilience.engine import context_for
from linli.resilience.services import compute_all
from linli.resilience.tests.synthetic import (
    WEAK_CAPACITY,
    WEAK_CULTURE,
    WEAK_STRUCTURE,
    Knobs,
    average_ranks,
    community_build,
    generated_user,
    spearman,
    weakened,
)
from linli.supplies.models import SupplyItem
from linli.supplies.services import stock_move

pytestmark = pytest.mark.django_db

PERIOD_DAYS = 91
DIMENSIONS = ("structural", "capacity", "cultural")
PREFIX = {"structural": "S_", "capacity": "C_", "cultural": "K_"}


def measured(community, end):
    """(index of the community, indicator code → value) over the quarter up to `end`."""
    computed = compute_all(context_for(community.unit, end=end, days=PERIOD_DAYS))
    path = community.unit.path
    values = {code: by_path[path].value for code, by_path in computed.measures.items()}
    return computed.index[path], values


def end_after_generation():
    # Services stamp "now": the period must end after the last row was written.
    return timezone.now() + timedelta(seconds=1)


def test_the_baseline_community_gives_every_indicator_but_the_drills_a_value():
    # The generator is complete: an indicator added to the catalogue without a source the
    # generator fills shows up here, not as a silently smaller average.
    community = community_build(knobs=Knobs(), code="BASE", seed=7)
    index, values = measured(community, end_after_generation())
    drills = {"C_DRILL_90", "C_DRILL_100"}
    assert {code for code, value in values.items() if value is None} == drills
    assert set(values) == {indicator.code for indicator in indicators()}
    for dimension in DIMENSIONS:
        assert 0 < index[dimension] <= 1


@pytest.mark.parametrize(
    ("dimension", "changes"),
    [
        ("structural", WEAK_STRUCTURE),
        ("capacity", WEAK_CAPACITY),
        ("cultural", WEAK_CULTURE),
    ],
)
def test_weakening_one_dimension_lowers_its_sub_index_and_leaves_the_others_exactly(
    dimension, changes
):
    baseline = community_build(knobs=Knobs(), code="BASE", seed=7)
    weak = community_build(knobs=weakened(Knobs(), changes), code="WEAK", seed=7)
    end = end_after_generation()
    base_index, base_values = measured(baseline, end)
    weak_index, weak_values = measured(weak, end)

    assert weak_index[dimension] < base_index[dimension]
    for other in DIMENSIONS:
        if other != dimension:
            assert weak_index[other] == base_index[other], other
    assert weak_index["overall"] < base_index["overall"]
    # Not just the averages: only indicators of the weakened dimension changed at all.
    changed = {code for code in base_values if base_values[code] != weak_values[code]}
    assert changed
    assert all(code.startswith(PREFIX[dimension]) for code in changed), changed


def test_weakened_structure_changes_the_indicators_it_names():
    baseline = community_build(knobs=Knobs(), code="BASE", seed=7)
    weak = community_build(knobs=weakened(Knobs(), WEAK_STRUCTURE), code="WEAK", seed=7)
    end = end_after_generation()
    _index, base = measured(baseline, end)
    _index, values = measured(weak, end)
    # Two of six building groups keep their leader; neither micro-grid has the pair.
    assert (base["S_LEADERS"], values["S_LEADERS"]) == (1.0, pytest.approx(2 / 6))
    assert (base["S_MICRO_PAIRS"], values["S_MICRO_PAIRS"]) == (1.0, 0.0)
    assert values["S_VISIT_30D"] < base["S_VISIT_30D"]
    assert values["S_VULNERABLE_VISIT_14D"] < base["S_VULNERABLE_VISIT_14D"]


def test_weakened_capacity_changes_the_indicators_it_names():
    baseline = community_build(knobs=Knobs(), code="BASE", seed=7)
    weak = community_build(knobs=weakened(Knobs(), WEAK_CAPACITY), code="WEAK", seed=7)
    end = end_after_generation()
    _index, base = measured(baseline, end)
    _index, values = measured(weak, end)
    vulnerable = baseline.counts["vulnerable_residents"]
    assert base["C_VOLUNTEERS_PER_100"] == pytest.approx(18 / vulnerable * 100)
    assert values["C_VOLUNTEERS_PER_100"] == pytest.approx(2 / vulnerable * 100)
    # One partner unit: a critical category keeps a second, independent provider only where
    # one of the two volunteers' skills makes them one (one category of nine).
    assert base["C_RESOURCE_REDUNDANCY"] == 1.0
    assert values["C_RESOURCE_REDUNDANCY"] == pytest.approx(1 / 9)
    assert values["C_CRITICAL_SKILLS"] < base["C_CRITICAL_SKILLS"]
    assert values["C_TEAM_STAFFING"] < base["C_TEAM_STAFFING"]


def test_weakened_culture_changes_the_indicators_it_names():
    baseline = community_build(knobs=Knobs(), code="BASE", seed=7)
    weak = community_build(knobs=weakened(Knobs(), WEAK_CULTURE), code="WEAK", seed=7)
    end = end_after_generation()
    _index, base = measured(baseline, end)
    _index, values = measured(weak, end)
    assert base["K_PARTICIPATION_90D"] > 0.5
    assert values["K_PARTICIPATION_90D"] == 0.0
    assert values["K_DIVERSITY"] < base["K_DIVERSITY"]
    # Case satisfaction is culture too, but the cases are the same: it does not move.
    assert values["K_SATISFACTION"] == base["K_SATISFACTION"]


def test_the_community_with_the_higher_capacity_index_settles_its_drill_sooner():
    # The bench (bench/resilience_correlation.py) does this over 32 communities; here the
    # two ends: the baseline's care team (9 volunteers, 5 checks each) covers its targets,
    # the weakened one's single care volunteer leaves most targeted households to nobody.
    strong = community_build(knobs=Knobs(), code="BASE", seed=7)
    weak = community_build(knobs=weakened(Knobs(), WEAK_CAPACITY), code="WEAK", seed=7)
    end = end_after_generation()
    strong_index, _values = measured(strong, end)
    weak_index, _values = measured(weak, end)
    assert strong_index["capacity"] > weak_index["capacity"]

    drills = {
        name: drill_simulate(
            actor=None, plan=community.plan, scope=community.unit, parameters={"seed": 1}
        )
        for name, community in (("strong", strong), ("weak", weak))
    }
    assert drills["strong"].targeted_households == drills["weak"].targeted_households > 5
    assert drills["strong"].result["all_settled_at"] is not None
    assert drills["strong"].result["stranded_households"] == 0
    assert drills["weak"].result["all_settled_at"] is None
    assert drills["weak"].result["unassigned_households"] == (
        drills["weak"].targeted_households - 5
    )
    # Five of ~20 households contacted: the weak community never even reaches half.
    assert drills["strong"].minutes_to_90 is not None
    assert drills["weak"].minutes_to_50 is None


def _improve_visits(community):
    """Visit every household not visited in the 30 days that has no vulnerable member: only
    the 30-day coverage can move (the vulnerable 14-day coverage counts other households)."""
    vulnerable = {resident.household_id for resident in community.residents if resident.tags}
    leader = next(iter(community.leaders.values()))
    for household in community.households:
        if (
            household.pk in vulnerable
            or household.visits.filter(visited_at__gte=timezone.now() - timedelta(days=29)).exists()
        ):
            continue
        lead = community.leaders.get(household.grid_path, leader)
        visit_record(visitor=lead, household=household, method="door", mood="good")


def _improve_supplies(community):
    """Restock every item below its minimum: only supplies at minimum can move."""
    for item in SupplyItem.objects.filter(location__grid_unit=community.unit):
        if item.quantity < item.minimum_level:
            stock_move(
                actor=community.secretary,
                item=item,
                direction="in",
                quantity=item.minimum_level - item.quantity,
                reason="补货",
            )


def _improve_diversity(community):
    """Property management speaks on the open topic: a new stakeholder group. The speaker is
    not a resident, so participation and ties do not move."""
    topic = Topic.objects.get(community=community.unit)
    speaker = generated_user(f"{community.unit.code}-property-new")
    role_assign(
        user=speaker, role=Role.PARTNER_LIAISON, grid_unit=community.unit, post="partner_liaison"
    )
    stakeholder_membership_add(
        actor=community.secretary,
        user=speaker,
        group=StakeholderGroup.PROPERTY,
        community=community.unit,
    )
    opinion_post(actor=speaker, topic=topic, body="物业可以配合。", group=StakeholderGroup.PROPERTY)


@pytest.mark.parametrize(
    ("dimension", "code", "knobs", "improve"),
    [
        ("structural", "S_VISIT_30D", Knobs(visit_share=0.5), _improve_visits),
        ("capacity", "C_SUPPLIES_AT_MINIMUM", Knobs(supplies_ok_share=0.5), _improve_supplies),
        ("cultural", "K_DIVERSITY", Knobs(stakeholder_groups=2), _improve_diversity),
    ],
)
def test_improving_one_indicator_raises_its_sub_index_and_nothing_else(
    dimension, code, knobs, improve
):
    community = community_build(knobs=knobs, code="ONE", seed=11)
    before_index, before = measured(community, end_after_generation())
    improve(community)
    after_index, after = measured(community, end_after_generation())

    changed = {name for name in before if before[name] != after[name]}
    assert changed == {code}
    assert after[code] > before[code]
    assert after_index[dimension] > before_index[dimension]
    assert after_index["overall"] > before_index["overall"]
    for other in DIMENSIONS:
        if other != dimension:
            assert after_index[other] == before_index[other]


# Spearman's rank correlation (bench/resilience_correlation.py reports it; scipy is not a
# dependency) -----------------------------------------------------------------------------


def test_average_ranks_share_the_mean_rank_among_ties():
    assert average_ranks([10, 20, 20, 30]) == [1.0, 2.5, 2.5, 4.0]
    assert average_ranks([3.0, 1.0, 2.0]) == [3.0, 1.0, 2.0]
    assert average_ranks([7, 7, 7]) == [2.0, 2.0, 2.0]
    assert average_ranks([]) == []


def test_spearman_on_a_worked_example_with_ties():
    # x ranks 1..5; y = [5, 6, 7, 8, 7] ranks [1, 2, 3.5, 5, 3.5]. Deviations from the mean
    # rank 3: x [-2, -1, 0, 1, 2], y [-2, -1, 0.5, 2, 0.5]; Σxy = 4 + 1 + 0 + 2 + 1 = 8,
    # Σx² = 10, Σy² = 4 + 1 + 0.25 + 4 + 0.25 = 9.5; rho = 8 / √95.
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(8 / 95**0.5)
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(0.8207826816681233)


def test_spearman_is_one_for_any_increasing_relation_and_minus_one_for_decreasing():
    xs = [0.1, 0.4, 0.2, 0.9, 0.5]
    assert spearman(xs, [x**3 for x in xs]) == pytest.approx(1.0)
    assert spearman(xs, [-10 * x for x in xs]) == pytest.approx(-1.0)


def test_spearman_has_no_value_for_a_constant_side_or_a_single_pair():
    assert spearman([1, 2, 3], [4, 4, 4]) is None
    assert spearman([1], [2]) is None
    with pytest.raises(ValueError):
        spearman([1, 2], [1])
