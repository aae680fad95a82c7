"""The settings page: who may turn a community's public pages on or off (role × route), the
audit entry each change writes, and the status on the home page."""

import pytest

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Permission, Role
from linli.public import selectors
from linli.public.models import PublicPages
from linli.public.services import public_pages_set
from linli.public.tests.conftest import SITE, turn_on
from linli.testing.clients import client_for

ANONYMOUS = "anonymous"
ROLES = [
    ANONYMOUS,
    Role.RESIDENT,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.BUILDING_GROUP_LEADER,
    Role.MICRO_GRID_LEAD,
    Role.SECRETARY,
    Role.STREET_ADMIN,
]
# Written out by hand from the world of linli/conftest.py: the secretary holds her post on
# community A, the street administrator on the street above it; a micro-grid lead supervises
# cases and organises activities only in his micro-grid, not for the whole community.
SETTINGS_OF_A = {
    ANONYMOUS: 302,
    Role.RESIDENT: 404,
    Role.VOLUNTEER: 404,
    Role.PARTNER_LIAISON: 404,
    Role.BUILDING_GROUP_LEADER: 404,
    Role.MICRO_GRID_LEAD: 404,
    Role.SECRETARY: 200,
    Role.STREET_ADMIN: 200,
}
SETTINGS_OF_C = {**SETTINGS_OF_A, Role.SECRETARY: 404}
INDEX = {**SETTINGS_OF_A}


def client_of(world, role):
    return client_for(world.users[role] if role != ANONYMOUS else None)


@pytest.mark.parametrize("role", ROLES)
def test_who_opens_the_settings_of_a_community(world, role):
    client = client_of(world, role)
    assert client.get(f"/public/settings/{world.community.pk}/").status_code == SETTINGS_OF_A[role]
    assert (
        client.get(f"/public/settings/{world.other_community.pk}/").status_code
        == SETTINGS_OF_C[role]
    )
    assert client.get("/public/settings/").status_code == INDEX[role]
    # A grid unit that is no community has no settings, even for those above it.
    assert client.get(f"/public/settings/{world.micro_grid.pk}/").status_code in (302, 404)


@pytest.mark.parametrize("role", ROLES)
def test_who_turns_the_public_pages_on_and_what_the_audit_log_keeps(world, clock, role):
    audits = AuditEntry.objects.count()
    response = client_of(world, role).post(
        f"/public/settings/{world.community.pk}/",
        {"cases_board": "on", "calendar": "on"},
        REMOTE_ADDR="203.0.113.9",
    )
    if SETTINGS_OF_A[role] != 200:
        assert response.status_code == SETTINGS_OF_A[role]
        assert PublicPages.objects.count() == 0
        assert AuditEntry.objects.count() == audits
        return
    assert response.status_code == 302
    assert response.headers["Location"] == f"/public/settings/{world.community.pk}/"
    pages = PublicPages.objects.get()
    actor = world.users[role]
    assert (pages.community, pages.cases_board, pages.calendar, pages.updated_by) == (
        world.community,
        True,
        True,
        actor,
    )
    entry = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() == audits + 1
    assert (
        entry.actor,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.object_label,
        entry.changes,
        entry.grid_path,
        entry.ip_address,
    ) == (
        actor,
        "update",
        "public_pages",
        str(world.community.pk),
        "A社区",
        {"cases_board": [False, True], "calendar": [False, True]},
        world.community.path,
        "203.0.113.9",
    )


def test_turning_one_page_off_records_only_that_switch(world, clock):
    turn_on(world)
    client = client_of(world, Role.STREET_ADMIN)
    response = client.post(f"/public/settings/{world.community.pk}/", {"calendar": "on"})
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(object_type="public_pages").order_by("-id").first()
    assert entry.changes == {"cases_board": [True, False]}
    assert entry.actor == world.users[Role.STREET_ADMIN]
    assert (PublicPages.objects.get().cases_board, PublicPages.objects.get().calendar) == (
        False,
        True,
    )


