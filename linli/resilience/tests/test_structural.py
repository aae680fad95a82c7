"""Structural indicators on a hand-made street, with exact values at every level.

The period is October 2025 (Asia/Shanghai): the context ends 2025-11-01 00:00 and spans 31
days. Rows are made through the real services with the clock set (`at`); SAF-01 (楼道堆物)
has a 72-hour time limit, so a case's first due time is its filing time + 3 days.

Posts (on top of the shared world: a leader on A1-1, a branch secretary on A1):
    A1-1 leader (active) · A2-1 none · C1-1 leader whose account is inactive
    A1 branch secretary + social-worker lead · A2 branch secretary only (a social-worker
    lead post held by a volunteer on A2-1 does not count) · C1 both, social worker inactive

Households, vulnerable residents and visits (window 30 d from 10-02 00:00, 14 d from 10-18):
    101 A1-1  vulnerable (two residents)  visit 10-25 10:00 (finding → case d)
    102 A1-1  vulnerable                  visit 10-02 00:00 (exactly 30 days back)
    201 A2-1  vulnerable                  visit 09-25 09:00 (finding → case f), 11-05 (after)
    901 C1-1  —                           visit 09-20 09:00

Cases:
    ref unit  filed        escalated  closed       first due    notes
    a   A1-1  10-02 09:00  -          10-04 09:00  10-05 09:00  on time, 48 h
    b   A1-1  10-10 08:00  -          10-15 08:00  10-13 08:00  late, 120 h
    c   A2-1  10-20 09:00  10-24      open         10-23 09:00  late
    d   A1-1  10-26 10:00  10-27      10-28 10:00  10-29 10:00  from visit (24 h), 48 h
    e   C1-1  10-05 09:00  -          rejected     10-08 09:00  left out
    f   A2-1  10-03 09:00  10-07      10-30 09:00  10-06 09:00  from visit (192 h), 648 h
    g   C1-1  06-01 09:00  06-10      open         06-04 09:00
    h   C1-1  07-01 09:00  07-02      07-20 09:00  07-04 09:00  closed before the 90 days
    i   A1-1  09-28 09:00  -          10-01 09:00  10-01 09:00  on time (at the limit), 72 h
    j   A1-1  10-30 09:00  -          open         11-02 09:00  not yet due
    k   C1-1  10-20 09:00  10-25      11-03 09:00  10-23 09:00  late; closed after the end
"""

from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.translation import gettext

from linli.accounts.roles import Role
from linli.cases import metrics
from linli.cases.models import Case, CaseCategory, CaseSource
from linli.cases.services import case_create, case_escalate, case_from_visit, case_transition
from linli.conftest import ID_NUMBERS, make_user
from linli.grids.models import GridUnit, Post, VulnerabilityTag
from linli.grids.services import resident_create, role_assign, visit_record
from linli.resilience import services
from linli.resilience.engine import REGISTRY, Measure, Unit, context_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
CODES = (
    "S_LEADERS",
    "S_MICRO_PAIRS",
    "S_VISIT_30D",
    "S_VULNERABLE_VISIT_14D",
    "S_ON_TIME",
    "S_CLOSE_HOURS",
    "S_ESCALATION_RESOLVED",
    "S_VISIT_TO_CASE_HOURS",
)
MEDIANS = ("S_CLOSE_HOURS", "S_VISIT_TO_CASE_HOURS")


