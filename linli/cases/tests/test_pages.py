"""Case pages through the test client: reporting, the workbench, actions, the board."""

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import translation

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseEvent, CaseSource, CaseState
from linli.cases.services import case_create, case_transition
from linli.conftest import World
from linli.testing.clients import client_for


def assert_sent_to_login(response) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


def resident_case(world: World, category) -> Case:
    return case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        building=world.building,
        description="楼道里堆满了纸箱",
        source=CaseSource.RESIDENT_REPORT,
    )


def far_case(world: World, category) -> Case:
    far_building = world.other_community_household.building
    return case_create(
        reporter=world.users[Role.STREET_ADMIN],
        category=category,
        building=far_building,
        description="9号楼楼道堆物",
        source=CaseSource.STAFF,
    )


def in_site_language(msgid: str, **values) -> str:
    # Pages answer in the site language; compare with the catalogue, not a copy of it.
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(msgid) % values if values else translation.gettext(msgid)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_resident_files_a_case_through_the_form(world, category):
    client = client_for(world.users[Role.RESIDENT], language=None)
    response = client.post(
        reverse("cases:new"),
        {"category": category.pk, "building": world.building.pk, "description": "楼道里堆满了纸箱"},
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    assert case.category == category
    assert case.building == world.building
    assert case.grid_unit == world.building_group
    assert case.grid_path == world.building_group.path
    assert case.description == "楼道里堆满了纸箱"
    assert case.source == CaseSource.RESIDENT_REPORT
    assert case.state == CaseState.REPORTED
    assert case.reporter == world.users[Role.RESIDENT]
    assert case.reporter_resident == world.resident
    assert list(case.events.values_list("action", flat=True)) == ["create"]


def test_resident_form_offers_only_their_own_building(world, category):
    response = client_for(world.users[Role.RESIDENT], language=None).get(reverse("cases:new"))
    assert response.status_code == 200
    assert list(response.context["form"].fields["building"].queryset) == [world.building]


def test_resident_cannot_file_at_another_building(world, category):
    other_building = world.other_micro_grid_household.building
    response = client_for(world.users[Role.RESIDENT], language=None).post(
        reverse("cases:new"),
        {"category": category.pk, "building": other_building.pk, "description": "堆物"},
    )
    assert response.status_code == 200
    assert "building" in response.context["form"].errors
    assert Case.objects.count() == 0


def test_staff_filing_records_source_staff(world, category):
    response = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:new"),
        {"category": category.pk, "building": world.building.pk, "description": "巡查发现堆物"},
    )
    assert response.status_code == 302
    assert Case.objects.get().source == CaseSource.STAFF


def test_check_shows_suspected_duplicates_and_files_nothing(world, category):
    existing = resident_case(world, category)
    response = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:new"),
        {
            "category": category.pk,
            "building": world.building.pk,
            "description": "又有堆物",
            "check": "1",
        },
    )
    assert response.status_code == 200
    assert response.context["duplicates"] == [existing]
    assert existing.reference in response.content.decode()
    assert Case.objects.count() == 1


def test_staff_workbench_lists_the_resident_case(world, category):
    case = resident_case(world, category)
    far = far_case(world, category)
    response = client_for(world.users[Role.MICRO_GRID_LEAD], language=None).get(
        reverse("cases:workbench")
    )
    assert response.status_code == 200
    assert list(response.context["page"]) == [case]
    body = response.content.decode()
    assert case.reference in body
    assert far.reference not in body


def test_workbench_filters_by_state(world, category):
    case = resident_case(world, category)
    client = client_for(world.users[Role.SECRETARY], language=None)
    reported = client.get(reverse("cases:workbench"), {"state": CaseState.REPORTED})
    accepted = client.get(reverse("cases:workbench"), {"state": CaseState.ACCEPTED})
    assert list(reported.context["page"]) == [case]
    assert list(accepted.context["page"]) == []


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        (Role.STREET_ADMIN, 200),
        (Role.SECRETARY, 200),
        (Role.MICRO_GRID_LEAD, 200),
        (Role.BUILDING_GROUP_LEADER, 200),
        (Role.RESIDENT, 200),
        (Role.VOLUNTEER, 404),
        (Role.PARTNER_LIAISON, 404),
    ],
)
def test_workbench_answers_each_role(world, role, expected):
    response = client_for(world.users[role], language=None).get(reverse("cases:workbench"))
    if expected == 302:
        assert_sent_to_login(response)
    else:
        assert response.status_code == expected


def test_resident_sees_only_their_own_cases_on_the_workbench(world, category):
    own = resident_case(world, category)
    far_case(world, category)
    response = client_for(world.users[Role.RESIDENT], language=None).get(reverse("cases:workbench"))
    assert list(response.context["page"]) == [own]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        (Role.STREET_ADMIN, 200),
        (Role.SECRETARY, 200),
        (Role.MICRO_GRID_LEAD, 200),
        (Role.BUILDING_GROUP_LEADER, 200),
        (Role.RESIDENT, 200),
        (Role.VOLUNTEER, 404),
        (Role.PARTNER_LIAISON, 404),
    ],
)
def test_detail_answers_each_role(world, category, role, expected):
    case = resident_case(world, category)
    response = client_for(world.users[role], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    if expected == 302:
        assert_sent_to_login(response)
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(
    "role", [Role.SECRETARY, Role.MICRO_GRID_LEAD, Role.BUILDING_GROUP_LEADER, Role.RESIDENT]
)
def test_case_outside_scope_is_404(world, category, role):
    case = far_case(world, category)
    client = client_for(world.users[role], language=None)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    response = client.post(
        reverse("cases:act", args=[case.pk]), {"action": "accept", "version": case.version}
    )
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).state == CaseState.REPORTED


