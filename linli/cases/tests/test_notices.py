"""Everyone waiting on a case hears of it (issue 15): the reporter at each step that matters
to them and a "please rate" prompt at closure, the place's leaders when a case is filed, the
case's followers at each change of state, the area's followers of each new public case, each
person once, on the channels their preferences and addresses allow."""

import re
from datetime import datetime

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseSource
from linli.cases.services import case_create, case_transition
from linli.cases.services.notices import area_leaders, case_target
from linli.notify.models import Notification, OutboxMessage, Subscription
from linli.notify.selectors import area_target
from linli.notify.services import follow
from linli.open311.services import open311_key_create, open311_request_create
from linli.testing.clients import client_for

pytestmark = pytest.mark.usefixtures("english")

SHANGHAI = timezone.get_fixed_timezone(8 * 60)
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI)
STAIRWELL = {"reference": None, "category": "楼道堆物"}


@pytest.fixture(autouse=True)
def _noon():
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def reporter(world):
    user = world.users[Role.RESIDENT]
    user.phone = "13800000001"
    user.save()
    return user


@pytest.fixture
def secretary(world):
    return world.users[Role.SECRETARY]


def category(code: str = "SAF-01") -> CaseCategory:
    return CaseCategory.objects.get(code=code)


def file_case(user, building, code="SAF-01", source=CaseSource.RESIDENT_REPORT) -> Case:
    return case_create(
        reporter=user,
        category=category(code),
        description="楼道里堆了很多纸箱",
        source=source,
        building=building,
    )


def step(case, actor, action, **data) -> Case:
    return case_transition(case=case, actor=actor, action=action, **data)


def to_closed(case, actor) -> Case:
    for action in ("accept", "dispatch", "start"):
        case = step(case, actor, action)
    case = step(case, actor, "resolve", note="纸箱已清理")
    return step(step(case, actor, "verify"), actor, "close")


def notices(kind: str) -> list[tuple[str, str, dict, str, str]]:
    """(recipient, title message id, parameters, link, unsubscribe target), oldest first."""
    return [
        (n.recipient.username, n.title_template, n.title_params, n.link, n.unsubscribe_target)
        for n in Notification.objects.filter(kind=kind)
        .select_related("recipient")
        .order_by("created_at", "id")
    ]


def recipients(kind: str) -> list[str]:
    return sorted(
        Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True)
    )


def channels(notification: Notification) -> list[str]:
    return sorted(
        OutboxMessage.objects.filter(notification=notification).values_list("channel", flat=True)
    )


def params(case: Case) -> dict:
    return {"reference": case.reference, "category": "楼道堆物"}


# The reporter ----------------------------------------------------------------------------------


def test_the_reporter_hears_each_step_they_wait_for_and_is_asked_to_rate_at_closure(
    world, reporter, secretary
):
    case = to_closed(file_case(reporter, world.building), secretary)
    link = f"/cases/{case.pk}/"
    assert notices("case_state_changed") == [
        ("resident", "Case %(reference)s (%(category)s) has been accepted", params(case), link, ""),
        ("resident", "Case %(reference)s (%(category)s) is being handled", params(case), link, ""),
        (
            "resident",
            "Case %(reference)s (%(category)s) has been handled and awaits a check",
            params(case),
            link,
            "",
        ),
    ]
    # Closing is the prompt to rate, one message, not a "closed" and a "please rate".
    assert notices("case_rate_prompt") == [
        (
            "resident",
            "Case %(reference)s (%(category)s) is closed: please rate how it was handled",
            params(case),
            f"/cases/{case.pk}/#rate",
            "",
        )
    ]


def test_a_reporter_with_a_phone_hears_in_the_inbox_and_by_sms(
    world, reporter, secretary, settings
):
    case = step(file_case(reporter, world.building), secretary, "accept")
    (notice,) = Notification.objects.filter(kind="case_state_changed", recipient=reporter)
    assert channels(notice) == ["inapp", "sms"]
    # The title that leaves the site names the case and its category, nothing typed.
    assert notice.title == f"事项 {case.reference}（楼道堆物）已受理"  # the site language


def test_a_reporter_without_a_phone_hears_in_the_inbox_only(world, secretary):
    reporter = world.users[Role.RESIDENT]
    step(file_case(reporter, world.building), secretary, "accept")
    (notice,) = Notification.objects.filter(kind="case_state_changed", recipient=reporter)
    assert channels(notice) == ["inapp"]