def test_saving_without_a_change_writes_nothing(world, clock):
    turn_on(world)
    audits = AuditEntry.objects.count()
    response = client_of(world, Role.SECRETARY).post(
        f"/public/settings/{world.community.pk}/", {"cases_board": "on", "calendar": "on"}
    )
    assert response.status_code == 302
    assert AuditEntry.objects.count() == audits
    empty = client_of(world, Role.SECRETARY).post(f"/public/settings/{world.other_community.pk}/")
    assert empty.status_code == 404


def test_a_switch_someone_may_not_set_stays_as_it_is(world, clock, monkeypatch):
    # Were the calendar decided by a permission the secretary lacks, her form would show it
    # disabled, and a request that changes it anyway would change nothing at all.
    monkeypatch.setitem(selectors.SWITCH_PERMISSIONS, "calendar", Permission.EXPORT_AUDIT)
    client = client_of(world, Role.SECRETARY)
    page = client.get(f"/public/settings/{world.community.pk}/").content.decode()
    assert 'name="calendar" id="id_calendar" disabled' in page
    assert 'name="cases_board" id="id_cases_board">' in page
    audits = AuditEntry.objects.count()
    response = client.post(
        f"/public/settings/{world.community.pk}/", {"cases_board": "on", "calendar": "on"}
    )
    assert response.status_code == 403
    assert (
        "You may not turn the public activity calendar of this community on or off."
        in response.content.decode()
    )
    assert PublicPages.objects.count() == 0
    assert AuditEntry.objects.count() == audits
    # The disabled box is not sent: the board alone is turned on.
    response = client.post(f"/public/settings/{world.community.pk}/", {"cases_board": "on"})
    assert response.status_code == 302
    assert (PublicPages.objects.get().cases_board, PublicPages.objects.get().calendar) == (
        True,
        False,
    )


def test_the_service_refuses_a_grid_unit_that_is_no_community(world, clock):
    with pytest.raises(Exception) as refused:
        public_pages_set(
            actor=world.users[Role.STREET_ADMIN],
            community=world.micro_grid,
            cases_board=True,
            calendar=False,
        )
    assert refused.value.message_dict == {"community": ["Public pages belong to a community."]}
    assert PublicPages.objects.count() == 0


def test_the_settings_page_gives_the_absolute_addresses_to_hand_out(world, clock, site):
    turn_on(world, calendar=False)
    page = client_of(world, Role.SECRETARY).get(f"/public/settings/{world.community.pk}/")
    html = page.content.decode()
    board = f"{SITE}/public/{world.community.pk}/cases/"
    assert f'<a href="{board}">{board}</a>' in html
    assert f"RSS {board}feed.rss · Atom {board}feed.atom" in html
    assert f"{SITE}/public/{world.community.pk}/activities/ <" not in html
    assert "Last changed by secretary" in html


def test_the_home_page_tells_staff_whether_their_pages_are_on(world, clock):
    turn_on(world, calendar=False)
    html = client_of(world, Role.SECRETARY).get("/").content.decode()
    assert 'data-testid="public-pages-status"' in html
    assert (
        f'href="/public/settings/{world.community.pk}/">A社区</a> case board on, calendar off'
        in (" ".join(html.split()))
    )
    street = " ".join(client_of(world, Role.STREET_ADMIN).get("/").content.decode().split())
    assert "A社区</a> case board on, calendar off" in street
    assert "C社区</a> case board off, calendar off" in street
    resident = client_of(world, Role.RESIDENT).get("/").content.decode()
    assert 'data-testid="public-pages-status"' not in resident


def test_the_settings_list_shows_each_community_and_its_switches(world, clock):
    turn_on(world)
    html = " ".join(
        client_of(world, Role.STREET_ADMIN).get("/public/settings/").content.decode().split()
    )
    assert 'A社区</a> <span class="small">Public case board: on · Activity calendar: on' in html
    assert 'C社区</a> <span class="small">Public case board: off · Activity calendar: off' in html
