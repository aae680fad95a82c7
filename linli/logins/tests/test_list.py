"""The list of an area's logins: search, filters, masked phones, two-factor state, and a
fixed number of queries whatever the page's length."""

from datetime import UTC, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.services import role_assign
from linli.logins import selectors, services
from linli.testing.clients import client_for


def usernames(user, **filters) -> list[str]:
    return [login.username for login in selectors.login_search(user=user, **filters)]


def test_search_by_name_username_or_phone_digits(logins_world):
    secretary = logins_world.users[Role.SECRETARY]
    User.objects.filter(username="volunteer").update(display_name="陈志愿", phone="13512345678")
    assert usernames(secretary, query="志愿") == ["volunteer"]
    assert usernames(secretary, query="VOLUN") == ["volunteer"]
    assert usernames(secretary, query="5678") == ["volunteer"]
    assert usernames(secretary, query="135 1234") == ["volunteer"]
    # Digits shorter than three are a name search only.
    assert usernames(secretary, query="56") == []


def test_filter_by_post_inside_the_area_and_by_state(logins_world):
    secretary = logins_world.users[Role.SECRETARY]
    street = logins_world.users[Role.STREET_ADMIN]
    assert usernames(secretary, role=Role.MICRO_GRID_LEAD) == ["micro_grid_lead", "shared"]
    # The shared login leads a building group in C社区, outside A社区's secretary's area.
    assert usernames(secretary, role=Role.BUILDING_GROUP_LEADER) == ["building_group_leader"]
    assert usernames(street, role=Role.BUILDING_GROUP_LEADER) == [
        "building_group_leader",
        "shared",
    ]
    assert usernames(secretary, role=Role.RESIDENT) == ["resident"]
    services.login_deactivate(actor=secretary, login=logins_world.users[Role.VOLUNTEER])
    assert usernames(secretary, active=False) == ["volunteer"]
    assert "volunteer" not in usernames(secretary, active=True)


def test_the_page_shows_masked_phones_posts_last_sign_in_and_two_factor(logins_world):
    User.objects.filter(username="micro_grid_lead").update(
        phone="13812341234", last_login=datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    )
    TOTPDevice.objects.create(
        user=logins_world.users[Role.MICRO_GRID_LEAD], name="app", confirmed=True
    )
    response = client_for(logins_world.users[Role.SECRETARY]).get(
        reverse("logins:list") + "?q=micro"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "138****1234" in html
    assert "13812341234" not in html
    assert "2026-03-01 09:30" in html  # shown in Asia/Shanghai
    rows = response.context["rows"]
    assert [(row.login.username, row.two_factor) for row in rows] == [("micro_grid_lead", "on")]
    page = client_for(logins_world.users[Role.SECRETARY]).get(reverse("logins:list"))
    states = {row.login.username: row.two_factor for row in page.context["rows"]}
    assert states == {
        "secretary": "missing",
        "micro_grid_lead": "on",
        "shared": "missing",
        "building_group_leader": "not_needed",
        "volunteer": "not_needed",
        "partner_liaison": "not_needed",
        "resident": "not_needed",
    }


def test_the_api_lists_masked_phones_and_only_the_posts_inside_the_area(logins_world):
    User.objects.filter(username="shared").update(phone="13812341234")
    response = client_for(logins_world.users[Role.SECRETARY], token=True).get(
        "/api/v1/logins?q=shared"
    )
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["phone"] == "138****1234"
    assert [(post["role"], post["grid_unit"]) for post in item["posts"]] == [
        ("micro_grid_lead", "第二微网格")
    ]
    assert item["posts_elsewhere"] == 1


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("logins:list")).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_more_logins(logins_world):
    client = client_for(logins_world.users[Role.SECRETARY])
    client.get(reverse("logins:list"))  # the session's first page sets what it keeps
    few = _list_queries(client)
    for number in range(10):
        login = make_user(f"helper{number}")
        role_assign(
            user=login,
            role=Role.VOLUNTEER,
            grid_unit=logins_world.community,
            post="volunteer",
        )
    assert _list_queries(client) == few


def test_the_list_is_paginated(logins_world):
    for number in range(55):
        role_assign(
            user=make_user(f"helper{number:02d}"),
            role=Role.VOLUNTEER,
            grid_unit=logins_world.community,
        )
    client = client_for(logins_world.users[Role.SECRETARY])
    first = client.get(reverse("logins:list"))
    assert len(first.context["rows"]) == 50
    assert first.context["page"].paginator.count == 62
    second = client.get(reverse("logins:list") + "?page=2")
    assert len(second.context["rows"]) == 12
