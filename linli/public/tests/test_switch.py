"""The community's switch: a public page answers only where the community turned it on, to
anyone, cacheable, under the site's Content-Security-Policy."""

import pytest

from linli.accounts.roles import Role
from linli.public.tests.conftest import turn_on
from linli.testing.clients import client_for

BOARD = ["/public/{id}/cases/", "/public/{id}/cases/feed.rss", "/public/{id}/cases/feed.atom"]
CALENDAR = [
    "/public/{id}/activities/",
    "/public/{id}/activities/feed.rss",
    "/public/{id}/activities/feed.atom",
]


def statuses(urls, community_id) -> list[int]:
    client = client_for(None)
    return [client.get(url.format(id=community_id)).status_code for url in urls]


def test_every_public_url_answers_404_until_the_community_turns_its_pages_on(world, clock):
    assert statuses(BOARD + CALENDAR, world.community.pk) == [404] * 6


def test_a_page_turned_off_answers_like_an_unknown_community(world, clock):
    turn_on(world, cases_board=False, calendar=False)
    unknown = world.community.pk + 10_000
    assert statuses(BOARD + CALENDAR, world.community.pk) == [404] * 6
    assert statuses(BOARD + CALENDAR, unknown) == [404] * 6
    # Nothing in the answer tells that the community exists.
    off = client_for(None).get(f"/public/{world.community.pk}/cases/").content.decode()
    assert world.community.name not in off


def test_only_the_page_turned_on_answers_to_anonymous_readers(world, clock):
    turn_on(world, cases_board=True, calendar=False)
    assert statuses(BOARD, world.community.pk) == [200, 200, 200]
    assert statuses(CALENDAR, world.community.pk) == [404, 404, 404]
    turn_on(world, cases_board=False, calendar=True)
    assert statuses(BOARD, world.community.pk) == [404, 404, 404]
    assert statuses(CALENDAR, world.community.pk) == [200, 200, 200]


def test_a_community_switch_opens_no_other_community(world, clock):
    turn_on(world)
    assert statuses(BOARD + CALENDAR, world.other_community.pk) == [404] * 6


def test_a_grid_unit_below_a_community_has_no_public_pages(world, clock):
    turn_on(world)
    assert statuses(BOARD + CALENDAR, world.micro_grid.pk) == [404] * 6


@pytest.mark.parametrize("url", BOARD + CALENDAR)
def test_public_answers_may_be_cached_five_minutes_and_set_no_cookie(world, clock, url):
    turn_on(world)
    response = client_for(None).get(url.format(id=world.community.pk))
    assert response.status_code == 200
    directives = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=300"}
    assert response.cookies == {}
    assert "Accept-Language" in response.headers["Vary"]
    policy = response.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src-attr")[0]
    )


@pytest.mark.parametrize("url", [BOARD[0], CALENDAR[0]])
def test_public_pages_run_no_script_and_let_search_engines_index_them(world, clock, url):
    turn_on(world)
    html = client_for(None).get(url.format(id=world.community.pk)).content.decode()
    assert "<script" not in html
    assert " on" + "click=" not in html and "javascript:" not in html
    assert "noindex" not in html
    assert '<meta name="robots" content="index, follow">' in html
    assert "csrfmiddlewaretoken" not in html


def test_a_signed_in_reader_gets_the_page_but_no_proxy_keeps_it(world, clock):
    turn_on(world)
    response = client_for(world.users[Role.RESIDENT]).get(f"/public/{world.community.pk}/cases/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_public_pages_answer_only_get(world, clock):
    turn_on(world)
    client = client_for(None)
    assert client.post(f"/public/{world.community.pk}/cases/").status_code == 405
    assert client.post(f"/public/{world.community.pk}/activities/feed.rss").status_code == 405
    head = client.head(f"/public/{world.community.pk}/cases/feed.atom")
    assert (head.status_code, head.content) == (200, b"")


def test_a_link_chooses_the_language_of_a_public_page(world, clock):
    turn_on(world)
    english = client_for(None, language="en").get(f"/public/{world.community.pk}/cases/")
    assert english.headers["Content-Language"] == "en"
    assert "Public case board" in english.content.decode()
    chinese = client_for(None, language="en").get(
        f"/public/{world.community.pk}/cases/?lang=zh-hans"
    )
    assert chinese.headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in chinese.content.decode()
    assert 'href="?lang=en"' in chinese.content.decode()


ROLES = [
    "anonymous",
    Role.RESIDENT,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.BUILDING_GROUP_LEADER,
    Role.MICRO_GRID_LEAD,
    Role.SECRETARY,
    Role.STREET_ADMIN,
]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_pages_that_are_on_and_none_that_are_off(world, clock, role):
    client = client_for(world.users[role])
    turn_on(world, cases_board=True, calendar=False)
    answers = [
        client.get(url.format(id=world.community.pk)).status_code for url in BOARD + CALENDAR
    ]
    assert answers == [200, 200, 200, 404, 404, 404]
    other = [
        client.get(url.format(id=world.other_community.pk)).status_code for url in BOARD + CALENDAR
    ]
    assert other == [404] * 6


def test_a_community_number_beyond_any_row_answers_404(world, clock):
    turn_on(world)
    huge = "9" * 30
    assert statuses([f"/public/{huge}/cases/", f"/public/{huge}/activities/feed.rss"], "") == [
        404,
        404,
    ]
    assert (
        client_for(world.users[Role.SECRETARY]).get(f"/public/settings/{huge}/").status_code == 404
    )
