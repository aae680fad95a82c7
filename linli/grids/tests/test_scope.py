from linli.accounts.roles import Role
from linli.grids.selectors import households_visible, residents_visible


def names(queryset):
    return sorted(resident.name for resident in queryset)


def test_secretary_sees_every_resident_of_the_community_and_none_outside(world):
    assert names(residents_visible(user=world.users[Role.SECRETARY])) == [
        "张桂英",
        "李建国",
        "王芳",
    ]


def test_street_admin_sees_both_communities(world):
    assert names(residents_visible(user=world.users[Role.STREET_ADMIN])) == [
        "张桂英",
        "李建国",
        "王芳",
        "赵强",
    ]


def test_micro_grid_lead_sees_only_their_micro_grid(world):
    assert names(residents_visible(user=world.users[Role.MICRO_GRID_LEAD])) == ["张桂英", "李建国"]


def test_resident_sees_only_their_own_household(world):
    user = world.users[Role.RESIDENT]
    assert names(residents_visible(user=user)) == ["张桂英"]
    assert list(households_visible(user=user)) == [world.household]


def test_volunteer_and_partner_see_no_residents(world):
    assert names(residents_visible(user=world.users[Role.VOLUNTEER])) == []
    assert names(residents_visible(user=world.users[Role.PARTNER_LIAISON])) == []
