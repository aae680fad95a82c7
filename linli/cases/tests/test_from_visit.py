"""寻访 → 立案 in one step from the web: the finding becomes a case at the visited building."""

from django.urls import reverse

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory
from linli.grids.models import Visit
from linli.grids.services import visit_record
from linli.testing.clients import client_for


def a_visit(world) -> Visit:
    return visit_record(
        visitor=world.users[Role.BUILDING_GROUP_LEADER],
        household=world.household,
        method="door",
        finding="发现电动自行车在楼道充电，存在火灾隐患",
        needs_follow_up=True,
    )


def test_leader_turns_a_visit_finding_into_a_case_in_one_step(world):
    visit = a_visit(world)
    leader = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    url = reverse("cases:from_visit", args=[visit.pk])
    page = leader.get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["description"] == visit.finding
    charging = CaseCategory.objects.get(code="SAF-02")
    response = leader.post(url, {"category": charging.pk, "description": visit.finding})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "cases:detail", args=[case.pk]
    )
    assert (case.source, case.visit, case.building, case.category) == (
        "visit",
        visit,
        world.building,
        charging,
    )
    assert case.reporter == world.users[Role.BUILDING_GROUP_LEADER]
    # The page now says it was filed, so nobody files it twice by accident.
    again = leader.get(url)
    assert [c.reference for c in again.context["existing"]] == [case.reference]


def test_the_visit_list_links_each_finding_to_the_one_step_page(world):
    visit = a_visit(world)
    # The leader's own visits are their visit list.
    body = client_for(world.users[Role.BUILDING_GROUP_LEADER]).get(reverse("grids:visit_list"))
    assert reverse("cases:from_visit", args=[visit.pk]) in body.content.decode()


def test_a_missing_category_is_named_and_nothing_is_filed(world):
    visit = a_visit(world)
    response = client_for(world.users[Role.BUILDING_GROUP_LEADER]).post(
        reverse("cases:from_visit", args=[visit.pk]), {"category": "", "description": "x"}
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["category"]
    assert Case.objects.count() == 0


def test_residents_and_other_communities_cannot_use_the_page(world):
    visit = a_visit(world)
    url = reverse("cases:from_visit", args=[visit.pk])
    charging = CaseCategory.objects.get(code="SAF-02").pk
    # The resident of the visited household reads the visit, but files through the form.
    for role in (Role.RESIDENT, Role.VOLUNTEER, Role.PARTNER_LIAISON):
        client = client_for(world.users[role])
        assert client.get(url).status_code == 404
        assert client.post(url, {"category": charging, "description": "x"}).status_code == 404
    assert Case.objects.count() == 0


def test_staff_who_keep_the_needs_list_get_a_link_from_a_case_to_a_new_need(world):
    from linli.cases.services import case_create

    case = case_create(
        reporter=world.users[Role.RESIDENT],
        category=CaseCategory.objects.get(code="OTH-01"),
        description="独居老人希望有人每周帮忙买菜",
        source="resident_report",
        building=world.building,
    )
    url = reverse("cases:detail", args=[case.pk])
    link = f"{reverse('partners:need_new')}?case={case.pk}"
    assert link in client_for(world.users[Role.MICRO_GRID_LEAD]).get(url).content.decode()
    # The building-group leader does not keep the needs list; the reporter neither.
    assert link not in client_for(world.users[Role.BUILDING_GROUP_LEADER]).get(url).content.decode()
    assert link not in client_for(world.users[Role.RESIDENT]).get(url).content.decode()


def test_api_files_a_case_from_a_visit(world):
    visit = a_visit(world)
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    response = client.post(
        "/api/v1/cases",
        {"category": "SAF-02", "description": visit.finding, "visit_id": visit.pk},
        content_type="application/json",
    )
    assert response.status_code == 201
    case = Case.objects.get()
    assert (response.json()["source"], case.visit, case.building) == (
        "visit",
        visit,
        world.building,
    )


def test_api_refuses_a_visit_the_caller_may_not_file_from(world):
    visit = a_visit(world)
    for role in (Role.RESIDENT, Role.VOLUNTEER):
        response = client_for(world.users[role]).post(
            "/api/v1/cases",
            {"category": "SAF-02", "description": "x", "visit_id": visit.pk},
            content_type="application/json",
        )
        assert (response.status_code, response.json()["field"]) == (400, "visit_id")
    assert Case.objects.count() == 0


def test_staff_who_run_deliberation_can_lift_a_case_into_a_topic(world):
    from linli.cases.services import case_create
    from linli.participation.deliberation.models import Topic

    case = case_create(
        reporter=world.users[Role.RESIDENT],
        category=CaseCategory.objects.get(code="SVC-01"),
        description="小区附近没有公交站，老人出行不便",
        source="resident_report",
        building=world.building,
    )
    url = reverse("cases:detail", args=[case.pk])
    lift = reverse("participation:deliberation_from_case", args=[case.pk])
    secretary = client_for(world.users[Role.SECRETARY])
    assert lift in secretary.get(url).content.decode()
    assert lift not in client_for(world.users[Role.MICRO_GRID_LEAD]).get(url).content.decode()
    secretary.post(lift)
    assert list(Topic.objects.values_list("case_id", flat=True)) == [case.pk]
