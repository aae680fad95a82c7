"""Cultural indicators on a hand-made street with exact expected values, and the scope of
their drill-downs.

The world (linli.conftest) plus 孙老伯 (empty-nest, 101). Residents: A1-1 张桂英 (alone,
login), 李建国 (a volunteer login), 孙老伯 (login, never takes part); A2-1 王芳 (login);
C1-1 赵强 (disabled, login). All times count back from END.
"""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseEvent, CaseSource
from linli.cases.services import case_create
from linli.conftest import ID_NUMBERS, make_user
from linli.grids.models import Resident
from linli.grids.services import resident_account_link, resident_create
from linli.participation.models import (
    Activity,
    Occurrence,
    Opinion,
    Round,
    SignUp,
    SignUpStatus,
    Survey,
    SurveyAnswer,
    SurveyResponse,
    SurveyState,
    TieSnapshot,
    Topic,
    TopicState,
    TopicSupport,
)
from linli.participation.surveys import services as surveys
from linli.participation.ties.models import IsolatedResident
from linli.resilience import cultural
from linli.resilience.catalogue import indicators
from linli.resilience.engine import HIGHER, LOWER, REGISTRY, Unit, context_for
from linli.volunteers.models import Volunteer

END = timezone.make_aware(datetime(2026, 9, 7))
CODES = [
    "K_DIVERSITY",
    "K_ISOLATED_VULNERABLE",
    "K_LARGEST_CONNECTED",
    "K_PARTICIPATION_90D",
    "K_REPEAT",
    "K_SATISFACTION",
    "K_SURVEY",
]


def days_before(days: float) -> datetime:
    return END - timedelta(days=days)


def occurrence_of(world, title: str, organiser) -> Occurrence:
    starts = days_before(120)
    activity = Activity.objects.create(
        kind="action_day",
        title=title,
        organiser=organiser,
        grid_path=organiser.path,
        capacity=20,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
    )
    return Occurrence.objects.create(
        activity=activity,
        grid_path=organiser.path,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        capacity=20,
    )


def check_in(occurrence, user, at) -> SignUp:
    return SignUp.objects.create(
        occurrence=occurrence,
        user=user,
        grid_path=occurrence.grid_path,
        status=SignUpStatus.CONFIRMED,
        checked_in_at=at,
    )


def topic_in(community, title) -> Topic:
    topic = Topic.objects.create(
        community=community,
        grid_path=community.path,
        title=title,
        description="……",
        state=TopicState.OPEN,
    )
    Round.objects.create(topic=topic, number=1, opened_at=days_before(300))
    return topic


def opinion(topic, author, group, at, hidden=False) -> Opinion:
    row = Opinion.objects.create(
        topic=topic,
        round=topic.rounds.get(),
        author=author,
        group=group,
        body="意见",
        hidden_at=at if hidden else None,
        hidden_reason="不文明" if hidden else "",
    )
    Opinion.objects.filter(pk=row.pk).update(created_at=at)
    return row


def respond(survey, path, value, at, respondent=None, key=None) -> SurveyResponse:
    """A response answering every item `value` (reverse-scored items 6 − value, so every
    recoded answer, hence every factor score, is `value`)."""
    response = SurveyResponse.objects.create(
        survey=survey,
        respondent=respondent,
        respondent_key=key or f"{survey.pk}-{SurveyResponse.objects.count()}",
        grid_path=path,
    )
    SurveyResponse.objects.filter(pk=response.pk).update(submitted_at=at)
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(
            response=response, item=item, value=6 - value if item.reverse_scored else value
        )
        for item in survey.items.all()
    )
    return response


def resilience_copy(world, community, *, opens, state=SurveyState.OPEN) -> Survey:
    template = Survey.objects.get(is_template=True, title=cultural.RESILIENCE_TEMPLATE_TITLE)
    survey = surveys.survey_copy_template(
        actor=world.users[Role.STREET_ADMIN], template=template, community=community
    )
    Survey.objects.filter(pk=survey.pk).update(state=state, opens_at=opens)
    survey.refresh_from_db()
    return survey


def rated_case(world, building, satisfaction, rated_at) -> Case:
    case = case_create(
        reporter=world.users[Role.STREET_ADMIN],
        category=world_category(),
        description="楼道堆物",
        source=CaseSource.STAFF,
        building=building,
    )
    Case.objects.filter(pk=case.pk).update(satisfaction=satisfaction)
    CaseEvent.objects.create(case=case, action="rate", created_at=rated_at)
    return case


