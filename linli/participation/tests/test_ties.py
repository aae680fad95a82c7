"""Ties between people: a hand-built example with exact measures, scope, the stored results
served without recomputation, the rebuild command and the nightly task."""

from datetime import date, timedelta

import networkx as nx
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.selectors import scope_for
from linli.grids.services import resident_create, role_assign
from linli.participation.activities import services
from linli.participation.deliberation import services as deliberation
from linli.participation.tasks import rebuild_ties
from linli.participation.tests.helpers import approved_volunteer
from linli.participation.tests.test_deliberation_services import make_topic
from linli.participation.ties import measures as tie_measures
from linli.participation.ties import selectors as ties_selectors
from linli.participation.ties import services as ties
from linli.participation.ties.models import IsolatedResident, TieSnapshot
from linli.testing.builders import id_number
from linli.testing.clients import client_for


def with_login(world, name, household, group, tags=(), sequence=1):
    user = make_user(f"u{sequence}")
    role_assign(user=user, role=Role.RESIDENT, grid_unit=group, post="resident")
    resident = resident_create(
        household=household,
        name=name,
        sex="male",
        birth_year=1950,
        id_number=id_number(sequence, born=date(1980, 1, 1)),
        vulnerability_tags=list(tags),
        user=user,
    )
    return resident, user


def attend(world, users, title):
    secretary = world.users[Role.SECRETARY]
    starts = timezone.now().replace(microsecond=0) + timedelta(days=1)
    activity = services.activity_create(
        actor=secretary,
        organiser=world.community,
        kind="action_day",
        title=title,
        capacity=10,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
    )
    occurrence = activity.occurrences.get()
    for user in users:
        sign_up = services.signup_create(occurrence=occurrence, user=user)
        services.signup_check_in(sign_up=sign_up, actor=secretary)


@pytest.fixture
def example(world):
    """A1 (households 101, 102): 张桂英 (alone, login), 孙老伯 (empty-nest, never takes part),
    李建国 (no login), 李明 and 刘洋 (logins). A2 (201): 王芳 (pregnant), 陈静 (login),
    周阿姨 (disabled; attends alone). Occurrence 1: 张桂英, 李明, 刘洋; occurrence 2: 李明 and
    陈静; occurrence 3: 周阿姨 alone; a topic: 张桂英 and 刘洋 post opinions."""
    a1, a2 = world.building_group, world.other_building_group
    sun, _ = with_login(world, "孙老伯", world.household, a1, ["empty_nest"], 11)
    li, li_user = with_login(world, "李明", world.neighbour_household, a1, (), 12)
    liu, liu_user = with_login(world, "刘洋", world.neighbour_household, a1, (), 13)
    chen, chen_user = with_login(world, "陈静", world.other_micro_grid_household, a2, (), 14)
    zhou, zhou_user = with_login(
        world, "周阿姨", world.other_micro_grid_household, a2, ["disabled"], 15
    )
    zhang_user = world.users[Role.RESIDENT]
    attend(world, [zhang_user, li_user, liu_user], "周四行动日")
    attend(world, [li_user, chen_user], "便民集市")
    attend(world, [zhou_user], "健康讲座")
    topic = make_topic(world)
    for user in (liu_user, zhang_user, liu_user):
        deliberation.opinion_post(actor=user, topic=topic, body="在小区门口加一个站点。")
    return dict(sun=sun, li=li, liu=liu, chen=chen, zhou=zhou, zhang=world.resident)


def measures(snapshot):
    return (
        snapshot.residents,
        snapshot.participants,
        snapshot.ties,
        snapshot.shared_events,
        snapshot.density,
        snapshot.largest_component_share,
        snapshot.isolated_vulnerable,
    )


def current(world):
    return {s.grid_path: s for s in TieSnapshot.objects.current()}


