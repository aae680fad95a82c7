from django.urls import reverse

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.grids.models import GridUnit, RoleAssignment


def admin_client(client, user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    return client


def test_staff_micro_grid_lead_sees_only_their_residents_in_the_admin(world, client):
    admin_client(client, world.users[Role.MICRO_GRID_LEAD])
    response = client.get(reverse("admin:grids_resident_changelist"))
    assert response.status_code == 200
    assert [resident.name for resident in response.context["cl"].result_list] == [
        "张桂英",
        "李建国",
    ]


def test_admin_shows_masked_numbers_only(world, client):
    admin_client(client, world.users[Role.SECRETARY])
    content = client.get(reverse("admin:grids_resident_changelist")).content.decode()
    assert "138****1234" in content
    assert "13812341234" not in content
    assert "110101199003070038" not in content


def test_admin_detail_outside_scope_is_not_shown(world, client):
    admin_client(client, world.users[Role.SECRETARY])
    url = reverse("admin:grids_resident_change", args=[world.other_community_resident.pk])
    response = client.get(url)
    # Django's admin redirects to its index with "doesn't exist" for rows outside the queryset.
    assert response.status_code == 302
    assert "赵强" not in client.get(response.url).content.decode()


def test_admin_audit_log_is_only_for_superusers(world, client):
    admin_client(client, world.users[Role.SECRETARY])
    assert client.get(reverse("admin:accounts_auditentry_changelist")).status_code == 403


def add_post(client, user, role, grid_unit, post=""):
    return client.post(
        reverse("admin:grids_roleassignment_add"),
        {"user": user.pk, "role": role, "post": post, "grid_unit": grid_unit.pk},
    )


def test_secretary_assigns_a_building_group_leader_in_the_admin_and_it_is_audited(world, client):
    admin_client(client, world.users[Role.SECRETARY])
    volunteer = world.users[Role.VOLUNTEER]
    response = add_post(
        client,
        volunteer,
        Role.BUILDING_GROUP_LEADER,
        world.other_building_group,
        "building_group_head",
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=volunteer, role=Role.BUILDING_GROUP_LEADER)
    assert (assignment.grid_unit, assignment.grid_path, assignment.post) == (
        world.other_building_group,
        "/S/B/A/A2/A2-1/",
        "building_group_head",
    )
    entry = AuditEntry.objects.get(object_type="role_assignment")
    assert (entry.action, entry.actor, entry.grid_path) == (
        "role_grant",
        world.users[Role.SECRETARY],
        "/S/B/A/A2/A2-1/",
    )


def test_admin_refuses_a_post_on_the_wrong_level_or_outside_scope_and_writes_nothing(world, client):
    admin_client(client, world.users[Role.SECRETARY])
    volunteer = world.users[Role.VOLUNTEER]
    before = RoleAssignment.objects.count()
    wrong_level = add_post(client, volunteer, Role.BUILDING_GROUP_LEADER, world.micro_grid)
    assert wrong_level.status_code == 200
    assert "grid_unit" in wrong_level.context["adminform"].form.errors
    other_community_unit = GridUnit.objects.get(code="C1-1")
    outside = add_post(client, volunteer, Role.BUILDING_GROUP_LEADER, other_community_unit)
    assert outside.status_code == 200
    assert "grid_unit" in outside.context["adminform"].form.errors
    assert RoleAssignment.objects.count() == before
    assert not AuditEntry.objects.filter(object_type="role_assignment").exists()


def test_removing_a_post_in_the_admin_is_audited(world, client):
    admin_client(client, world.users[Role.SECRETARY])
    assignment = RoleAssignment.objects.get(role=Role.BUILDING_GROUP_LEADER)
    response = client.post(
        reverse("admin:grids_roleassignment_delete", args=[assignment.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEntry.objects.get(object_type="role_assignment").action == "role_revoke"


def test_micro_grid_lead_cannot_assign_posts(world, client):
    admin_client(client, world.users[Role.MICRO_GRID_LEAD])
    before = RoleAssignment.objects.count()
    response = add_post(
        client, world.users[Role.VOLUNTEER], Role.BUILDING_GROUP_LEADER, world.building_group
    )
    assert response.status_code == 403
    assert RoleAssignment.objects.count() == before


def test_secretary_opens_the_post_list_and_the_add_form(world, client):
    admin_client(client, world.users[Role.SECRETARY])
    listing = client.get(reverse("admin:grids_roleassignment_changelist"))
    assert listing.status_code == 200
    assert sorted(str(row.user) for row in listing.context["cl"].result_list) == [
        "building_group_leader",
        "micro_grid_lead",
        "partner_liaison",
        "resident",
        "secretary",
        "volunteer",
    ]
    assert client.get(reverse("admin:grids_roleassignment_add")).status_code == 200


def test_secretary_links_a_login_to_a_resident_who_then_sees_their_household(world, client):
    from linli.grids.models import ResidentAccount
    from linli.grids.selectors import households_visible

    admin_client(client, world.users[Role.SECRETARY])
    volunteer = world.users[Role.VOLUNTEER]
    response = client.post(
        reverse("admin:grids_residentaccount_add"),
        {"user": volunteer.pk, "resident": world.neighbour.pk},
    )
    assert response.status_code == 302
    assert ResidentAccount.objects.get(user=volunteer).resident == world.neighbour
    volunteer.refresh_from_db()
    assert list(households_visible(user=volunteer)) == [world.neighbour_household]


def test_resident_outside_the_secretarys_community_cannot_be_linked(world, client):
    from linli.grids.models import ResidentAccount

    admin_client(client, world.users[Role.SECRETARY])
    response = client.post(
        reverse("admin:grids_residentaccount_add"),
        {"user": world.users[Role.VOLUNTEER].pk, "resident": world.other_community_resident.pk},
    )
    assert response.status_code == 200
    assert "resident" in response.context["adminform"].form.errors
    assert not ResidentAccount.objects.filter(user=world.users[Role.VOLUNTEER]).exists()