def test_detail_offers_the_actions_the_user_may_do_now(world, category):
    case = resident_case(world, category)
    staff = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    reporter = client_for(world.users[Role.RESIDENT], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    assert [action["name"] for action in staff.context["actions"]] == [
        "accept",
        "reject",
        "mark_duplicate",
    ]
    assert reporter.context["actions"] == []
    assert reporter.context["can_rate"] is False


def test_action_post_moves_the_state(world, category):
    case = resident_case(world, category)
    before = case.version
    response = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None).post(
        reverse("cases:act", args=[case.pk]),
        {"action": "accept", "version": before, "note": "立案"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
    assert case.version == before + 1
    event = case.events.last()
    assert (event.action, event.from_state, event.to_state, event.note) == (
        "accept",
        CaseState.REPORTED,
        CaseState.ACCEPTED,
        "立案",
    )


def test_stale_version_shows_the_conflict_and_writes_nothing(world, category):
    case = resident_case(world, category)
    stale = case.version
    accepted = case_transition(case=case, actor=world.users[Role.SECRETARY], action="accept")
    events_before = CaseEvent.objects.count()
    response = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None).post(
        reverse("cases:act", args=[case.pk]),
        {"action": "reject", "version": stale, "note": "不予立案"},
    )
    assert response.status_code == 302
    assert messages_of(response) == [
        in_site_language("Someone else changed this case; reload it and try again.")
    ]
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
    assert case.version == accepted.version
    assert CaseEvent.objects.count() == events_before


def test_action_the_user_may_not_do_shows_a_message_and_writes_nothing(world, category):
    case = resident_case(world, category)
    response = client_for(world.users[Role.RESIDENT], language=None).post(
        reverse("cases:act", args=[case.pk]), {"action": "accept", "version": case.version}
    )
    # The step is named in words, as on its button, never by its internal name.
    assert messages_of(response) == ["您无权对此事项执行“立案”。"]
    assert Case.objects.get(pk=case.pk).version == case.version
    assert Case.objects.get(pk=case.pk).state == CaseState.REPORTED


def resolved_case(world: World, category) -> Case:
    case = resident_case(world, category)
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    for action in ["accept", "dispatch", "start"]:
        case = case_transition(case=case, actor=leader, action=action)
    return case_transition(case=case, actor=leader, action="resolve", note="已清理")


def test_reporter_rates_a_resolved_case(world, category):
    case = resolved_case(world, category)
    client = client_for(world.users[Role.RESIDENT], language=None)
    detail = client.get(reverse("cases:detail", args=[case.pk]))
    assert detail.context["can_rate"] is True
    response = client.post(
        reverse("cases:act", args=[case.pk]),
        {"action": "rate", "version": case.version, "satisfaction": "5", "comment": "很快"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED
    assert case.satisfaction == 5
    assert case.satisfaction_comment == "很快"


def test_rating_out_of_range_is_refused(world, category):
    case = resolved_case(world, category)
    response = client_for(world.users[Role.RESIDENT], language=None).post(
        reverse("cases:act", args=[case.pk]),
        {"action": "rate", "version": case.version, "satisfaction": "9"},
    )
    assert messages_of(response) == [in_site_language("Rate from 1 to 5.")]
    case.refresh_from_db()
    assert case.satisfaction is None


def test_board_shows_no_resident_names(world, category):
    case = resident_case(world, category)
    response = client_for(world.users[Role.VOLUNTEER], language=None).get(
        reverse("cases:board", args=[world.community.pk])
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert case.reference in body
    assert world.resident.name not in body
    assert "101" not in body
    assert case.description not in body
    assert world.users[Role.RESIDENT].display_name not in body


def test_board_of_a_non_community_is_404(world):
    response = client_for(world.users[Role.VOLUNTEER], language=None).get(
        reverse("cases:board", args=[world.micro_grid.pk])
    )
    assert response.status_code == 404


def test_board_needs_login(world):
    assert_sent_to_login(Client().get(reverse("cases:board", args=[world.community.pk])))


def test_dispatch_form_records_the_handler(world, category):
    case = case_transition(
        case=resident_case(world, category),
        actor=world.users[Role.SECRETARY],
        action="accept",
    )
    detail = client_for(world.users[Role.SECRETARY], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    assert 'data-testid="action-dispatch"' in detail.content.decode()
    client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:act", args=[case.pk]),
        {"action": "dispatch", "version": case.version, "handler_text": "物业公司"},
    )
    case.refresh_from_db()
    assert (case.state, case.handler_text) == (CaseState.DISPATCHED, "物业公司")


def test_illegal_action_shows_a_message_and_writes_nothing(world, category):
    case = resident_case(world, category)
    response = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:act", args=[case.pk]), {"action": "verify", "version": case.version}
    )
    assert messages_of(response) == ["事项处于“已上报”状态，不能“核查”。"]
    assert Case.objects.get(pk=case.pk).state == CaseState.REPORTED
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_timeline_names_steps_and_states_in_words(world, category):
    case = resident_case(world, category)
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Reported → Reported" in content
    assert "create →" not in content
