"""The inbox page and `/notifications` API: each user sees and changes only their own."""

import pytest
from django.test import Client

from linli.accounts.roles import Role
from linli.notify.models import Notification
from linli.notify.services import notification_send
from linli.testing.clients import client_for

API = "/api/v1/notifications"


@pytest.fixture
def client():
    # English, so that the assertions on messages hold whatever the default language.
    return Client(headers={"Accept-Language": "en"})


def send(user, title: str, link: str = "") -> Notification:
    [notification] = notification_send(
        recipients=[user], kind="case_escalated", title=title, link=link
    )
    return notification


@pytest.fixture
def mail(world):
    """Two notifications for the micro-grid lead, one for the secretary."""
    lead = world.users[Role.MICRO_GRID_LEAD]
    return {
        "older": send(lead, "Case 1 escalated to you", link="/cases/1/"),
        "newer": send(lead, "Case 2 escalated to you"),
        "other": send(world.users[Role.SECRETARY], "Case 3 escalated to the community"),
    }


# Inbox page ----------------------------------------------------------------------------


def test_inbox_page_lists_only_own_notifications_newest_first(world, mail):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).get("/inbox/")

    assert response.status_code == 200
    assert [n.title for n in response.context["page"]] == [
        "Case 2 escalated to you",
        "Case 1 escalated to you",
    ]
    assert response.context["unread"] == 2
    html = response.content.decode()
    assert "Case 3 escalated" not in html
    assert "2 unread" in html


def test_inbox_page_sends_anonymous_to_login(client, world, mail):
    response = client.get("/inbox/")

    assert response.status_code == 302
    assert response.url.startswith("/login")


def test_marking_read_on_the_page_redirects_to_inbox(world, mail):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        f"/inbox/{mail['newer'].pk}/read/"
    )

    assert (response.status_code, response.url) == (302, "/inbox/")
    assert Notification.objects.get(pk=mail["newer"].pk).read_at is not None
    assert Notification.objects.get(pk=mail["older"].pk).read_at is None


def test_opening_a_notification_marks_it_read_and_follows_its_link(world, mail):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        f"/inbox/{mail['older'].pk}/read/", {"open": "1"}
    )

    assert (response.status_code, response.url) == (302, "/cases/1/")
    assert Notification.objects.get(pk=mail["older"].pk).read_at is not None


def test_marking_someone_elses_notification_on_the_page_is_404_and_changes_nothing(world, mail):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        f"/inbox/{mail['other'].pk}/read/"
    )

    assert response.status_code == 404
    assert Notification.objects.get(pk=mail["other"].pk).read_at is None


def test_mark_read_page_refuses_get(world, mail):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).get(f"/inbox/{mail['newer'].pk}/read/")

    assert response.status_code == 405
    assert Notification.objects.get(pk=mail["newer"].pk).read_at is None


def test_mark_all_read_on_the_page_leaves_others_unread(world, mail):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post("/inbox/read-all/")

    assert (response.status_code, response.url) == (302, "/inbox/")
    assert list(Notification.objects.unread().values_list("pk", flat=True)) == [mail["other"].pk]


# API -----------------------------------------------------------------------------------


def test_api_lists_only_own_notifications(world, mail):
    client = client_for(world.users[Role.MICRO_GRID_LEAD])

    response = client.get(API)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["unread"]) == (2, 2)
    assert [item["id"] for item in body["items"]] == [mail["newer"].pk, mail["older"].pk]
    assert body["items"][1] | {"created_at": None} == {
        "id": mail["older"].pk,
        "kind": "case_escalated",
        "title": "Case 1 escalated to you",
        "body": "",
        "link": "/cases/1/",
        "created_at": None,
        "read_at": None,
    }


def test_api_pages_with_limit_and_offset(world, mail):
    client = client_for(world.users[Role.MICRO_GRID_LEAD])

    body = client.get(API, {"limit": 1, "offset": 1}).json()

    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [mail["older"].pk]


def test_api_filters_unread(world, mail):
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    client.post(f"{API}/{mail['newer'].pk}/read")

    unread = client.get(API, {"unread": "true"}).json()
    read = client.get(API, {"unread": "false"}).json()

    assert [item["id"] for item in unread["items"]] == [mail["older"].pk]
    assert [item["id"] for item in read["items"]] == [mail["newer"].pk]


def test_api_list_query_count_does_not_grow_with_the_inbox(world, mail, django_assert_num_queries):
    lead = world.users[Role.MICRO_GRID_LEAD]
    for index in range(10):
        send(lead, f"More {index}")
    client = client_for(world.users[Role.MICRO_GRID_LEAD])

    # session, user, count, page, unread count
    with django_assert_num_queries(5):
        response = client.get(API)

    assert response.json()["count"] == 12


def test_api_mark_read_by_recipient(world, mail):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(f"{API}/{mail['newer'].pk}/read")

    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    assert Notification.objects.get(pk=mail["newer"].pk).read_at is not None


def test_api_mark_read_of_someone_elses_is_404_and_changes_nothing(world, mail):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(f"{API}/{mail['other'].pk}/read")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "field": None}
    assert Notification.objects.get(pk=mail["other"].pk).read_at is None


def test_api_read_all_marks_only_own(world, mail):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(f"{API}/read-all")

    assert response.status_code == 200
    assert response.json() == {"marked": 2}
    assert list(Notification.objects.unread().values_list("pk", flat=True)) == [mail["other"].pk]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ""), ("post", "/{id}/read"), ("post", "/read-all")],
)
def test_api_refuses_anonymous_with_401_and_changes_nothing(client, world, mail, method, path):
    url = API + path.format(id=mail["newer"].pk)

    response = getattr(client, method)(url)

    assert response.status_code == 401
    assert response.json() == {"message": "Authentication required.", "field": None}
    assert Notification.objects.unread().count() == 3


def test_api_session_writes_need_the_csrf_token(world, mail):
    client = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
    client.force_login(world.users[Role.MICRO_GRID_LEAD])

    response = client.post(f"{API}/read-all")

    assert response.status_code == 403
    assert Notification.objects.unread().count() == 3