def world_category() -> CaseCategory:
    return CaseCategory.objects.get(code="SAF-01")


def snapshot(unit, at, participants, share, isolated, residents, current=False) -> TieSnapshot:
    return TieSnapshot.objects.create(
        unit=unit,
        grid_path=unit.path,
        level=unit.level,
        computed_at=at,
        window_days=180,
        residents=residents,
        participants=participants,
        ties=1,
        shared_events=1,
        density=0.5,
        largest_component_share=share,
        isolated_vulnerable=isolated,
        is_current=current,
    )


@pytest.fixture
def street(world):
    """Everything the seven indicators read; returns the people and rows tests refer to."""
    sun = resident_create(
        household=world.household,
        name="孙老伯",
        sex="male",
        birth_year=1948,
        id_number=ID_NUMBERS[4],
        vulnerability_tags=["empty_nest"],
    )
    Resident.objects.filter(pk=world.other_community_resident.pk).update(
        vulnerability_tags=",disabled,"
    )
    zhang = world.users[Role.RESIDENT]
    li = make_user("li-volunteer")
    Volunteer.objects.create(
        user=li,
        resident=world.neighbour,
        origin="resident",
        name="李建国",
        grid_unit=world.community,
        grid_path=world.community.path,
    )
    logins = {}
    for key, resident in (
        ("sun", sun),
        ("wang", world.other_micro_grid_resident),
        ("zhao", world.other_community_resident),
    ):
        logins[key] = make_user(f"login-{key}")
        resident_account_link(resident=resident, user=logins[key])
    wang, zhao = logins["wang"], logins["zhao"]

    # Activities: organised by community A, attended by residents of A and C.
    first = occurrence_of(world, "周四行动日", world.community)
    second = occurrence_of(world, "便民集市", world.community)
    old = occurrence_of(world, "旧活动", world.community)
    late = occurrence_of(world, "下周活动", world.community)
    check_in(first, zhang, days_before(10))
    check_in(first, wang, days_before(10))
    check_in(first, zhao, days_before(10))
    check_in(second, zhang, days_before(20))
    # Outside the 90 days, at the very end (the window is half-open), and a place never used.
    check_in(old, li, days_before(100))
    check_in(late, li, END)
    SignUp.objects.create(
        occurrence=first, user=li, grid_path=first.grid_path, status=SignUpStatus.CONFIRMED
    )

    # Deliberation.
    bus = topic_in(world.community, "702路公交站点")
    parking = topic_in(world.community, "停车位")
    lights = topic_in(world.other_community, "路灯")
    opinion(bus, wang, "resident", days_before(5))
    support = TopicSupport.objects.create(topic=bus, user=wang)
    TopicSupport.objects.filter(pk=support.pk).update(created_at=days_before(4))
    li_support = TopicSupport.objects.create(topic=bus, user=li)
    TopicSupport.objects.filter(pk=li_support.pk).update(created_at=days_before(30))
    opinion(bus, world.users[Role.SECRETARY], "committee", days_before(100))
    opinion(bus, make_user("property"), "property", days_before(200))
    opinion(parking, make_user("enterprise"), "enterprise", days_before(170), hidden=True)
    opinion(lights, zhao, "resident", days_before(10))
    opinion(lights, make_user("deputy"), "deputy", days_before(1))

    # A named survey in C (not the resilience instrument): 赵强 answered it.
    named = surveys.survey_create(
        actor=world.users[Role.STREET_ADMIN],
        community=world.other_community,
        title="邻里调查",
        anonymous=False,
    )
    Survey.objects.filter(pk=named.pk).update(state=SurveyState.OPEN, opens_at=days_before(20))
    respond(named, world.other_community_household.grid_path, 3, days_before(3), respondent=zhao)

    # The resilience survey: an older closed copy in A (superseded), the latest copy in A,
    # a copy in C with a single response.
    a1_path = world.household.grid_path
    a2_path = world.other_micro_grid_household.grid_path
    older = resilience_copy(world, world.community, opens=days_before(200), state="closed")
    respond(older, a1_path, 1, days_before(190))
    latest = resilience_copy(world, world.community, opens=days_before(30))
    respond(latest, a1_path, 5, days_before(25))
    respond(latest, a1_path, 3, days_before(24))
    respond(latest, a2_path, 4, days_before(23))
    respond(latest, a2_path, 1, END + timedelta(hours=1))
    in_c = resilience_copy(world, world.other_community, opens=days_before(30))
    respond(in_c, world.other_community_household.grid_path, 2, days_before(2))

    # The network: A's snapshot before END and a later one that must be ignored.
    snapshot(world.community, days_before(10), 4, 0.5, 1, residents=5)
    snapshot(world.community, END + timedelta(days=1), 4, 1.0, 2, residents=5, current=True)
    a1_before = snapshot(world.micro_grid, days_before(10), 2, 1.0, 1, residents=3)
    a1_after = snapshot(world.micro_grid, END + timedelta(days=1), 2, 1.0, 2, 3, current=True)
    snapshot(world.building_group, days_before(10), 2, 1.0, 1, residents=3)
    snapshot(world.other_micro_grid, days_before(10), 1, 1.0, 0, residents=1)
    snapshot(world.other_community, days_before(20), 1, 1.0, 0, residents=1)
    IsolatedResident.objects.create(snapshot=a1_before, resident=sun, grid_path=sun.grid_path)
    for resident in (world.resident, sun):
        IsolatedResident.objects.create(
            snapshot=a1_after, resident=resident, grid_path=resident.grid_path
        )

    # Cases.
    other_building = world.other_micro_grid_household.building
    far_building = world.other_community_household.building
    cases = {
        "low": rated_case(world, world.building, 2, days_before(10)),
        "a2": rated_case(world, other_building, 5, days_before(80)),
        "old": rated_case(world, world.building, 4, days_before(100)),
        "c": rated_case(world, far_building, 3, days_before(1)),
    }
    # Rated in the window, then reopened: the rating was cleared.
    cleared = rated_case(world, world.building, 1, days_before(5))
    Case.objects.filter(pk=cleared.pk).update(satisfaction=None)
    return dict(
        sun=sun,
        topics=dict(bus=bus, parking=parking, lights=lights),
        surveys=dict(latest=latest, in_c=in_c),
        cases=cases,
    )