def t(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


END = t(11, 1)
DAYS = 31


@contextmanager
def at(moment: datetime):
    """Stop the clock at `moment`: every reader (linli.clock, model defaults) sees it."""
    with time_machine.travel(moment, tick=False):
        yield


# The fixture ------------------------------------------------------------------------------


class Street:
    def __init__(self, world):
        self.world = world
        self.category = CaseCategory.objects.get(code="SAF-01")
        self.cases: dict[str, Case] = {}
        self.visits = {}

    def user(self, role):
        return self.world.users[role]

    def file(self, when, role, building) -> Case:
        with at(when):
            return case_create(
                reporter=self.user(role),
                category=self.category,
                description="楼道堆物",
                source=CaseSource.STAFF,
                building=building,
            )

    def step(self, case, when, action, role) -> Case:
        note = "done" if action in ("resolve", "reject") else ""
        with at(when):
            return case_transition(case=case, actor=self.user(role), action=action, note=note)

    def close(self, case, resolved, closed, role) -> Case:
        for action in ("dispatch", "start", "resolve"):
            case = self.step(case, resolved, action, role)
        case = self.step(case, closed, "verify", role)
        return self.step(case, closed, "close", role)

    def escalate(self, case, when, role) -> Case:
        with at(when):
            return case_escalate(case=case, actor=self.user(role), reason="难")


def _posts(world):
    inactive_leader = make_user("inactive_leader")
    role_assign(
        user=inactive_leader,
        role=Role.BUILDING_GROUP_LEADER,
        grid_unit=GridUnit.objects.get(code="C1-1"),
        post=Post.BUILDING_GROUP_HEAD,
    )
    inactive_leader.is_active = False
    inactive_leader.save(update_fields=["is_active"])

    def post(username, code, post, role=Role.MICRO_GRID_LEAD, active=True):
        user = make_user(username)
        role_assign(user=user, role=role, grid_unit=GridUnit.objects.get(code=code), post=post)
        if not active:
            user.is_active = False
            user.save(update_fields=["is_active"])

    post("social_a1", "A1", Post.SOCIAL_WORKER_LEAD)
    post("branch_a2", "A2", Post.BRANCH_SECRETARY)
    post("volunteer_a2", "A2-1", Post.SOCIAL_WORKER_LEAD, role=Role.VOLUNTEER)
    post("branch_c1", "C1", Post.BRANCH_SECRETARY)
    post("social_c1", "C1", Post.SOCIAL_WORKER_LEAD, active=False)


def _residents(world):
    resident_create(
        household=world.household,
        name="张大伯",
        sex="male",
        birth_year=1944,
        id_number=ID_NUMBERS[5],
        vulnerability_tags=["disabled"],
    )
    resident_create(
        household=world.neighbour_household,
        name="李阿姨",
        sex="female",
        birth_year=1950,
        id_number=ID_NUMBERS[4],
        vulnerability_tags=["serious_illness"],
    )


def _visits(street: Street):
    world = street.world
    secretary = world.users[Role.SECRETARY]
    admin = world.users[Role.STREET_ADMIN]
    street.visits["101"] = visit_record(
        visitor=secretary,
        household=world.household,
        method="door",
        finding="楼道漏水",
        needs_follow_up=True,
        visited_at=t(10, 25, 10),
    )
    visit_record(
        visitor=secretary,
        household=world.neighbour_household,
        method="phone",
        visited_at=t(10, 2),
    )
    street.visits["201"] = visit_record(
        visitor=secretary,
        household=world.other_micro_grid_household,
        method="door",
        finding="楼道堆物",
        needs_follow_up=True,
        visited_at=t(9, 25, 9),
    )
    visit_record(
        visitor=secretary,
        household=world.other_micro_grid_household,
        method="door",
        visited_at=t(11, 5, 10),
    )
    visit_record(
        visitor=admin,
        household=world.other_community_household,
        method="door",
        visited_at=t(9, 20, 9),
    )


def _cases(street: Street):
    world = street.world
    lead, secretary, admin = Role.MICRO_GRID_LEAD, Role.SECRETARY, Role.STREET_ADMIN
    one = world.building
    two = world.other_micro_grid_household.building
    nine = world.other_community_household.building
    cases = street.cases

    a = street.step(street.file(t(10, 2, 9), lead, one), t(10, 2, 10), "accept", lead)
    cases["a"] = street.close(a, t(10, 3, 9), t(10, 4, 9), lead)

    b = street.step(street.file(t(10, 10, 8), lead, one), t(10, 10, 9), "accept", lead)
    cases["b"] = street.close(b, t(10, 14, 8), t(10, 15, 8), lead)

    cases["c"] = street.escalate(street.file(t(10, 20, 9), secretary, two), t(10, 24, 9), secretary)

    with at(t(10, 26, 10)):
        d = case_from_visit(
            actor=world.users[lead], visit=street.visits["101"], category=street.category
        )
    d = street.step(d, t(10, 26, 11), "accept", lead)
    d = street.escalate(d, t(10, 27, 10), lead)
    cases["d"] = street.close(d, t(10, 28, 9), t(10, 28, 10), lead)

    cases["e"] = street.step(street.file(t(10, 5, 9), admin, nine), t(10, 5, 10), "reject", admin)

    with at(t(10, 3, 9)):
        f = case_from_visit(
            actor=world.users[secretary], visit=street.visits["201"], category=street.category
        )
    f = street.escalate(f, t(10, 7, 9), secretary)
    f = street.step(f, t(10, 7, 10), "accept", secretary)
    cases["f"] = street.close(f, t(10, 29, 9), t(10, 30, 9), secretary)

    cases["g"] = street.escalate(street.file(t(6, 1, 9), admin, nine), t(6, 10, 9), admin)

    h = street.escalate(street.file(t(7, 1, 9), admin, nine), t(7, 2, 9), admin)
    h = street.step(h, t(7, 2, 10), "accept", admin)
    cases["h"] = street.close(h, t(7, 19, 9), t(7, 20, 9), admin)

    i = street.step(street.file(t(9, 28, 9), lead, one), t(9, 28, 10), "accept", lead)
    cases["i"] = street.close(i, t(9, 30, 9), t(10, 1, 9), lead)

    cases["j"] = street.file(t(10, 30, 9), lead, one)

    k = street.step(street.file(t(10, 20, 9), admin, nine), t(10, 20, 10), "accept", admin)
    k = street.escalate(k, t(10, 25, 9), admin)
    cases["k"] = street.close(k, t(11, 2, 9), t(11, 3, 9), admin)


@pytest.fixture
def street(world) -> Street:
    built = Street(world)
    _posts(world)
    _residents(world)
    _visits(built)
    _cases(built)
    return built


def path(code: str) -> str:
    return GridUnit.objects.get(code=code).path


def unit(code: str) -> Unit:
    grid_unit = GridUnit.objects.get(code=code)
    return Unit(grid_unit.pk, grid_unit.path, grid_unit.level, grid_unit.name)


def refs(street: Street, *names: str) -> list[str]:
    return [street.cases[name].reference for name in names]


# Exact values ----------------------------------------------------------------------------

# Ratios: (numerator, denominator). Medians: (median, how many).
EXPECTED = {
    "S_LEADERS": {
        "A1-1": (1, 1), "A2-1": (0, 1), "C1-1": (0, 1),
        "A1": (1, 1), "A2": (0, 1), "C1": (0, 1),
        "A": (1, 2), "C": (0, 1), "B": (1, 3), "S": (1, 3),
    },
    "S_MICRO_PAIRS": {
        "A1-1": (0, 0), "A2-1": (0, 0), "C1-1": (0, 0),
        "A1": (1, 1), "A2": (0, 1), "C1": (0, 1),
        "A": (1, 2), "C": (0, 1), "B": (1, 3), "S": (1, 3),
    },
    "S_VISIT_30D": {
        "A1-1": (2, 2), "A2-1": (0, 1), "C1-1": (0, 1),
        "A1": (2, 2), "A2": (0, 1), "C1": (0, 1),
        "A": (2, 3), "C": (0, 1), "B": (2, 4), "S": (2, 4),
    },
    "S_VULNERABLE_VISIT_14D": {
        "A1-1": (1, 2), "A2-1": (0, 1), "C1-1": (0, 0),
        "A1": (1, 2), "A2": (0, 1), "C1": (0, 0),
        "A": (1, 3), "C": (0, 0), "B": (1, 3), "S": (1, 3),
    },
    "S_ON_TIME": {
        "A1-1": (3, 4), "A2-1": (0, 2), "C1-1": (0, 1),
        "A1": (3, 4), "A2": (0, 2), "C1": (0, 1),
        "A": (3, 6), "C": (0, 1), "B": (3, 7), "S": (3, 7),
    },
    "S_ESCALATION_RESOLVED": {
        "A1-1": (1, 1), "A2-1": (1, 2), "C1-1": (0, 2),
        "A1": (1, 1), "A2": (1, 2), "C1": (0, 2),
        "A": (2, 3), "C": (0, 2), "B": (2, 5), "S": (2, 5),
    },
    "S_CLOSE_HOURS": {
        "A1-1": (60.0, 4), "A2-1": (648.0, 1), "C1-1": (None, 0),
        "A1": (60.0, 4), "A2": (648.0, 1), "C1": (None, 0),
        "A": (72.0, 5), "C": (None, 0), "B": (72.0, 5), "S": (72.0, 5),
    },
    "S_VISIT_TO_CASE_HOURS": {
        "A1-1": (24.0, 1), "A2-1": (192.0, 1), "C1-1": (None, 0),
        "A1": (24.0, 1), "A2": (192.0, 1), "C1": (None, 0),
        "A": (108.0, 2), "C": (None, 0), "B": (108.0, 2), "S": (108.0, 2),
    },
}  # fmt: skip


def expected_measure(code: str, unit_code: str) -> Measure:
    first, second = EXPECTED[code][unit_code]
    if code in MEDIANS:
        return Measure(first, None, float(second))
    return Measure(first / second if second else None, float(first), float(second))


@pytest.mark.parametrize("code", CODES)
def test_every_structural_indicator_has_its_exact_value_at_every_level(street, code):
    computed = REGISTRY[code].compute(context_for(street.world.street, end=END, days=DAYS))
    for unit_code in EXPECTED[code]:
        assert computed[path(unit_code)] == expected_measure(code, unit_code), unit_code


@pytest.mark.parametrize("code", CODES)
def test_a_community_context_gives_its_subtree_the_same_values(street, code):
    computed = REGISTRY[code].compute(context_for(street.world.community, end=END, days=DAYS))
    inside = ("A1-1", "A2-1", "A1", "A2", "A")
    assert {path(code) for code in inside} == set(computed)
    for unit_code in inside:
        assert computed[path(unit_code)] == expected_measure(code, unit_code), unit_code


def test_the_on_time_rate_and_hours_to_close_agree_with_the_case_metrics_page(street):
    october = metrics.period_from_params(period="month", day="2025-10-01")
    secretary = street.world.users[Role.SECRETARY]
    context = context_for(street.world.community, end=october.end, days=DAYS)
    assert (context.start, context.end) == (october.start, october.end)
    case_metrics = metrics.case_metrics(user=secretary, unit=street.world.community, period=october)
    community = street.world.community.path
    assert case_metrics.on_time_rate == 0.5
    assert REGISTRY["S_ON_TIME"].compute(context)[community].value == 0.5
    assert case_metrics.median_hours_to_close == 72.0
    assert REGISTRY["S_CLOSE_HOURS"].compute(context)[community].value == 72.0


def test_visits_after_the_end_of_the_period_do_not_count(street):
    # Household 201 is visited on 11-05: a week ending on 11-08 sees it visited.
    later = REGISTRY["S_VISIT_30D"].compute(context_for(street.world.community, end=t(11, 8)))
    assert later[path("A2-1")] == Measure(1.0, 1.0, 1.0)


def test_structure_counts_are_computed_in_a_fixed_number_of_queries(
    street, django_assert_max_num_queries
):
    context = context_for(street.world.street, end=END, days=DAYS)
    with django_assert_max_num_queries(10):
        for code in CODES:
            REGISTRY[code].compute(context)


def test_compute_all_registers_and_computes_every_structural_indicator(street):
    computed = services.compute_all(context_for(street.world.street, end=END, days=DAYS))
    assert set(CODES) <= set(computed.measures)
    community = path("A")
    for code in CODES:
        assert computed.measures[code][community] == expected_measure(code, "A")
    # Micro-grids are the finest level of the post pairs: no building-group value.
    assert path("A1-1") not in computed.measures["S_MICRO_PAIRS"]
    assert path("A1-1") in computed.measures["S_LEADERS"]
    assert computed.index[community]["structural"] is not None


# Drill-downs -----------------------------------------------------------------------------


def drill(street, code: str, unit_code: str, role_or_user):
    user = street.world.users[role_or_user] if isinstance(role_or_user, str) else role_or_user
    return REGISTRY[code].drilldown(
        context_for(GridUnit.objects.get(code=unit_code), end=END, days=DAYS),
        unit(unit_code),
        user,
    )


def test_leader_drilldown_lists_the_building_groups_without_an_active_leader(street):
    result = drill(street, "S_LEADERS", "S", Role.STREET_ADMIN)
    assert result.total == 2
    assert result.rows == [
        ["2号楼组", "第二微网格", gettext("No leader")],
        ["9号楼组", "C第一微网格", gettext("The leader's account is inactive")],
    ]
    assert result.links == [
        reverse("grids:grid_detail", args=[GridUnit.objects.get(code=code).pk])
        for code in ("A2-1", "C1-1")
    ]


def test_micro_grid_pair_drilldown_names_the_missing_posts(street):
    result = drill(street, "S_MICRO_PAIRS", "S", Role.STREET_ADMIN)
    social = str(Post.SOCIAL_WORKER_LEAD.label)
    assert result.rows == [["第二微网格", "A社区", social], ["C第一微网格", "C社区", social]]
    assert result.links == [
        reverse("grids:grid_detail", args=[GridUnit.objects.get(code=code).pk])
        for code in ("A2", "C1")
    ]


def test_visit_drilldown_lists_unvisited_households_by_their_last_visit_before_the_end(street):
    result = drill(street, "S_VISIT_30D", "S", Role.STREET_ADMIN)
    # 201's visit of 11-05 is after the period: its last visit then was 09-25.
    assert result.rows == [["9号楼 901", "2025-09-20"], ["2号楼 201", "2025-09-25"]]
    world = street.world
    assert result.links == [
        reverse("grids:household_detail", args=[household.pk])
        for household in (world.other_community_household, world.other_micro_grid_household)
    ]


def test_vulnerable_drilldown_lists_unvisited_vulnerable_households_with_their_tags(street):
    result = drill(street, "S_VULNERABLE_VISIT_14D", "A", Role.SECRETARY)
    assert result.rows == [
        ["2号楼 201", str(VulnerabilityTag.PREGNANT.label), "2025-09-25"],
        ["1号楼 102", str(VulnerabilityTag.SERIOUS_ILLNESS.label), "2025-10-02"],
    ]
    assert result.total == 2


def test_on_time_drilldown_lists_cases_not_closed_by_their_first_limit(street):
    result = drill(street, "S_ON_TIME", "S", Role.STREET_ADMIN)
    assert [row[0] for row in result.rows] == refs(street, "f", "b", "c", "k")
    assert result.rows[1][2:] == ["2025-10-13 08:00", "2025-10-15 08:00"]
    assert result.links == [
        reverse("cases:detail", args=[street.cases[name].pk]) for name in "fbck"
    ]


def test_close_hours_drilldown_lists_the_cases_closed_in_the_period_slowest_first(street):
    result = drill(street, "S_CLOSE_HOURS", "A", Role.SECRETARY)
    assert [row[0] for row in result.rows] == refs(street, "f", "b", "i", "a", "d")
    assert [row[3] for row in result.rows] == ["648.0", "120.0", "72.0", "48.0", "48.0"]


def test_escalation_drilldown_lists_escalated_cases_open_at_the_end(street):
    result = drill(street, "S_ESCALATION_RESOLVED", "S", Role.STREET_ADMIN)
    # k was closed on 11-03, after the period: it was still open at its end.
    assert [row[0] for row in result.rows] == refs(street, "g", "c", "k")


def test_visit_to_case_drilldown_lists_cases_from_visits_slowest_first(street):
    result = drill(street, "S_VISIT_TO_CASE_HOURS", "A", Role.SECRETARY)
    assert [row[0] for row in result.rows] == refs(street, "f", "d")
    assert [row[4] for row in result.rows] == ["192.0", "24.0"]


def test_a_micro_grid_lead_drills_only_into_their_micro_grid(street):
    lead = Role.MICRO_GRID_LEAD
    on_time = drill(street, "S_ON_TIME", "A", lead)
    assert [row[0] for row in on_time.rows] == refs(street, "b")
    assert on_time.total == 1
    vulnerable = drill(street, "S_VULNERABLE_VISIT_14D", "A", lead)
    assert [row[0] for row in vulnerable.rows] == ["1号楼 102"]
    assert [row[0] for row in drill(street, "S_CLOSE_HOURS", "A", lead).rows] == refs(
        street, "b", "i", "a", "d"
    )
    assert drill(street, "S_VISIT_30D", "A", lead).rows == []
    assert drill(street, "S_LEADERS", "A", lead).rows == []
    # The secretary sees the whole community.
    assert drill(street, "S_LEADERS", "A", Role.SECRETARY).rows[0][0] == "2号楼组"
    assert drill(street, "S_MICRO_PAIRS", "A", Role.SECRETARY).total == 1


@pytest.mark.parametrize("code", CODES)
def test_a_user_with_no_scope_drills_into_nothing(street, code):
    nobody = make_user("nobody")
    result = drill(street, code, "S", nobody)
    assert (result.total, result.rows, result.links) == (0, [], [])