def test_a_rejected_case_tells_the_reporter_and_nobody_hears_of_their_own_step(
    world, reporter, secretary
):
    case = file_case(reporter, world.building)
    follow(user=secretary, target=case_target(case.pk))
    step(case, secretary, "reject", note="不属于社区事务")
    assert recipients("case_state_changed") == ["resident"]
    assert (
        notices("case_state_changed")[0][1] == "Case %(reference)s (%(category)s) was not accepted"
    )
    assert recipients("followed_case_changed") == []


def test_a_case_rated_before_closing_is_just_closed(world, reporter, secretary):
    case = file_case(reporter, world.building)
    for action in ("accept", "dispatch", "start"):
        case = step(case, secretary, action)
    case = step(case, secretary, "resolve", note="纸箱已清理")
    case = step(case, reporter, "rate", satisfaction=5)
    step(step(case, secretary, "verify"), secretary, "close")
    assert recipients("case_rate_prompt") == []
    assert notices("case_state_changed")[-1][1] == "Case %(reference)s (%(category)s) is closed"


def test_the_rate_prompt_opens_the_satisfaction_form(world, reporter, secretary):
    to_closed(file_case(reporter, world.building), secretary)
    prompt = Notification.objects.get(kind="case_rate_prompt")
    path, _hash, anchor = prompt.link.partition("#")
    response = client_for(reporter).get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="{anchor}" data-testid="rate"' in page
    assert 'name="satisfaction"' in page


@pytest.fixture
def open311_case(world, secretary):
    key, _secret = open311_key_create(actor=secretary, community=world.community, name="市民App")
    return open311_request_create(
        key=key,
        service_code="SAF-01",
        description="楼道堆物",
        address_string="1号楼",
        phone="139-0000-0009",
    )


def test_a_reporter_without_a_login_gets_one_sms_at_the_phone_they_gave(
    world, secretary, open311_case, settings
):
    step(open311_case, secretary, "accept")
    (notice,) = Notification.objects.filter(kind="case_state_changed")
    assert (notice.recipient, notice.address, notice.link) == (None, "13900000009", "")
    assert notice.title == f"事项 {open311_case.reference}（楼道堆物）已受理"  # the site language
    assert channels(notice) == ["sms"]


def test_a_reporter_without_a_login_or_a_contact_hears_nothing(world, secretary):
    key, _secret = open311_key_create(actor=secretary, community=world.community, name="市民App")
    case = open311_request_create(
        key=key, service_code="SAF-01", description="楼道堆物", address_string="1号楼"
    )
    step(case, secretary, "accept")
    assert not Notification.objects.filter(kind="case_state_changed").exists()


# Followers of a case ----------------------------------------------------------------------------


def test_a_reporter_who_follows_their_case_gets_one_message(world, reporter, secretary):
    case = file_case(reporter, world.building)
    lead = world.users[Role.MICRO_GRID_LEAD]
    follow(user=reporter, target=case_target(case.pk))
    follow(user=lead, target=case_target(case.pk))
    step(case, secretary, "accept")
    assert Notification.objects.filter(recipient=reporter).count() == 1
    assert recipients("case_state_changed") == ["resident"]
    assert notices("followed_case_changed") == [
        (
            "micro_grid_lead",
            "Case %(reference)s (%(category)s) has been accepted",
            params(case),
            f"/cases/{case.pk}/",
            f"case:{case.pk}",
        )
    ]


def test_followers_hear_of_every_change_of_state_the_reporter_of_those_they_wait_for(
    world, reporter, secretary
):
    case = file_case(reporter, world.building)
    follow(user=reporter, target=case_target(case.pk))
    follow(user=world.users[Role.STREET_ADMIN], target=case_target(case.pk))
    for action in ("accept", "dispatch", "start"):
        case = step(case, secretary, action)
    # Work started is the handlers' step: the reporter, who follows too, hears of it as a
    # follower; the street administrator heard of all three.
    assert [n[1] for n in notices("followed_case_changed") if n[0] == "resident"] == [
        "Work has started on case %(reference)s (%(category)s)"
    ]
    assert recipients("followed_case_changed").count("street_admin") == 3
    # A step that keeps the state (an extension, a rating) is no news.
    step(case, secretary, "request_extension")
    assert recipients("followed_case_changed").count("street_admin") == 3


