from django.urls import reverse

from linli.accounts.roles import Role


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