def values(world, code, context=None):
    context = context or context_for(world.street, end=END)
    measures = REGISTRY[code].compute(context)
    paths = {
        "S": world.street.path,
        "B": world.block.path,
        "A": world.community.path,
        "A1": world.micro_grid.path,
        "A1-1": world.building_group.path,
        "A2": world.other_micro_grid.path,
        "A2-1": world.other_building_group.path,
        "C": world.other_community.path,
    }
    return {name: measures[path] for name, path in paths.items()}


def as_unit(grid_unit) -> Unit:
    return Unit(grid_unit.id, grid_unit.path, grid_unit.level, grid_unit.name)


def test_the_catalogue_holds_the_seven_cultural_indicators():
    cultural_codes = [i.code for i in indicators() if i.dimension == "cultural"]
    assert cultural_codes == CODES
    assert REGISTRY["K_ISOLATED_VULNERABLE"].direction == LOWER
    assert all(
        REGISTRY[code].direction == HIGHER for code in CODES if code != "K_ISOLATED_VULNERABLE"
    )
    assert REGISTRY["K_DIVERSITY"].applies_to("community")
    assert not REGISTRY["K_DIVERSITY"].applies_to("micro_grid")
    assert not REGISTRY["K_SURVEY"].applies_to("micro_grid")
    assert REGISTRY["K_PARTICIPATION_90D"].applies_to("building_group")
    assert REGISTRY["K_SATISFACTION"].unit == "score"
    assert REGISTRY["K_SATISFACTION"].target == 4.5


def test_participation_counts_residents_where_they_live(world, street):
    # 张 (2 check-ins), 李 (a support, through his volunteer login), 王 (a check-in, an
    # opinion and a support on one topic); 孙 nothing. 赵 attended A's activity: counts in C.
    measured = values(world, "K_PARTICIPATION_90D")
    assert (measured["A1-1"].numerator, measured["A1-1"].denominator) == (2, 3)
    assert measured["A1-1"].value == pytest.approx(2 / 3)
    assert (measured["A2-1"].value, measured["A2"].value) == (1.0, 1.0)
    assert (measured["A"].numerator, measured["A"].denominator, measured["A"].value) == (3, 4, 0.75)
    assert (measured["C"].numerator, measured["C"].denominator) == (1, 1)
    assert (measured["S"].numerator, measured["S"].denominator, measured["S"].value) == (4, 5, 0.8)