def test_a_refused_step_tells_nobody(world, reporter, secretary):
    case = file_case(reporter, world.building)
    follow(user=world.users[Role.STREET_ADMIN], target=case_target(case.pk))
    with pytest.raises(Exception, match="not possible"):
        step(case, secretary, "close")
    assert not Notification.objects.filter(
        kind__in=["case_state_changed", "followed_case_changed"]
    ).exists()


# The place's leaders and the area's followers ----------------------------------------------------


def test_the_leaders_of_the_place_hear_of_a_new_case_there(world, reporter):
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    leader.phone = "13700000007"
    leader.save()
    case = file_case(reporter, world.building)
    assert notices("case_filed_in_area") == [
        (
            username,
            "New case %(reference)s in %(area)s: %(category)s",
            {**params(case), "area": "1号楼组"},
            f"/cases/{case.pk}/",
            "",
        )
        for username in ("micro_grid_lead", "building_group_leader")
    ]
    by_user = {
        n.recipient.username: channels(n)
        for n in Notification.objects.filter(kind="case_filed_in_area")
    }
    assert by_user == {"building_group_leader": ["inapp", "sms"], "micro_grid_lead": ["inapp"]}


def test_leaders_elsewhere_and_the_leader_who_filed_are_not_told(world):
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    file_case(leader, world.building, source=CaseSource.PATROL)
    assert recipients("case_filed_in_area") == ["micro_grid_lead"]
    Notification.objects.all().delete()
    other = world.other_micro_grid_household.building
    file_case(world.users[Role.SECRETARY], other, source=CaseSource.STAFF)
    assert recipients("case_filed_in_area") == []
    assert area_leaders(other.grid_path) == []


def test_area_followers_hear_of_a_new_public_case_in_a_building_group_under_their_area(
    world, reporter
):
    secretary, admin = world.users[Role.SECRETARY], world.users[Role.STREET_ADMIN]
    follow(user=secretary, target=area_target(world.micro_grid.path))
    follow(user=admin, target=area_target(world.building_group.path))
    follow(user=admin, target=area_target(world.micro_grid.path))
    case = file_case(reporter, world.building)
    # Each told once, by the closest area they follow, whose follow the message can end.
    assert notices("area_new_case") == [
        (
            "street_admin",
            "New case %(reference)s in %(area)s: %(category)s",
            {**params(case), "area": "1号楼组"},
            f"/cases/{case.pk}/",
            area_target(world.building_group.path),
        ),
        (
            "secretary",
            "New case %(reference)s in %(area)s: %(category)s",
            {**params(case), "area": "1号楼组"},
            f"/cases/{case.pk}/",
            area_target(world.micro_grid.path),
        ),
    ]
    # An area follow is a stream: WeChat and e-mail where given, never an SMS each.
    secretary.phone = "13600000006"
    secretary.save()
    Notification.objects.all().delete()
    file_case(reporter, world.building)
    (notice,) = Notification.objects.filter(kind="area_new_case", recipient=secretary)
    assert channels(notice) == ["inapp"]


def test_area_followers_are_not_told_of_a_case_elsewhere(world):
    secretary = world.users[Role.SECRETARY]
    follow(user=world.users[Role.STREET_ADMIN], target=area_target(world.micro_grid.path))
    file_case(secretary, world.other_micro_grid_household.building, source=CaseSource.STAFF)
    assert recipients("area_new_case") == []


def test_a_leader_who_follows_their_area_is_told_once(world, reporter):
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    follow(user=leader, target=area_target(world.building_group.path))
    file_case(reporter, world.building)
    assert Notification.objects.filter(recipient=leader).count() == 1
    assert recipients("area_new_case") == []


def test_a_sensitive_category_is_not_announced_to_area_followers(world, reporter):
    follow(user=world.users[Role.STREET_ADMIN], target=area_target(world.micro_grid.path))
    file_case(reporter, world.building, code="NEI-01")
    assert recipients("area_new_case") == []
    # The place's leaders, who may open it, still hear of it.
    assert recipients("case_filed_in_area") == ["building_group_leader", "micro_grid_lead"]


# Following: who may ------------------------------------------------------------------------------

CAN_SEE_CASE = {
    Role.STREET_ADMIN: 302,
    Role.SECRETARY: 302,
    Role.MICRO_GRID_LEAD: 302,
    Role.BUILDING_GROUP_LEADER: 302,
    Role.RESIDENT: 302,  # the reporter
    Role.VOLUNTEER: 404,
    Role.PARTNER_LIAISON: 404,
}


