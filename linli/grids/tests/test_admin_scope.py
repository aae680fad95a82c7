"""The admin inside the editor's scope (issue 13, holes 10 and 11).

- The user pickers (posts, resident logins) list only the logins of the editor's area: a
  post or a resident link inside the subtree where they assign posts. A superuser picks
  from every account.
- Linking a login to a resident lets that login see the household, its health and
  vulnerability tags included. So a link is made only inside the editor's area (the
  resident and the login both), never for a login that belongs to another resident or
  holds a post outside the area, and every link and unlink is audited, through
  `resident_link_login` / `resident_unlink_login`; a link made by any other service
  (`resident_create(user=...)`) is audited too.
- Granting or removing a post in the admin is audited as such.

The admin admits staff accounts (`is_staff`); what a staff account then sees and changes
comes from its posts, as everywhere else.
"""

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.models import AuditAction, AuditEntry, User
from linli.accounts.roles import Role
from linli.conftest import ID_NUMBERS, make_user
from linli.grids.models import GridUnit, ResidentAccount, RoleAssignment
from linli.grids.selectors import households_visible
from linli.grids.services import resident_create, role_assign
from linli.testing.clients import client_for

AREA_A = ["building_group_leader", "micro_grid_lead", "partner_liaison", "resident", "secretary"]
AREA_A += ["volunteer"]


pytestmark = pytest.mark.usefixtures("english")


def admin_client(user) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return client_for(user)


@pytest.fixture
def people(world):
    """A login of community C (a volunteer post there) and a login attached nowhere."""
    far = make_user("far")
    role_assign(user=far, role=Role.VOLUNTEER, grid_unit=world.other_community, post="volunteer")
    loose = make_user("loose")
    return {"far": far, "loose": loose}


def superuser() -> User:
    return User.objects.create_superuser(username="root", password="x" * 12)


def picker(client: Client, url_name: str) -> list[str]:
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    form = response.context["adminform"].form
    return sorted(user.username for user in form.fields["user"].queryset)


def link(client: Client, user: User, resident) -> object:
    return client.post(
        reverse("admin:grids_residentaccount_add"), {"user": user.pk, "resident": resident.pk}
    )


def staff_links() -> list:
    # The fixture's own resident login was linked (and audited) with no actor.
    return list(AuditEntry.objects.filter(action=AuditAction.LINK, actor__isnull=False))


def form_errors(response) -> list[str]:
    assert response.status_code == 200
    return sorted(response.context["adminform"].form.errors)


# Hole 11: the pickers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name", ["admin:grids_roleassignment_add", "admin:grids_residentaccount_add"]
)
def test_a_secretarys_user_pickers_list_only_logins_of_their_community(world, people, url_name):
    client = admin_client(world.users[Role.SECRETARY])
    assert picker(client, url_name) == sorted(AREA_A)


@pytest.mark.parametrize(
    "url_name", ["admin:grids_roleassignment_add", "admin:grids_residentaccount_add"]
)
def test_a_street_administrators_pickers_list_the_logins_of_their_street(world, people, url_name):
    client = admin_client(world.users[Role.STREET_ADMIN])
    assert picker(client, url_name) == sorted([*AREA_A, "far", "street_admin"])


@pytest.mark.parametrize(
    "url_name", ["admin:grids_roleassignment_add", "admin:grids_residentaccount_add"]
)
def test_a_superusers_pickers_list_every_account(world, people, url_name):
    client = admin_client(superuser())
    assert picker(client, url_name) == sorted([*AREA_A, "far", "street_admin", "loose", "root"])


def test_a_post_for_a_login_outside_the_area_is_refused_and_writes_nothing(world, people):
    client = admin_client(world.users[Role.SECRETARY])
    before = RoleAssignment.objects.count()
    response = client.post(
        reverse("admin:grids_roleassignment_add"),
        {
            "user": people["far"].pk,
            "role": Role.BUILDING_GROUP_LEADER,
            "post": "building_group_head",
            "grid_unit": world.building_group.pk,
        },
    )
    assert form_errors(response) == ["user"]
    assert RoleAssignment.objects.count() == before
    assert not AuditEntry.objects.filter(object_type="role_assignment").exists()


def test_granting_and_removing_a_post_in_the_admin_are_audited_as_role_changes(world):
    secretary = world.users[Role.SECRETARY]
    client = admin_client(secretary)
    volunteer = world.users[Role.VOLUNTEER]
    response = client.post(
        reverse("admin:grids_roleassignment_add"),
        {
            "user": volunteer.pk,
            "role": Role.BUILDING_GROUP_LEADER,
            "post": "building_group_head",
            "grid_unit": world.other_building_group.pk,
        },
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=volunteer, role=Role.BUILDING_GROUP_LEADER)
    client.post(reverse("admin:grids_roleassignment_delete", args=[assignment.pk]), {"post": "yes"})
    entries = AuditEntry.objects.filter(object_type="role_assignment").order_by("id")
    assert [(e.action, e.actor, e.grid_path) for e in entries] == [
        (AuditAction.ROLE_GRANT, secretary, "/S/B/A/A2/A2-1/"),
        (AuditAction.ROLE_REVOKE, secretary, "/S/B/A/A2/A2-1/"),
    ]