def test_repeat_participation_counts_distinct_events(world, street):
    # 张: two occurrences; 王: one occurrence and one topic (opinion + support = one event);
    # 李: one topic; 赵: an occurrence, a topic, a named survey.
    measured = values(world, "K_REPEAT")
    assert (measured["A1"].numerator, measured["A1"].denominator, measured["A1"].value) == (
        1,
        2,
        0.5,
    )
    assert measured["A2"].value == 1.0
    assert (measured["A"].numerator, measured["A"].denominator) == (2, 3)
    assert measured["C"].value == 1.0
    assert (measured["S"].numerator, measured["S"].denominator, measured["S"].value) == (
        3,
        4,
        0.75,
    )


def test_diversity_counts_groups_that_spoke_in_180_days(world, street):
    # A: resident, committee, enterprise (hidden still counts); the property opinion is 200
    # days old. C: resident, deputy. The block: the union of both.
    measured = values(world, "K_DIVERSITY")
    assert (measured["A"].numerator, measured["A"].denominator) == (3, 7)
    assert measured["A"].value == pytest.approx(3 / 7)
    assert measured["C"].value == pytest.approx(2 / 7)
    assert (measured["B"].numerator, measured["B"].value) == (4, pytest.approx(4 / 7))


def test_largest_connected_share_reads_the_snapshot_in_force_at_the_end(world, street):
    measured = values(world, "K_LARGEST_CONNECTED")
    assert (measured["A"].value, measured["A"].numerator, measured["A"].denominator) == (
        0.5,
        2,
        4,
    )
    assert (measured["A1"].value, measured["A1-1"].value, measured["C"].value) == (1.0, 1.0, 1.0)
    # No snapshot for A2-1.
    assert measured["A2-1"].value is None
    # Above community: (2 + 1) in their community's largest component of (4 + 1).
    assert (measured["B"].numerator, measured["B"].denominator, measured["B"].value) == (
        3,
        5,
        0.6,
    )


def test_isolated_vulnerable_residents_per_100(world, street):
    # Vulnerable (visit tags): 张 (alone), 孙 (empty-nest) in A1; 王 is pregnant (not a visit
    # tag); 赵 disabled in C.
    measured = values(world, "K_ISOLATED_VULNERABLE")
    assert (measured["A1"].numerator, measured["A1"].denominator, measured["A1"].value) == (
        1,
        2,
        50.0,
    )
    assert measured["A"].value == 50.0
    assert measured["A2"].value is None
    assert (measured["C"].numerator, measured["C"].denominator, measured["C"].value) == (0, 1, 0.0)
    assert (measured["S"].numerator, measured["S"].denominator) == (1, 3)
    assert measured["S"].value == pytest.approx(100 / 3)


def test_satisfaction_is_the_mean_rating_of_the_90_days(world, street):
    measured = values(world, "K_SATISFACTION")
    assert (measured["A1"].value, measured["A1"].denominator) == (2.0, 1)
    assert measured["A2"].value == 5.0
    assert (measured["A"].value, measured["A"].denominator) == (3.5, 2)
    assert measured["C"].value == 3.0
    assert (measured["S"].value, measured["S"].denominator) == (pytest.approx(10 / 3), 3)


def test_survey_score_uses_the_latest_resilience_survey(world, street):
    # A: 5, 3, 4 (the later answer of 1 came after END; the older survey is superseded).
    # C: one anonymous response is not shown. The street: (5 + 3 + 4 + 2) / 4 = 3.5.
    measured = values(world, "K_SURVEY")
    assert (measured["A"].value, measured["A"].denominator) == (0.75, 3)
    assert (measured["C"].value, measured["C"].denominator) == (None, 1)
    assert (measured["S"].value, measured["S"].denominator) == (0.625, 4)


def test_no_value_without_data(world):
    context = context_for(world.street, end=END)
    for code in CODES:
        measured = REGISTRY[code].compute(context)
        expected = 0.0 if code in ("K_PARTICIPATION_90D", "K_DIVERSITY") else None
        assert measured[world.community.path].value == expected, code


def test_every_indicator_is_computed_in_a_bounded_number_of_queries(
    world, street, django_assert_max_num_queries
):
    context = context_for(world.street, end=END)
    with django_assert_max_num_queries(14):
        for code in CODES:
            REGISTRY[code].compute(context)