def test_the_example_gives_exact_density_components_and_people_to_visit(world, example):
    ties.ties_rebuild(unit=world.community)
    snapshots = current(world)
    assert sorted(snapshots) == [
        "/S/B/A/",
        "/S/B/A/A1/",
        "/S/B/A/A1/A1-1/",
        "/S/B/A/A2/",
        "/S/B/A/A2/A2-1/",
    ]
    # A: 8 residents, 5 took part; ties 张-李, 张-刘 (twice: the topic too), 李-刘, 李-陈:
    # 4 of 10 possible pairs; {张, 李, 刘, 陈} is 4 of 5 participants.
    assert measures(snapshots["/S/B/A/"]) == (8, 5, 4, 5, 0.4, 0.8, 2)
    # A1: 张, 李, 刘 form a triangle; 孙老伯 and 李建国 did not take part.
    assert measures(snapshots["/S/B/A/A1/"]) == (5, 3, 3, 4, 1.0, 1.0, 1)
    # A2: 陈 is tied only to 李 of A1, so inside A2 nobody is connected.
    assert measures(snapshots["/S/B/A/A2/"]) == (3, 2, 0, 0, 0.0, 0.5, 1)
    people = {row.resident_id: row.snapshot.grid_path for row in IsolatedResident.objects.current()}
    assert people == {example["sun"].pk: "/S/B/A/A1/", example["zhou"].pk: "/S/B/A/A2/"}


def test_compute_agrees_with_the_full_networkx_projection():
    events = [1, 1, 1, 2, 2, 3, -7, -7, -7, 4]
    people = [10, 11, 12, 11, 13, 14, 10, 12, 12, 15]
    graph = tie_measures.network(events=events, people=people)
    result = ties.compute(
        resident_ids=[10, 11, 12, 13, 14, 15],
        units={"micro_grid": [1, 1, 1, 1, 1, 2]},
        visit=[False, False, False, False, True, True],
        events=events,
        people=people,
    )
    unit = result.units[1]
    participants = graph.subgraph([10, 11, 12, 13, 14])
    assert unit.density == nx.density(participants) == 0.4
    assert unit.largest_component_share == 4 / 5
    assert unit.shared_events == participants.size(weight="weight") == 5
    assert (unit.isolated, result.units[2].isolated) == ([14], [15])


def test_a_volunteer_who_is_a_resident_counts_through_the_volunteer_profile(world):
    user = make_user("volunteer-resident")
    volunteer = approved_volunteer(world, user)
    volunteer.origin, volunteer.resident = "resident", world.neighbour
    volunteer.save(update_fields=["origin", "resident"])
    attend(world, [user, world.users[Role.RESIDENT]], "周四行动日")
    ties.ties_rebuild(unit=world.community)
    assert measures(current(world)["/S/B/A/A1/"]) == (2, 2, 1, 1, 1.0, 1.0, 0)


def test_participation_older_than_the_window_gives_no_ties(world, example):
    ties.ties_rebuild(unit=world.community, now=timezone.now() + timedelta(days=200))
    a1 = current(world)["/S/B/A/A1/"]
    assert measures(a1) == (5, 0, 0, 0, 0.0, None, 2)
    assert set(a1.isolated_residents.values_list("resident_id", flat=True)) == {
        example["sun"].pk,
        example["zhang"].pk,
    }


def test_a_rebuild_replaces_the_current_snapshot_and_keeps_history(world, example):
    ties.ties_rebuild(unit=world.community)
    ties.ties_rebuild(unit=world.community)
    assert TieSnapshot.objects.filter(unit=world.micro_grid).count() == 2
    assert TieSnapshot.objects.current().filter(unit=world.micro_grid).count() == 1
    assert IsolatedResident.objects.current().count() == 2
    assert IsolatedResident.objects.count() == 4


def test_a_rebuild_refuses_a_micro_grid(world):
    with pytest.raises(ValidationError) as refused:
        ties.ties_rebuild(unit=world.micro_grid)
    assert refused.value.message_dict == {
        "unit": ["Rebuild ties for a street, block or community."]
    }
    assert TieSnapshot.objects.count() == 0


# Scope ------------------------------------------------------------------------------------


SEES = {
    Role.STREET_ADMIN: [
        "/S/B/A/",
        "/S/B/A/A1/",
        "/S/B/A/A1/A1-1/",
        "/S/B/A/A2/",
        "/S/B/A/A2/A2-1/",
    ],
    Role.SECRETARY: ["/S/B/A/", "/S/B/A/A1/", "/S/B/A/A1/A1-1/", "/S/B/A/A2/", "/S/B/A/A2/A2-1/"],
    Role.MICRO_GRID_LEAD: ["/S/B/A/A1/", "/S/B/A/A1/A1-1/"],
    Role.BUILDING_GROUP_LEADER: ["/S/B/A/A1/A1-1/"],
    Role.VOLUNTEER: [],
    Role.PARTNER_LIAISON: [],
    Role.RESIDENT: [],
}


