"""One-click steps on the workbench: the usual next step of each case, for those who may."""

from django.urls import reverse

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory
from linli.cases.services import case_create, case_transition
from linli.testing.clients import client_for


def reported(world) -> Case:
    return case_create(
        reporter=world.users[Role.RESIDENT],
        category=CaseCategory.objects.get(code="SAF-01"),
        description="楼道堆物",
        source="resident_report",
        building=world.building,
    )


def test_each_row_offers_the_usual_next_step(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    new, dispatched = reported(world), reported(world)
    for action in ("accept", "dispatch"):
        dispatched = case_transition(case=dispatched, actor=lead, action=action)
    page = client_for(lead).get(reverse("cases:workbench"))
    quick = {case.pk: case.quick_action["name"] for case in page.context["page"]}
    assert quick == {new.pk: "accept", dispatched.pk: "start"}


def test_a_leader_is_not_offered_what_only_supervisors_do(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    case = reported(world)
    for action in ("accept", "dispatch", "start"):
        case = case_transition(case=case, actor=lead, action=action)
    case = case_transition(case=case, actor=lead, action="resolve", note="已清理")
    leader_page = client_for(world.users[Role.BUILDING_GROUP_LEADER]).get(
        reverse("cases:workbench")
    )
    assert [c.quick_action for c in leader_page.context["page"]] == [None]
    lead_page = client_for(lead).get(reverse("cases:workbench"))
    assert [c.quick_action["name"] for c in lead_page.context["page"]] == ["verify"]


def test_one_click_accepts_and_returns_to_the_filtered_list(world):
    case = reported(world)
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        reverse("cases:act", args=[case.pk]),
        {"action": "accept", "version": case.version, "from_list": "?state=reported"},
    )
    assert response["Location"] == reverse("cases:workbench") + "?state=reported"
    case.refresh_from_db()
    assert (case.state, case.version) == ("accepted", 2)


def test_a_stale_one_click_changes_nothing(world):
    case = reported(world)
    lead = client_for(world.users[Role.MICRO_GRID_LEAD])
    lead.post(reverse("cases:act", args=[case.pk]), {"action": "accept", "version": 1})
    response = lead.post(
        reverse("cases:act", args=[case.pk]),
        {"action": "accept", "version": 1, "from_list": "https://evil.example/"},
    )
    # Only the workbench itself: the form never supplies an address to go to.
    assert response["Location"] == reverse("cases:workbench")
    case.refresh_from_db()
    assert (case.state, case.version, case.events.count()) == ("accepted", 2, 2)