def test_participation_drilldown_lists_non_participants_first_within_scope(world, street):
    context = context_for(world.street, end=END)
    community = as_unit(world.community)
    rows = cultural.participation_rows(context, community, world.users[Role.SECRETARY])
    assert [row[0] for row in rows.rows] == ["孙老伯", "李建国", "张桂英", "王芳"]
    assert [row[2] for row in rows.rows] == ["0", "1", "2", "2"]
    assert rows.total == 4
    assert rows.links[0] == f"/registry/residents/{street['sun'].pk}/"
    lead = cultural.participation_rows(context, community, world.users[Role.MICRO_GRID_LEAD])
    assert [row[0] for row in lead.rows] == ["孙老伯", "李建国", "张桂英"]
    repeat = cultural.repeat_rows(context, community, world.users[Role.SECRETARY])
    assert [row[0] for row in repeat.rows] == ["李建国", "张桂英", "王芳"]


def test_diversity_drilldown_shows_which_groups_spoke(world, street):
    context = context_for(world.street, end=END)
    rows = cultural.diversity_rows(context, as_unit(world.community), world.users[Role.SECRETARY])
    topics = street["topics"]
    assert [row[0] for row in rows.rows] == ["停车位", "702路公交站点"]
    assert [row[2] for row in rows.rows] == ["1", "2"]
    assert rows.links[1] == f"/activities/deliberation/{topics['bus'].pk}/"
    assert "Property management" in rows.note
    # The secretary of A sees nothing of C.
    other = cultural.diversity_rows(
        context, as_unit(world.other_community), world.users[Role.SECRETARY]
    )
    assert other.rows == [] and other.total == 0


def test_isolated_drilldown_lists_the_people_to_visit_as_of_the_end(world, street):
    context = context_for(world.street, end=END)
    community = as_unit(world.community)
    lead = cultural.isolated_rows(context, community, world.users[Role.MICRO_GRID_LEAD])
    # The snapshot in force at END names 孙 only (the later one adds 张).
    assert [row[0] for row in lead.rows] == ["孙老伯"]
    assert lead.links == [f"/registry/residents/{street['sun'].pk}/"]
    # A building-group drill reads its micro-grid's list.
    group = cultural.isolated_rows(
        context, as_unit(world.building_group), world.users[Role.SECRETARY]
    )
    assert group.total == 1
    # Vulnerability is sensitive: a volunteer (no VIEW_SENSITIVE) sees nobody.
    assert cultural.isolated_rows(context, community, world.users[Role.VOLUNTEER]).total == 0
    snapshots = cultural.largest_connected_rows(context, community, world.users[Role.SECRETARY])
    assert [row[0] for row in snapshots.rows] == ["A社区", "第一微网格", "1号楼组", "第二微网格"]
    assert snapshots.rows[0][2] == "50%"
    assert snapshots.links[0] == f"/activities/ties/?unit={world.community.pk}"


def test_satisfaction_drilldown_lists_the_lowest_rated_first_within_scope(world, street):
    context = context_for(world.street, end=END)
    cases = street["cases"]
    street_rows = cultural.satisfaction_rows(
        context, as_unit(world.street), world.users[Role.STREET_ADMIN]
    )
    assert [row[0] for row in street_rows.rows] == [
        cases["low"].reference,
        cases["c"].reference,
        cases["a2"].reference,
    ]
    assert [row[2] for row in street_rows.rows] == ["2", "3", "5"]
    lead = cultural.satisfaction_rows(
        context, as_unit(world.community), world.users[Role.MICRO_GRID_LEAD]
    )
    assert [row[0] for row in lead.rows] == [cases["low"].reference]
    assert lead.links == [f"/cases/{cases['low'].pk}/"]


def test_survey_drilldown_links_the_results_page_for_those_who_read_results(world, street):
    context = context_for(world.street, end=END)
    latest = street["surveys"]["latest"]
    rows = cultural.survey_rows(context, as_unit(world.community), world.users[Role.SECRETARY])
    assert len(rows.columns) == 2 + 5 + 1
    assert rows.rows == [[latest.title, "3", "4.00", "4.00", "4.00", "4.00", "4.00", "75%"]]
    assert rows.links == [f"/activities/surveys/{latest.pk}/results/"]
    street_rows = cultural.survey_rows(
        context, as_unit(world.street), world.users[Role.STREET_ADMIN]
    )
    # C's single anonymous response is not shown.
    assert street_rows.rows[1][1:] == ["—", "—", "—", "—", "—", "—", "—"]
    # A micro-grid lead reads results for their micro-grid only, not the community's score.
    lead = cultural.survey_rows(
        context, as_unit(world.community), world.users[Role.MICRO_GRID_LEAD]
    )
    assert lead.rows == []
