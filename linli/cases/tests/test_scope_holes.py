"""Issue 13's holes in the case loop: suspected duplicates across scopes (3), 会商 records
shown to a reporter who holds a post elsewhere (13), and residents setting a priority (22)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseSource, Coordination
from linli.cases.services import case_create, case_escalate, coordination_record
from linli.conftest import World, make_user
from linli.grids.services import resident_create, role_assign
from linli.testing.clients import client_for

URL = "/api/v1/cases"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
C_RESIDENT = "c_resident"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(world: World) -> World:
    """Add a resident living in community C (9号楼 901)."""
    user = make_user(C_RESIDENT)
    household = world.other_community_household
    role_assign(user=user, role=Role.RESIDENT, grid_unit=household.building.grid_unit)
    resident_create(
        household=household,
        name="钱多多",
        sex="female",
        birth_year=1980,
        phone="13500003333",
        id_number="110101199003070150",
        user=user,
    )
    world.users[C_RESIDENT] = user
    return world


def file(world: World, code: str, reporter: str = Role.SECRETARY, **kwargs) -> Case:
    return case_create(
        reporter=world.users[reporter],
        category=CaseCategory.objects.get(code=code),
        description="楼道堆物" if code == "SAF-01" else "楼上漏水引起的纠纷",
        source=CaseSource.STAFF if reporter != Role.RESIDENT else CaseSource.RESIDENT_REPORT,
        **{"building": world.building, **kwargs},
    )


def duplicates(world: World, role: str, code: str) -> list[str]:
    response = client_for(world.users[role]).get(
        f"{URL}/duplicates", {"category": code, "building_id": world.building.pk}
    )
    assert response.status_code == 200, response.content
    return [row["reference"] for row in response.json()]


# 3. Suspected duplicates ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [C_RESIDENT, Role.VOLUNTEER, Role.PARTNER_LIAISON])
def test_duplicates_of_another_community_are_not_listed_to_outsiders(world, role):
    file(world, "SAF-01")
    file(world, "NEI-01")
    assert duplicates(world, role, "SAF-01") == []
    assert duplicates(world, role, "NEI-01") == []


def test_resident_sees_public_duplicates_in_their_community_but_not_a_dispute(world):
    clutter = file(world, "SAF-01")
    file(world, "NEI-01")
    assert duplicates(world, Role.RESIDENT, "SAF-01") == [clutter.reference]
    assert duplicates(world, Role.RESIDENT, "NEI-01") == []


def test_resident_sees_their_own_dispute_as_a_duplicate(world):
    own = file(world, "NEI-01", reporter=Role.RESIDENT)
    assert duplicates(world, Role.RESIDENT, "NEI-01") == [own.reference]


def test_secretary_sees_every_duplicate_in_the_community(world):
    file(world, "SAF-01")
    dispute = file(world, "NEI-01")
    assert duplicates(world, Role.SECRETARY, "NEI-01") == [dispute.reference]
    assert duplicates(world, Role.STREET_ADMIN, "NEI-01") == [dispute.reference]


def test_filing_page_hint_hides_a_dispute_from_a_resident(world):
    clutter = file(world, "SAF-01")
    dispute = file(world, "NEI-01")
    client = client_for(world.users[Role.RESIDENT])
    for case, shown in ((dispute, False), (clutter, True)):
        response = client.post(
            "/cases/new/",
            {
                "category": case.category_id,
                "building": world.building.pk,
                "description": "又有人堆物",
                "check": "1",
            },
        )
        assert response.status_code == 200
        found = [other.reference for other in response.context["duplicates"]]
        assert found == ([case.reference] if shown else [])
        assert (case.reference in response.content.decode()) is shown


def test_filing_page_hint_hides_another_communitys_case_from_its_resident(world):
    far = file(
        world, "SAF-01", Role.STREET_ADMIN, building=world.other_community_household.building
    )
    file(world, "SAF-01")
    response = client_for(world.users[C_RESIDENT]).post(
        "/cases/new/",
        {
            "category": far.category_id,
            "building": world.other_community_household.building.pk,
            "description": "又有人堆物",
            "check": "1",
        },
    )
    assert response.status_code == 200
    assert [other.reference for other in response.context["duplicates"]] == [far.reference]


# 13. 会商 records come from a post covering the case --------------------------------------------


MEETING = {
    "held_at": datetime(2026, 11, 20, 14, 30, tzinfo=SHANGHAI),
    "participants": "书记、物业经理、楼组长",
    "decision": "物业三日内清理",
    "due_at": datetime(2026, 11, 23, 18, 0, tzinfo=SHANGHAI),
}


@pytest.fixture
def met(world: World) -> Case:
    """A resident's case in A, escalated to the community and talked through; the reporter
    also holds a secretary's post in community C."""
    role_assign(
        user=world.users[Role.RESIDENT],
        role=Role.SECRETARY,
        grid_unit=world.other_community,
        post="party_secretary",
    )
    case = file(world, "SAF-01", reporter=Role.RESIDENT)
    for _step in range(2):
        case = case_escalate(case=case, actor=world.users[Role.SECRETARY], reason="超出本级能力")
    coordination_record(case=case, actor=world.users[Role.SECRETARY], **MEETING)
    return case