@pytest.mark.parametrize("role", sorted(CAN_SEE_CASE))
def test_who_may_see_a_case_may_follow_and_unfollow_it(world, reporter, role):
    case = file_case(reporter, world.building)
    user = world.users[role]
    client = client_for(user)
    url = reverse("cases:follow", args=[case.pk])
    response = client.post(url, {"follow": "1"})
    assert response.status_code == CAN_SEE_CASE[role]
    target = case_target(case.pk)
    if response.status_code == 302:
        assert response["Location"] == f"/cases/{case.pk}/"
        assert list(Subscription.objects.values_list("user__username", "target")) == [
            (user.username, target)
        ]
        page = client.get(f"/cases/{case.pk}/").content.decode()
        assert "Stop following" in page
        assert client.post(url, {"follow": "0"}).status_code == 302
    assert not Subscription.objects.exists()


def test_following_a_case_needs_a_login_and_a_post(world, reporter):
    case = file_case(reporter, world.building)
    url = reverse("cases:follow", args=[case.pk])
    response = client_for(None).post(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert client_for(reporter).get(url).status_code == 405
    assert (
        client_for(reporter).post(reverse("cases:follow", args=[case.pk + 99])).status_code == 404
    )
    assert not Subscription.objects.exists()


def test_the_case_page_offers_the_follow_button(world, reporter):
    case = file_case(reporter, world.building)
    page = client_for(reporter).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="case-follow"' in page
    assert "Follow this case" in page


# (user, unit) → status: a building group's or micro-grid's page shows the button to whoever
# sees the page; the community is not followed this way.
AREA_MATRIX = [
    (Role.SECRETARY, "building_group", 302),
    (Role.SECRETARY, "micro_grid", 302),
    (Role.SECRETARY, "community", 404),
    (Role.MICRO_GRID_LEAD, "micro_grid", 302),
    (Role.MICRO_GRID_LEAD, "other_micro_grid", 404),
    (Role.BUILDING_GROUP_LEADER, "building_group", 302),
    (Role.BUILDING_GROUP_LEADER, "micro_grid", 404),
    (Role.RESIDENT, "building_group", 404),
    (Role.VOLUNTEER, "building_group", 404),
    (Role.PARTNER_LIAISON, "micro_grid", 404),
]


@pytest.mark.parametrize(("role", "unit", "status"), AREA_MATRIX)
def test_who_sees_an_area_may_follow_its_new_cases(world, role, unit, status):
    grid_unit = getattr(world, unit)
    client = client_for(world.users[role])
    response = client.post(reverse("cases:area_follow", args=[grid_unit.pk]), {"follow": "1"})
    assert response.status_code == status
    if status == 302:
        assert response["Location"] == reverse("grids:grid_detail", args=[grid_unit.pk])
        assert list(Subscription.objects.values_list("target", flat=True)) == [
            area_target(grid_unit.path)
        ]
        page = client.get(response["Location"]).content.decode()
        assert 'data-testid="area-follow"' in page
        assert "Stop following new cases here" in page
        client.post(reverse("cases:area_follow", args=[grid_unit.pk]), {"follow": "0"})
    assert not Subscription.objects.exists()


def test_following_an_area_needs_a_login(world):
    url = reverse("cases:area_follow", args=[world.building_group.pk])
    response = client_for(None).post(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    assert not Subscription.objects.exists()


def test_the_community_page_has_no_area_follow_button(world):
    client = client_for(world.users[Role.SECRETARY])
    page = client.get(reverse("grids:grid_detail", args=[world.community.pk])).content.decode()
    assert 'data-testid="area-follow"' not in page
    page = client.get(reverse("grids:grid_detail", args=[world.micro_grid.pk])).content.decode()
    assert "Follow new cases here" in page


def test_the_area_follow_button_carries_the_pages_csrf_token(world):
    client = client_for(world.users[Role.SECRETARY], enforce_csrf_checks=True)
    page = client.get(reverse("grids:grid_detail", args=[world.micro_grid.pk])).content.decode()
    form = page[page.index('data-testid="area-follow"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = client.post(
        reverse("cases:area_follow", args=[world.micro_grid.pk]),
        {"follow": "1", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert Subscription.objects.get().target == area_target(world.micro_grid.path)