# Hole 10: linking a login to a resident ------------------------------------------------


def test_a_link_in_the_admin_is_audited(world):
    secretary = world.users[Role.SECRETARY]
    volunteer = world.users[Role.VOLUNTEER]
    response = link(admin_client(secretary), volunteer, world.neighbour)
    assert response.status_code == 302
    assert ResidentAccount.objects.get(user=volunteer).resident == world.neighbour
    entry = AuditEntry.objects.get(action=AuditAction.LINK, actor__isnull=False)
    assert (entry.actor, entry.object_type, entry.object_id, entry.grid_path) == (
        secretary,
        "resident",
        str(world.neighbour.pk),
        world.neighbour.grid_path,
    )
    assert entry.object_label == "李建国 · volunteer"


def test_a_login_outside_the_editors_area_cannot_be_linked(world, people):
    client = admin_client(world.users[Role.SECRETARY])
    for login in (people["far"], people["loose"]):
        assert form_errors(link(client, login, world.neighbour)) == ["user"]
    assert ResidentAccount.objects.count() == 1  # the fixture's own resident login
    assert not staff_links()


def test_a_login_of_another_resident_cannot_be_linked_again(world):
    client = admin_client(world.users[Role.SECRETARY])
    response = link(client, world.users[Role.RESIDENT], world.neighbour)
    assert form_errors(response) == ["user"]
    assert ResidentAccount.objects.get(user=world.users[Role.RESIDENT]).resident == world.resident
    assert not staff_links()


def test_a_resident_who_has_a_login_gets_no_second_one(world):
    client = admin_client(world.users[Role.SECRETARY])
    response = link(client, world.users[Role.VOLUNTEER], world.resident)
    assert form_errors(response) == ["resident"]
    assert not ResidentAccount.objects.filter(user=world.users[Role.VOLUNTEER]).exists()


def test_a_login_holding_a_post_outside_the_area_is_linked_only_by_someone_above_both(
    world, people
):
    # A volunteer of A who also holds a post in C: linked by A's secretary, C's staff
    # member would read an A household's health tags. The street administrator may.
    both = people["far"]
    role_assign(user=both, role=Role.VOLUNTEER, grid_unit=world.community, post="volunteer")
    assert form_errors(link(admin_client(world.users[Role.SECRETARY]), both, world.neighbour)) == [
        "user"
    ]
    response = link(admin_client(world.users[Role.STREET_ADMIN]), both, world.neighbour)
    assert response.status_code == 302
    assert list(households_visible(user=User.objects.get(pk=both.pk))) == [
        world.neighbour_household
    ]


def test_an_unlink_in_the_admin_is_audited_and_ends_the_view_of_the_household(world):
    secretary = world.users[Role.SECRETARY]
    account = ResidentAccount.objects.get(user=world.users[Role.RESIDENT])
    response = admin_client(secretary).post(
        reverse("admin:grids_residentaccount_delete", args=[account.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not ResidentAccount.objects.filter(pk=account.pk).exists()
    entry = AuditEntry.objects.get(action=AuditAction.UNLINK)
    assert (entry.actor, entry.object_id, entry.grid_path, entry.object_label) == (
        secretary,
        str(world.resident.pk),
        world.resident.grid_path,
        "张桂英 · resident",
    )
    resident_login = User.objects.get(pk=world.users[Role.RESIDENT].pk)
    assert list(households_visible(user=resident_login)) == []


def test_an_unlink_outside_the_area_is_refused(world):
    other = make_user("login-c")
    resident_create(
        household=world.other_community_household,
        name="赵小明",
        sex="male",
        birth_year=1999,
        id_number=ID_NUMBERS[4],
        user=other,
    )
    account = ResidentAccount.objects.get(user=other)
    response = admin_client(world.users[Role.SECRETARY]).post(
        reverse("admin:grids_residentaccount_delete", args=[account.pk]), {"post": "yes"}
    )
    assert response.status_code in (302, 403)
    assert ResidentAccount.objects.filter(pk=account.pk).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.UNLINK).exists()


def test_a_link_made_when_a_resident_is_registered_is_audited(world):
    secretary = world.users[Role.SECRETARY]
    login = make_user("new-resident")
    resident = resident_create(
        household=world.neighbour_household,
        name="李小红",
        sex="female",
        birth_year=1990,
        id_number=ID_NUMBERS[5],
        user=login,
        actor=secretary,
    )
    entry = AuditEntry.objects.get(action=AuditAction.LINK, object_id=str(resident.pk))
    assert (entry.actor, entry.grid_path, entry.object_label) == (
        secretary,
        resident.grid_path,
        "李小红 · new-resident",
    )


def test_non_staff_accounts_do_not_reach_the_admin(world):
    client = Client()
    client.force_login(world.users[Role.SECRETARY])
    response = client.get(reverse("admin:grids_residentaccount_add"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert GridUnit.objects.count() == 10
