"""Every web page × every role of the `world`: who gets the page (200), who is told nothing
exists (404), who is sent to log in (302); and POSTs that are denied change nothing."""

from collections.abc import Callable

import pytest
from django.conf import settings
from django.urls import reverse

from linli.accounts.models import AuditEntry
from linli.conftest import World
from linli.grids.models import Resident, Visit
from linli.testing.clients import client_for

ROLES = [
    "anonymous",
    "resident",
    "volunteer",
    "partner_liaison",
    "building_group_leader",
    "micro_grid_lead",
    "secretary",
    "street_admin",
]


def url(name: str, *args_from_world: str, query: str = "") -> Callable[[World], str]:
    """A page address built from the world's objects, e.g. url("x", "household.id")."""

    def build(world: World) -> str:
        args = []
        for dotted in args_from_world:
            value = world
            for part in dotted.split("."):
                value = getattr(value, part)
            args.append(value)
        address = reverse(name, args=args)
        if query:
            address += "?" + query.format(world=world)
        return address

    return build


# Expected status per role, in the order of ROLES:
#  anon  resident volunteer partner  bg-leader  mg-lead  secretary  street
PAGES: dict[str, tuple[Callable[[World], str], tuple[int, ...]]] = {
    "home": (url("web:home"), (302, 200, 200, 200, 200, 200, 200, 200)),
    "login": (url("web:login"), (200, 302, 302, 302, 302, 302, 302, 302)),
    "healthz": (url("healthz"), (200, 200, 200, 200, 200, 200, 200, 200)),
    "grid tree": (url("grids:grid_tree"), (302, 404, 404, 404, 200, 200, 200, 200)),
    "street": (
        url("grids:grid_detail", "street.id"),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "community": (
        url("grids:grid_detail", "community.id"),
        (302, 404, 404, 404, 404, 404, 200, 200),
    ),
    "other community": (
        url("grids:grid_detail", "other_community.id"),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "micro-grid": (
        url("grids:grid_detail", "micro_grid.id"),
        (302, 404, 404, 404, 404, 200, 200, 200),
    ),
    "other micro-grid": (
        url("grids:grid_detail", "other_micro_grid.id"),
        (302, 404, 404, 404, 404, 404, 200, 200),
    ),
    "building group": (
        url("grids:grid_detail", "building_group.id"),
        (302, 404, 404, 404, 200, 200, 200, 200),
    ),
    # A resident may open their own building, which lists only their own household.
    "building": (
        url("grids:building_detail", "building.id"),
        (302, 200, 404, 404, 200, 200, 200, 200),
    ),
    "other micro-grid building": (
        url("grids:building_detail", "other_micro_grid_household.building_id"),
        (302, 404, 404, 404, 404, 404, 200, 200),
    ),
    "own household": (
        url("grids:household_detail", "household.id"),
        (302, 200, 404, 404, 200, 200, 200, 200),
    ),
    "neighbour household": (
        url("grids:household_detail", "neighbour_household.id"),
        (302, 404, 404, 404, 200, 200, 200, 200),
    ),
    "other micro-grid household": (
        url("grids:household_detail", "other_micro_grid_household.id"),
        (302, 404, 404, 404, 404, 404, 200, 200),
    ),
    "other community household": (
        url("grids:household_detail", "other_community_household.id"),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "resident list": (url("grids:resident_list"), (302, 404, 404, 404, 200, 200, 200, 200)),
    "resident list filtered to other community": (
        url("grids:resident_list", query="grid={world.other_community.id}"),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "resident list by tag": (
        url("grids:resident_list", query="tag=elderly_alone&q=张"),
        (302, 404, 404, 404, 200, 200, 200, 200),
    ),
    "own resident": (
        url("grids:resident_detail", "resident.id"),
        (302, 200, 404, 404, 200, 200, 200, 200),
    ),
    "neighbour resident": (
        url("grids:resident_detail", "neighbour.id"),
        (302, 404, 404, 404, 200, 200, 200, 200),
    ),
    "other community resident": (
        url("grids:resident_detail", "other_community_resident.id"),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    # Editing needs EDIT_REGISTRY on the resident's grid: micro-grid lead and above.
    "edit resident": (
        url("grids:resident_edit", "resident.id"),
        (302, 404, 404, 404, 404, 200, 200, 200),
    ),
    "edit other micro-grid resident": (
        url("grids:resident_edit", "other_micro_grid_resident.id"),
        (302, 404, 404, 404, 404, 404, 200, 200),
    ),
    "edit other community resident": (
        url("grids:resident_edit", "other_community_resident.id"),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "record visit: choose household": (
        url("grids:visit_new"),
        (302, 404, 404, 404, 200, 200, 200, 200),
    ),
    "record visit: household": (
        url("grids:visit_new", query="household={world.household.id}"),
        (302, 404, 404, 404, 200, 200, 200, 200),
    ),
    "record visit: other micro-grid household": (
        url("grids:visit_new", query="household={world.other_micro_grid_household.id}"),
        (302, 404, 404, 404, 404, 404, 200, 200),
    ),
    "record visit: other community household": (
        url("grids:visit_new", query="household={world.other_community_household.id}"),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "my visits": (url("grids:visit_list"), (302, 404, 404, 404, 200, 200, 200, 200)),
    "follow-ups": (
        url("grids:visit_list", query="show=follow_up"),
        (302, 404, 404, 404, 200, 200, 200, 200),
    ),
    "my household": (url("grids:me"), (302, 200, 404, 404, 404, 404, 404, 404)),
    "audit log": (url("grids:audit"), (302, 404, 404, 404, 404, 404, 200, 200)),
    # Owned by the import/export pages; listed so the shell is checked around them too.
    "import": (url("grids:import"), (302, 404, 404, 404, 404, 404, 200, 200)),
}

PAGE_CASES = [
    pytest.param(page, role, expected[index], id=f"{page}-{role}")
    for page, (_, expected) in PAGES.items()
    for index, role in enumerate(ROLES)
]


def assert_sent_to_login(response) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


@pytest.mark.parametrize(("page", "role", "expected"), PAGE_CASES)
def test_page_answers_each_role_as_the_matrix_says(world, page, role, expected):
    build, _ = PAGES[page]
    response = client_for(world.users[role], language=None).get(build(world))
    assert response.status_code == expected
    if role == "anonymous" and expected == 302:
        assert_sent_to_login(response)


VISIT_DATA = {"method": "door", "mood": "good", "finding": "一切安好", "needs_follow_up": ""}

# household attribute, expected status per role (302 = recorded and sent back, for signed-in)
VISIT_POSTS = {
    "household": (302, 404, 404, 404, 302, 302, 302, 302),
    "other_micro_grid_household": (302, 404, 404, 404, 404, 404, 302, 302),
    "other_community_household": (302, 404, 404, 404, 404, 404, 404, 302),
}


@pytest.mark.parametrize(
    ("target", "role", "expected"),
    [
        pytest.param(target, role, statuses[index], id=f"{target}-{role}")
        for target, statuses in VISIT_POSTS.items()
        for index, role in enumerate(ROLES)
    ],
)
def test_recording_a_visit_is_allowed_only_within_scope(world, target, role, expected):
    household = getattr(world, target)
    before = Visit.objects.count()
    response = client_for(world.users[role], language=None).post(
        f"{reverse('grids:visit_new')}?household={household.id}",
        {**VISIT_DATA, "household": household.id},
    )
    assert response.status_code == expected
    if role == "anonymous":
        assert_sent_to_login(response)
        assert Visit.objects.count() == before
    elif expected == 302:
        assert response["Location"] == reverse("grids:household_detail", args=[household.id])
        assert Visit.objects.count() == before + 1
        assert Visit.objects.get(household=household).visitor == world.users[role]
    else:
        assert Visit.objects.count() == before


# resident attribute, expected status per role; only 200 writes an audit entry
REVEAL_POSTS = {
    "resident": (302, 404, 404, 404, 404, 200, 200, 200),
    "other_micro_grid_resident": (302, 404, 404, 404, 404, 404, 200, 200),
    "other_community_resident": (302, 404, 404, 404, 404, 404, 404, 200),
}


@pytest.mark.parametrize(
    ("target", "role", "expected"),
    [
        pytest.param(target, role, statuses[index], id=f"{target}-{role}")
        for target, statuses in REVEAL_POSTS.items()
        for index, role in enumerate(ROLES)
    ],
)
def test_revealing_a_number_is_allowed_only_with_the_reveal_permission(
    world, target, role, expected
):
    resident = getattr(world, target)
    before = AuditEntry.objects.count()
    response = client_for(world.users[role], language=None).post(
        reverse("grids:resident_reveal", args=[resident.id]),
        {"field": "phone", "purpose": "visit_contact", "reason": "家属联系不上，需要电话确认"},
    )
    assert response.status_code == expected
    if role == "anonymous":
        assert_sent_to_login(response)
    if expected == 200:
        assert AuditEntry.objects.count() == before + 1
        assert resident.phone in response.content.decode()
    else:
        assert AuditEntry.objects.count() == before
        assert resident.phone not in response.content.decode()


EDIT_DATA = {
    "name": "改过的名字",
    "phone": "15900001111",
    "residency_type": "permanent",
    "party_membership": "floating",
    "vulnerability_tags": ["disabled"],
}

# resident attribute, expected status per role (302 = saved and sent back, for signed-in)
EDIT_POSTS = {
    "resident": (302, 404, 404, 404, 404, 302, 302, 302),
    "other_micro_grid_resident": (302, 404, 404, 404, 404, 404, 302, 302),
    "other_community_resident": (302, 404, 404, 404, 404, 404, 404, 302),
}


def resident_row(resident) -> dict:
    return Resident.objects.values().get(pk=resident.pk)


@pytest.mark.parametrize(
    ("target", "role", "expected"),
    [
        pytest.param(target, role, statuses[index], id=f"{target}-{role}")
        for target, statuses in EDIT_POSTS.items()
        for index, role in enumerate(ROLES)
    ],
)
def test_editing_a_resident_is_allowed_only_with_the_edit_permission(world, target, role, expected):
    resident = getattr(world, target)
    row_before = resident_row(resident)
    audit_before = AuditEntry.objects.count()
    response = client_for(world.users[role], language=None).post(
        reverse("grids:resident_edit", args=[resident.id]), EDIT_DATA
    )
    assert response.status_code == expected
    if role == "anonymous":
        assert_sent_to_login(response)
    if expected == 302 and role != "anonymous":
        assert response["Location"] == reverse("grids:resident_detail", args=[resident.id])
        stored = Resident.objects.get(pk=resident.pk)
        assert (
            stored.name,
            stored.phone,
            stored.residency_type,
            stored.party_membership,
            stored.vulnerability_tags,
        ) == ("改过的名字", "15900001111", "permanent", "floating", ",disabled,")
        assert AuditEntry.objects.count() == audit_before + 1
    else:
        assert resident_row(resident) == row_before
        assert AuditEntry.objects.count() == audit_before