@pytest.mark.parametrize("role", list(SEES))
def test_each_role_sees_the_units_and_people_of_its_own_scope(world, example, role):
    ties.ties_rebuild(unit=world.community)
    client = client_for(world.users[role])
    units = client.get("/api/v1/ties").json()
    people = client.get("/api/v1/ties/isolated").json()
    page = client.get("/activities/ties/")
    assert [item["path"] for item in units["items"]] == SEES[role]
    names = [item["name"] for item in people["items"]]
    if role in (Role.STREET_ADMIN, Role.SECRETARY):
        assert names == ["孙老伯", "周阿姨"]
    elif role in (Role.MICRO_GRID_LEAD, Role.BUILDING_GROUP_LEADER):
        assert names == ["孙老伯"]
        assert people["items"][0]["tags"] == ["empty_nest"]
    else:
        assert names == []
    assert page.status_code == (200 if SEES[role] else 404)
    if SEES[role]:
        assert ("孙老伯" in page.content.decode()) is True
        assert ("周阿姨" in page.content.decode()) is (role in (Role.STREET_ADMIN, Role.SECRETARY))


def test_a_lead_asking_for_another_micro_grid_gets_404(world, example):
    ties.ties_rebuild(unit=world.community)
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    response = client.get("/api/v1/ties/isolated", {"unit_id": world.other_micro_grid.pk})
    assert (response.status_code, response.json()["field"]) == (404, "unit_id")
    assert client.get("/activities/ties/", {"unit": world.other_micro_grid.pk}).status_code == 404
    own = client.get("/api/v1/ties", {"unit_id": world.micro_grid.pk, "level": "micro_grid"})
    assert [item["density"] for item in own.json()["items"]] == [1.0]


def test_anonymous_callers_are_refused(world):
    assert Client().get("/api/v1/ties").status_code == 401
    assert Client().get("/activities/ties/").status_code == 302


# Stored results -----------------------------------------------------------------------------

# Session, user, the user's posts and households (scope), the snapshots, the people to visit
# (household and building joined), and the shell's posts and unread count: nothing is
# recomputed and nothing grows with the rows.
PAGE_QUERIES = 8
# Session, user, scope (2), the unit, the count and the page.
API_QUERIES = 7


def test_the_people_to_visit_are_read_from_stored_rows_in_one_query(
    world, example, django_assert_num_queries, monkeypatch
):
    ties.ties_rebuild(unit=world.community)
    monkeypatch.setattr(ties, "compute", lambda **kwargs: pytest.fail("recomputed"))
    lead = world.users[Role.MICRO_GRID_LEAD]
    scope_for(lead)
    with django_assert_num_queries(1):
        rows = list(ties_selectors.isolated_visible(user=lead, path=world.micro_grid.path))
        assert [(row.resident.name, row.resident.household.room) for row in rows] == [
            ("孙老伯", "101")
        ]
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    with django_assert_num_queries(PAGE_QUERIES):
        page = client.get("/activities/ties/")
    assert "孙老伯" in page.content.decode()
    with django_assert_num_queries(API_QUERIES):
        listed = client.get("/api/v1/ties/isolated", {"unit_id": world.micro_grid.pk})
    assert listed.json()["count"] == 1


def test_the_rebuild_command_for_one_community_and_every_street(world, example):
    call_command("ties", "rebuild", "--community", "A")
    assert TieSnapshot.objects.current().count() == 5
    call_command("ties", "rebuild")
    # The whole street adds community C and its units (one resident, nobody taking part).
    assert TieSnapshot.objects.current().count() == 8
    assert measures(TieSnapshot.objects.current().get(grid_path="/S/B/C/")) == (
        1,
        0,
        0,
        0,
        0.0,
        None,
        0,
    )
    with pytest.raises(CommandError, match="no community with code 'X'"):
        call_command("ties", "rebuild", "--community", "X")


def test_the_nightly_task_rebuilds_every_street(world, example, settings):
    assert settings.LINLI_JOBS["participation-rebuild-ties"]["task"] == (
        "participation.rebuild_ties"
    )
    assert rebuild_ties.delay().get() == 8
    assert IsolatedResident.objects.current().count() == 2


def test_the_visit_list_links_leaders_to_the_people_with_no_ties(world, client):
    from django.urls import reverse

    client.force_login(world.users["building_group_leader"])
    body = client.get(reverse("grids:visit_list")).content.decode()
    assert reverse("participation:ties") in body
