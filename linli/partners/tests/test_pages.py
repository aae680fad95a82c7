"""Pages of partners, the lists and supplies: who may open which page, and denied posts
that change nothing."""

import pytest
from django.test import Client

from linli.accounts.roles import Role
from linli.partners.models import Claim
from linli.partners.services import claim_need, claim_transition
from linli.testing.clients import client_for

ALL = [
    Role.STREET_ADMIN,
    Role.SECRETARY,
    Role.MICRO_GRID_LEAD,
    Role.BUILDING_GROUP_LEADER,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.RESIDENT,
]


def test_page_permission_matrix(lists):
    community = lists.world.community.pk
    pages = {
        "/partners/": dict.fromkeys(ALL, 200),
        "/partners/needs/": dict.fromkeys(ALL, 200),
        f"/partners/needs/{lists.need.pk}/": dict.fromkeys(ALL, 200),
        "/partners/resources/": {
            **dict.fromkeys(ALL, 404),
            Role.STREET_ADMIN: 200,
            Role.SECRETARY: 200,
            Role.MICRO_GRID_LEAD: 200,
            Role.VOLUNTEER: 200,
            Role.PARTNER_LIAISON: 200,
        },
        "/partners/units/": {
            **dict.fromkeys(ALL, 404),
            Role.STREET_ADMIN: 200,
            Role.SECRETARY: 200,
            Role.MICRO_GRID_LEAD: 200,
            Role.PARTNER_LIAISON: 302,
        },
        f"/partners/units/{lists.partner.pk}/": {
            **dict.fromkeys(ALL, 404),
            Role.STREET_ADMIN: 200,
            Role.SECRETARY: 200,
            Role.MICRO_GRID_LEAD: 200,
            Role.PARTNER_LIAISON: 200,
        },
        f"/partners/communities/{community}/resources/": {
            **dict.fromkeys(ALL, 404),
            Role.STREET_ADMIN: 200,
            Role.SECRETARY: 200,
            Role.MICRO_GRID_LEAD: 200,
        },
        "/partners/needs/new/": {
            **dict.fromkeys(ALL, 404),
            Role.STREET_ADMIN: 200,
            Role.SECRETARY: 200,
            Role.MICRO_GRID_LEAD: 200,
            Role.RESIDENT: 200,
        },
        "/supplies/": {
            **dict.fromkeys(ALL, 404),
            Role.STREET_ADMIN: 200,
            Role.SECRETARY: 200,
            Role.MICRO_GRID_LEAD: 200,
        },
        "/supplies/alerts/": {
            **dict.fromkeys(ALL, 404),
            Role.STREET_ADMIN: 200,
            Role.SECRETARY: 200,
            Role.MICRO_GRID_LEAD: 200,
        },
    }
    clients = {role: client_for(lists.world.users[role]) for role in ALL}
    found = {url: {role: clients[role].get(url).status_code for role in ALL} for url in pages}
    assert found == pages
    assert Client().get("/partners/").status_code == 302


def test_outsiders_read_building_and_masked_name_never_the_room(lists):
    page = (
        client_for(lists.world.users[Role.PARTNER_LIAISON])
        .get(f"/partners/needs/{lists.need.pk}/")
        .content.decode()
    )
    assert "1号楼 · 张**" in page
    assert "101" not in page and "张桂英" not in page
    staff = (
        client_for(lists.world.users[Role.SECRETARY])
        .get(f"/partners/needs/{lists.need.pk}/")
        .content.decode()
    )
    assert "1号楼 101 张桂英" in staff


def test_a_resident_cannot_claim_from_the_page(lists):
    response = client_for(lists.world.users[Role.RESIDENT]).post(
        f"/partners/needs/{lists.need.pk}/claim/", {"quantity": 1}
    )
    assert response.status_code == 404
    assert Claim.objects.count() == 0


def test_liaison_claims_from_the_phone_page(lists):
    client = client_for(lists.world.users[Role.PARTNER_LIAISON])
    assert "每周助餐送餐" in client.get("/partners/").content.decode()
    response = client.post(f"/partners/needs/{lists.need.pk}/claim/", {"quantity": 1})
    claim = Claim.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/partners/claims/{claim.pk}/"
    assert (claim.partner_id, claim.quantity, claim.claimed_by.username) == (
        lists.partner.pk,
        1,
        Role.PARTNER_LIAISON,
    )


@pytest.mark.parametrize("role", [Role.PARTNER_LIAISON, Role.SECRETARY])
def test_a_denied_confirmation_changes_nothing(lists, role):
    liaison = lists.world.users[Role.PARTNER_LIAISON]
    claim = claim_need(actor=liaison, need=lists.need, quantity=1, partner=lists.partner)
    claim = claim_transition(claim=claim, actor=liaison, action="start")
    claim = claim_transition(claim=claim, actor=liaison, action="deliver")
    client_for(lists.world.users[role]).post(
        f"/partners/claims/{claim.pk}/act/", {"action": "confirm", "version": claim.version}
    )
    claim.refresh_from_db()
    assert (claim.state, claim.version) == ("delivered", 3)


def test_a_visit_becomes_a_need_from_its_page_in_one_step(lists):
    from linli.grids.services import visit_record
    from linli.partners.models import Need

    world = lists.world
    visit = visit_record(
        visitor=world.users[Role.BUILDING_GROUP_LEADER],
        household=world.neighbour_household,
        method="door",
        finding="腿脚不便，需要每周代买菜",
        needs_follow_up=True,
    )
    client = client_for(lists.world.users[Role.MICRO_GRID_LEAD])
    page = client.get(f"/partners/needs/new/?visit={visit.pk}").content.decode()
    assert "腿脚不便，需要每周代买菜" in page
    response = client.post(
        f"/partners/needs/new/?visit={visit.pk}",
        {"category": "food", "title": "每周代买菜", "quantity": "4", "recurrence": "weekly"},
    )
    need = Need.objects.get(visit=visit)
    assert response["Location"] == f"/partners/needs/{need.pk}/"
    assert (need.household_id, need.quantity, need.recurrence, need.source) == (
        world.neighbour_household.pk,
        4,
        "weekly",
        "visit",
    )


def test_a_volunteer_login_without_an_approved_record_is_sent_to_the_volunteer_page(world):
    response = client_for(world.users[Role.VOLUNTEER]).get("/partners/")
    assert (response.status_code, response["Location"]) == (302, "/volunteers/")


def test_an_unlinked_liaison_is_told_to_ask_the_community(world):
    page = client_for(world.users[Role.PARTNER_LIAISON]).get("/partners/")
    assert page.status_code == 200
    assert "Your login is not linked to a partner unit yet" in page.content.decode()


def test_a_needs_page_title_is_the_need_alone(lists):
    # The cancel form once sat inside the title block: the tab read "每周帮忙买菜 <section …"
    # with the CSRF token in it.
    page = client_for(lists.world.users[Role.SECRETARY]).get(f"/partners/needs/{lists.need.pk}/")
    body = page.content.decode()
    title = body[body.index("<title>") + len("<title>") : body.index("</title>")]
    assert page.status_code == 200
    assert title.startswith(lists.need.title)
    assert "<" not in title and "csrf" not in title
    assert body.count('name="reason"') == 1