def test_reporter_with_a_post_elsewhere_does_not_see_the_coordination_over_the_api(world, met):
    body = client_for(world.users[Role.RESIDENT]).get(f"{URL}/{met.pk}").json()
    assert body["coordinations"] == []
    assert body["owner_user"] is None


def test_reporter_with_a_post_elsewhere_does_not_see_the_coordination_on_the_page(world, met):
    response = client_for(world.users[Role.RESIDENT]).get(f"/cases/{met.pk}/")
    assert response.status_code == 200
    assert response.context["meetings"] == []
    assert response.context["staff"] is False
    assert "物业三日内清理" not in response.content.decode()


def test_reporters_timeline_shows_the_meeting_step_without_its_decision(world, met):
    events = client_for(world.users[Role.RESIDENT]).get(f"{URL}/{met.pk}").json()["events"]
    assert [(row["action"], row["note"]) for row in events if row["action"] == "coordinate"] == [
        ("coordinate", "")
    ]
    events = client_for(world.users[Role.SECRETARY]).get(f"{URL}/{met.pk}").json()["events"]
    assert [(row["action"], row["note"]) for row in events if row["action"] == "coordinate"] == [
        ("coordinate", "物业三日内清理")
    ]


def test_secretary_of_the_case_sees_the_coordination(world, met):
    meeting = Coordination.objects.get()
    body = client_for(world.users[Role.SECRETARY]).get(f"{URL}/{met.pk}").json()
    assert [row["id"] for row in body["coordinations"]] == [meeting.pk]
    response = client_for(world.users[Role.SECRETARY]).get(f"/cases/{met.pk}/")
    assert response.context["meetings"] == [meeting]
    assert "物业三日内清理" in response.content.decode()


# 22. Priority is set by staff covering the case -----------------------------------------------


def test_resident_filing_an_urgent_case_is_refused_naming_priority(world):
    response = client_for(world.users[Role.RESIDENT]).post(
        URL,
        {
            "category": "SAF-01",
            "description": "楼道堆物",
            "building_id": world.building.pk,
            "priority": "urgent",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "priority"
    assert Case.objects.count() == 0


def test_resident_filing_with_normal_priority_is_accepted(world):
    response = client_for(world.users[Role.RESIDENT]).post(
        URL,
        {
            "category": "SAF-01",
            "description": "楼道堆物",
            "building_id": world.building.pk,
            "priority": "normal",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Case.objects.get().priority == "normal"


def test_staff_of_another_community_cannot_set_priority_on_a_case_here(world):
    # The reporter lives in A and is secretary of C: the post does not cover 1号楼.
    role_assign(
        user=world.users[Role.RESIDENT],
        role=Role.SECRETARY,
        grid_unit=world.other_community,
        post="party_secretary",
    )
    response = client_for(world.users[Role.RESIDENT]).post(
        URL,
        {
            "category": "SAF-01",
            "description": "楼道堆物",
            "building_id": world.building.pk,
            "priority": "urgent",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "priority"
    assert Case.objects.count() == 0


def test_staff_covering_the_place_sets_priority(world):
    response = client_for(world.users[Role.BUILDING_GROUP_LEADER]).post(
        URL,
        {
            "category": "SAF-01",
            "description": "楼道堆物",
            "building_id": world.building.pk,
            "priority": "urgent",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Case.objects.get().priority == "urgent"


def test_filing_page_offers_priority_to_staff_only(world):
    resident_page = client_for(world.users[Role.RESIDENT]).get("/cases/new/")
    assert "priority" not in resident_page.context["form"].fields
    assert 'name="priority"' not in resident_page.content.decode()
    staff_page = client_for(world.users[Role.SECRETARY]).get("/cases/new/")
    assert 'name="priority"' in staff_page.content.decode()


def test_filing_page_ignores_a_crafted_priority_from_a_resident(world):
    response = client_for(world.users[Role.RESIDENT]).post(
        "/cases/new/",
        {
            "category": CaseCategory.objects.get(code="SAF-01").pk,
            "building": world.building.pk,
            "description": "楼道堆物",
            "priority": "urgent",
        },
    )
    assert response.status_code == 302
    assert Case.objects.get().priority == "normal"


def test_filing_page_files_staffs_urgent_case(world):
    response = client_for(world.users[Role.SECRETARY]).post(
        "/cases/new/",
        {
            "category": CaseCategory.objects.get(code="SAF-01").pk,
            "building": world.building.pk,
            "description": "楼道堆物",
            "source": "staff",
            "priority": "urgent",
        },
    )
    assert response.status_code == 302
    assert Case.objects.get().priority == "urgent"
