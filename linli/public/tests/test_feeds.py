"""RSS 2.0 and Atom feeds of the board and the calendar: valid XML, the exact items, absolute
links from LINLI_SITE_URL, and no personal data."""

import xml.etree.ElementTree as ET
from datetime import timedelta

from linli.accounts.roles import Role
from linli.cases.models import Case
from linli.demo.cases import demo_cases
from linli.demo.participation import demo_participation
from linli.public import selectors
from linli.public.tests.conftest import SITE, close_case, file_case, turn_on
from linli.public.tests.test_board import PERSONAL, PERSONAL_STRINGS
from linli.testing.clients import client_for

ATOM = "{http://www.w3.org/2005/Atom}"


def fetch(world, path: str) -> tuple[ET.Element, str, str]:
    response = client_for(None).get(f"/public/{world.community.pk}/{path}")
    assert response.status_code == 200
    text = response.content.decode()
    return ET.fromstring(response.content), text, response.headers["Content-Type"]


def test_the_case_feeds_hold_the_fifty_newest_public_cases_with_absolute_links(world, clock, site):
    demo_cases(community=world.community, seed=7)
    turn_on(world)
    newest = [
        value["reference"]
        for value in selectors.public_cases(community=world.community)[: selectors.FEED_SIZE]
    ]
    assert len(newest) == 50
    board = f"{SITE}/public/{world.community.pk}/cases/"

    rss, _text, content_type = fetch(world, "cases/feed.rss")
    assert content_type == "application/rss+xml; charset=utf-8"
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel.findtext("link") == board
    items = channel.findall("item")
    assert [item.findtext("link") for item in items] == [
        f"{board}#case-{reference}" for reference in newest
    ]
    assert all(item.findtext("pubDate") for item in items)

    atom, _text, content_type = fetch(world, "cases/feed.atom")
    assert content_type == "application/atom+xml; charset=utf-8"
    assert atom.tag == f"{ATOM}feed"
    links = {link.get("rel"): link.get("href") for link in atom.findall(f"{ATOM}link")}
    assert links == {"alternate": board, "self": f"{board}feed.atom"}
    entries = atom.findall(f"{ATOM}entry")
    assert [entry.find(f"{ATOM}link").get("href") for entry in entries] == [
        f"{board}#case-{reference}" for reference in newest
    ]
    assert all(entry.findtext(f"{ATOM}updated") for entry in entries)


def test_no_feed_carries_a_name_a_room_a_phone_or_an_id_number(world, clock, site):
    demo_cases(community=world.community, seed=7)
    resident = world.users[Role.RESIDENT]
    case = file_case(world, reporter=resident, description=PERSONAL, title=PERSONAL[:30])
    close_case(world, case, clock, took=timedelta(hours=30), rating=5)
    dispute = file_case(world, code="NEI-01", description=PERSONAL)
    demo_participation(community=world.community)
    turn_on(world)
    descriptions = set(Case.objects.values_list("description", flat=True))
    for path in ("cases/feed.rss", "cases/feed.atom"):
        _root, text, _type = fetch(world, path)
        assert f"#case-{case.reference}" in text
        assert dispute.reference not in text
        for personal in PERSONAL_STRINGS:
            assert personal not in text
        for description in descriptions:
            assert description not in text
        assert "30 hours" in text and "Satisfaction: 5 of 5" in text
    for path in ("activities/feed.rss", "activities/feed.atom"):
        _root, text, _type = fetch(world, path)
        for name in ["张桂英", resident.username, resident.display_name]:
            assert name not in text


def test_the_activity_feeds_hold_the_coming_dates_soonest_first(world, clock, site):
    demo_participation(community=world.community)
    turn_on(world)
    upcoming = selectors.upcoming_occurrences(community=world.community)
    # The Thursday action day twelve times, and the service fair once.
    assert len(upcoming) == 13
    calendar = f"{SITE}/public/{world.community.pk}/activities/"

    rss, _text, _type = fetch(world, "activities/feed.rss")
    items = rss.find("channel").findall("item")
    assert len(items) == 13
    assert items[0].findtext("link") == (f"{calendar}?month=2025-06#occurrence-{upcoming[0].id}")
    assert all(item.findtext("link").startswith(calendar) for item in items)
    assert items[0].findtext("title") == "周四行动日：清洁家园 · 2025-06-19 09:00"
    description = items[0].findtext("description")
    assert "Place: 共享客厅 · 中心花园" in description
    assert "Every week on Thursday, 12 times in all" in description
    assert "Signed up: 1 of 30" in description

    atom, _text, _type = fetch(world, "activities/feed.atom")
    entries = atom.findall(f"{ATOM}entry")
    assert len(entries) == 13
    assert [entry.find(f"{ATOM}link").get("href") for entry in entries] == [
        item.findtext("link") for item in items
    ]


def test_a_feed_of_a_community_without_rows_is_valid_and_empty(world, clock, site):
    turn_on(world)
    rss, _text, _type = fetch(world, "cases/feed.rss")
    assert rss.find("channel").findall("item") == []
    atom, _text, _type = fetch(world, "activities/feed.atom")
    assert atom.findall(f"{ATOM}entry") == []
