"""The demo community: the case study's figures, idempotence, logins, valid ID numbers.

The demo is generated once for the whole module (about a second) inside a transaction that
is rolled back at the end; every test runs in a savepoint inside it.
"""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from linli.accounts.models import User
from linli.accounts.privacy import (
    decrypt_text,
    id_number_hash,
    id_number_is_valid,
    mask_id_number,
    phone_is_valid,
)
from linli.accounts.roles import Role
from linli.demo.generator import (
    CASE_STUDY_SHAPE,
    DEFAULT_RESIDENTS,
    DEFAULT_SEED,
    LOGIN_USERNAMES,
    REFERENCE_YEAR,
    DemoConflict,
    _IdNumbers,
    community_slots,
    demo_generate,
    plan_community,
)
from linli.grids.models import (
    Building,
    GridLevel,
    GridUnit,
    Household,
    PartyMembership,
    Post,
    ResidencyType,
    Resident,
    RoleAssignment,
    Visit,
    VulnerabilityTag,
)
from linli.grids.selectors import residents_visible

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=FAST_HASHER):
            result = demo_generate()
        yield result
        transaction.set_rollback(True)


def unit(name: str) -> GridUnit:
    return GridUnit.objects.get(name=name, level=GridLevel.COMMUNITY)


def fingerprint() -> str:
    """A hash of every row the generator writes, primary keys and timestamps included."""
    digest = hashlib.sha256()
    for model in (GridUnit, Building, Household, Resident, User, RoleAssignment):
        fields = [field.attname for field in model._meta.concrete_fields]
        for row in model.objects.order_by("pk").values_list(*fields):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def counts() -> dict[str, int]:
    models = (GridUnit, Building, Household, Resident, User, RoleAssignment)
    return {model.__name__: model.objects.count() for model in models}


def test_community_a_has_the_case_study_figures(demo, db):
    community = unit("A社区")
    path = [community.path]
    assert community.parent.level == GridLevel.BLOCK
    assert community.parent.parent.name == "G街道"
    assert GridUnit.objects.within(path).filter(level=GridLevel.MICRO_GRID).count() == 7
    assert GridUnit.objects.within(path).filter(level=GridLevel.BUILDING_GROUP).count() == 118
    assert Building.objects.within(path).count() == 118
    assert Household.objects.within(path).count() == 2716
    assert Resident.objects.within(path).count() == CASE_STUDY_SHAPE.residents == 6352


def test_community_a_is_old_mixed_and_has_party_members_of_each_kind(demo, db):
    residents = Resident.objects.within([unit("A社区").path])
    total = residents.count()
    elderly = residents.filter(birth_year__lte=REFERENCE_YEAR - 60).count()
    migrants = residents.filter(residency_type=ResidencyType.MIGRANT).count()
    assert 0.37 <= elderly / total <= 0.43
    assert 0.08 <= migrants / total <= 0.16
    assert residents.filter(residency_type=ResidencyType.PERMANENT).exists()
    for kind in (PartyMembership.IN_SERVICE, PartyMembership.RETIRED, PartyMembership.FLOATING):
        assert residents.filter(party_membership=kind).count() >= 10, kind
    # Floating party members are migrants; retired ones are 60 or over.
    assert not residents.filter(party_membership=PartyMembership.FLOATING).exclude(
        residency_type=ResidencyType.MIGRANT
    )
    assert not residents.filter(
        party_membership=PartyMembership.RETIRED, birth_year__gt=REFERENCE_YEAR - 60
    )


def test_every_vulnerability_tag_occurs_at_a_plausible_rate(demo, db):
    residents = Resident.objects.within([unit("A社区").path])
    total = residents.count()
    for tag in VulnerabilityTag.values:
        share = residents.with_tag(tag).count() / total
        assert 0.002 <= share <= 0.2, (tag, share)
    alone = residents.with_tag(VulnerabilityTag.ELDERLY_ALONE)
    assert not alone.filter(birth_year__gt=REFERENCE_YEAR - 60)
    assert all(
        household.residents.count() == 1
        for household in Household.objects.filter(residents__in=alone[:50])
    )
    assert not residents.with_tag(VulnerabilityTag.LEFT_BEHIND_CHILD).filter(
        birth_year__lte=REFERENCE_YEAR - 18
    )


def test_every_building_group_has_one_leader(demo, db):
    groups = GridUnit.objects.filter(level=GridLevel.BUILDING_GROUP)
    assert groups.count() == 118 + 20
    leaders = RoleAssignment.objects.filter(role=Role.BUILDING_GROUP_LEADER)
    assert sorted(leaders.values_list("grid_unit_id", flat=True)) == sorted(
        groups.values_list("pk", flat=True)
    )
    assert set(leaders.values_list("post", flat=True)) == {Post.BUILDING_GROUP_HEAD}


def test_each_micro_grid_of_a_has_a_branch_secretary_and_a_social_worker_lead(demo, db):
    micro_grids = GridUnit.objects.within([unit("A社区").path]).filter(level=GridLevel.MICRO_GRID)
    for post in (Post.BRANCH_SECRETARY, Post.SOCIAL_WORKER_LEAD):
        held = RoleAssignment.objects.filter(
            role=Role.MICRO_GRID_LEAD, post=post, grid_unit__in=micro_grids
        )
        assert held.count() == 7
        assert held.values("grid_unit").distinct().count() == 7
    assert sorted(
        RoleAssignment.objects.filter(
            post=Post.BRANCH_SECRETARY, grid_unit__in=micro_grids
        ).values_list("user__username", flat=True)
    ) == [f"grid{index}" for index in range(1, 8)]


def test_community_b_is_smaller_and_in_the_same_street(demo, db):
    a, b = unit("A社区"), unit("B社区")
    assert a.parent.parent == b.parent.parent
    assert Building.objects.within([b.path]).count() == 20
    assert Resident.objects.within([b.path]).count() == DEFAULT_RESIDENTS - 6352
    secretary = User.objects.get(username="secretary")
    visible = residents_visible(user=secretary)
    assert visible.count() == 6352
    assert not visible.filter(grid_path__startswith=b.path).exists()
    assert residents_visible(user=User.objects.get(username="street")).count() == (
        DEFAULT_RESIDENTS
    )


def test_grid_codes_are_hierarchical_digit_codes(demo, db):
    lengths = {"street": 9, "block": 11, "community": 14, "micro_grid": 16, "building_group": 19}
    for grid_unit in GridUnit.objects.select_related("parent"):
        assert grid_unit.code.isdigit()
        assert len(grid_unit.code) == lengths[grid_unit.level]
        assert grid_unit.code.startswith("310106")
        if grid_unit.parent:
            assert grid_unit.code.startswith(grid_unit.parent.code)
    boundary = unit("A社区").boundary
    longitude, latitude = boundary["coordinates"][0][0]
    assert boundary["type"] == "Polygon"
    assert 31.2 < latitude < 31.3 and 121.4 < longitude < 121.5


def test_id_numbers_are_valid_and_match_birth_year_and_sex(demo, db):
    rows = Resident.objects.values_list(
        "id_number_encrypted", "id_number_hash", "id_number_masked", "birth_year", "sex", "phone"
    )
    for encrypted, hashed, masked, birth_year, sex, phone in rows:
        number = decrypt_text(encrypted)
        assert id_number_is_valid(number)
        assert int(number[6:10]) == birth_year
        assert (int(number[16]) % 2 == 1) == (sex == "male")
        assert hashed == id_number_hash(number)
        assert masked == mask_id_number(number)
        assert not phone or phone_is_valid(phone)


def test_running_twice_leaves_the_data_unchanged(demo, db):
    before_counts, before_hash = counts(), fingerprint()
    again = demo_generate()
    assert again.added == {
        "grid_units": 0,
        "buildings": 0,
        "households": 0,
        "residents": 0,
        "role_assignments": 0,
    }
    assert again.totals == demo.totals
    assert again.visits_added == 0
    assert counts() == before_counts
    assert fingerprint() == before_hash


def test_building_group_leaders_have_weeks_of_visits_in_their_own_groups(demo, db):
    community = unit("A社区")
    visits = Visit.objects.filter(grid_path__startswith=community.path).select_related("visitor")
    assert visits.count() == demo.visits_added
    # About 55% of A社区's 2,716 households were visited once.
    assert 1300 < demo.visits_added < 1700
    leader_paths = dict(
        RoleAssignment.objects.filter(role=Role.BUILDING_GROUP_LEADER).values_list(
            "user_id", "grid_path"
        )
    )
    assert all(leader_paths[visit.visitor_id] == visit.grid_path for visit in visits)
    assert visits.filter(needs_follow_up=True).exists()
    assert not Visit.objects.filter(grid_path__startswith=unit("B社区").path).exists()


def test_generation_is_a_pure_function_of_the_seed():
    from faker import Faker

    slot = community_slots()[1]
    first = plan_community(slot, seed=DEFAULT_SEED, fake=Faker("zh_CN"), ids=_IdNumbers())
    second = plan_community(slot, seed=DEFAULT_SEED, fake=Faker("zh_CN"), ids=_IdNumbers())
    other = plan_community(slot, seed=7, fake=Faker("zh_CN"), ids=_IdNumbers())
    assert first == second
    assert first != other


EXPECTED_LOGINS = {
    "street": (Role.STREET_ADMIN, Post.STREET_ADMIN, GridLevel.STREET),
    "secretary": (Role.SECRETARY, Post.PARTY_SECRETARY, GridLevel.COMMUNITY),
    **{
        f"grid{index}": (Role.MICRO_GRID_LEAD, Post.BRANCH_SECRETARY, GridLevel.MICRO_GRID)
        for index in range(1, 8)
    },
    "leader": (Role.BUILDING_GROUP_LEADER, Post.BUILDING_GROUP_HEAD, GridLevel.BUILDING_GROUP),
    "volunteer": (Role.VOLUNTEER, Post.VOLUNTEER, GridLevel.COMMUNITY),
    "partner": (Role.PARTNER_LIAISON, Post.PARTNER_LIAISON, GridLevel.COMMUNITY),
    "resident": (Role.RESIDENT, Post.RESIDENT, GridLevel.BUILDING_GROUP),
}


def test_every_demo_login_logs_in_with_the_demo_password_and_holds_its_role(demo, db, client):
    assert sorted(EXPECTED_LOGINS) == sorted(LOGIN_USERNAMES)
    assert [login.username for login in demo.logins] == LOGIN_USERNAMES
    assert demo.password == "linli-demo"
    scopes = {login.username: login.scope for login in demo.logins}
    assert (scopes["street"], scopes["secretary"]) == ("G街道", "A社区")
    assert scopes["grid3"] == "A社区 第三微网格"
    assert scopes["leader"] == scopes["resident"] == "A社区 第一微网格 1号楼组"
    community_a = unit("A社区")
    micro_grid_1 = GridUnit.objects.get(code=f"{community_a.code}01")
    for username, (role, post, level) in EXPECTED_LOGINS.items():
        response = client.post(
            reverse("web:login"),
            {"username": username, "password": "linli-demo"},
            REMOTE_ADDR="10.0.0.9",
        )
        user = User.objects.get(username=username)
        assert response.status_code == 302, username
        assert client.session["_auth_user_id"] == str(user.pk)
        assert user.display_name and all("\u4e00" <= char <= "\u9fff" for char in user.display_name)
        (assignment,) = RoleAssignment.objects.filter(user=user).select_related("grid_unit")
        assert (assignment.role, assignment.post, assignment.grid_unit.level) == (
            role,
            post,
            level,
        )
        if username not in ("street", "secretary", "volunteer", "partner"):
            assert assignment.grid_path.startswith(community_a.path)
        client.logout()
    for index in range(1, 8):
        grid = RoleAssignment.objects.get(user__username=f"grid{index}").grid_unit
        assert grid.code == f"{community_a.code}{index:02d}"
    leader = RoleAssignment.objects.get(user__username="leader").grid_unit
    assert leader.parent == micro_grid_1


def test_resident_login_is_a_resident_of_micro_grid_1(demo, db):
    user = User.objects.get(username="resident")
    resident = Resident.objects.get(account__user=user)
    assignment = RoleAssignment.objects.get(user=user)
    assert resident.grid_path == assignment.grid_path
    assert assignment.grid_unit.parent.code.endswith("01")
    assert user.display_name == resident.name
    assert REFERENCE_YEAR - resident.birth_year >= 18
    visible = residents_visible(user=user)
    assert set(visible.values_list("household_id", flat=True)) == {resident.household_id}


def test_other_generated_posts_cannot_log_in(demo, db):
    user = User.objects.get(username=f"sw-{unit('A社区').code}01")
    assert not user.has_usable_password()
    assert User.objects.filter(username__in=["street", "secretary"], is_staff=True).count() == 2
    assert not User.objects.filter(is_superuser=True).exists()


def test_demo_password_comes_from_settings(demo, db, settings, client):
    settings.LINLI_DEMO_PASSWORD = "another-demo-pass"
    result = demo_generate()
    assert result.password == "another-demo-pass"
    assert result.added["residents"] == 0
    user = User.objects.get(username="grid3")
    assert user.check_password("another-demo-pass")
    assert not user.check_password("linli-demo")


def test_another_seed_on_the_same_database_is_refused(demo, db):
    before = counts()
    with pytest.raises(DemoConflict):
        demo_generate(seed=7)
    assert counts() == before


def test_residents_option_adds_a_shaped_communities_up_to_exactly_n(demo, db):
    slots = community_slots(1_000_000)
    assert sum(slot.shape.residents for slot in slots) == 1_000_000
    assert [slot.shape for slot in slots[2:-1]] == [CASE_STUDY_SHAPE] * (len(slots) - 3)
    assert len({slot.code for slot in slots}) == len(slots)

    result = demo_generate(residents=DEFAULT_RESIDENTS + 900)
    assert result.totals["residents"] == DEFAULT_RESIDENTS + 900
    assert result.added["residents"] == 900
    extra = GridUnit.objects.get(name="C1社区")
    assert extra.parent.parent.name == "G1街道"
    households = Household.objects.within([extra.path]).count()
    assert round(900 / households, 1) == round(6352 / 2716, 1)
    assert (
        RoleAssignment.objects.within([extra.path]).filter(role=Role.BUILDING_GROUP_LEADER).count()
        == Building.objects.within([extra.path]).count()
    )


def test_demo_command_prints_the_logins_without_serving(demo, db):
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    text = out.getvalue()
    assert "(0 residents, 0 visits and 0 cases new in this run)" in text
    lines = text.splitlines()
    for username in LOGIN_USERNAMES:
        assert any(line.startswith(f"{username} ") for line in lines)
    # One password for every login, said once below the table.
    assert sum("linli-demo" in line for line in lines) == 1


def test_demo_has_volunteers_in_teams_partners_needs_and_supplies(demo, db):
    from linli.partners.models import Need, Partner, PartnerLiaison
    from linli.supplies.models import SupplyItem
    from linli.volunteers.models import Team, TeamMembership, Volunteer

    community = unit("A社区")
    volunteers = Volunteer.objects.filter(grid_path__startswith=community.path)
    assert demo.volunteers_added == volunteers.count() == 81
    # Placed in a team makes a volunteer active; the rest stay approved.
    assert set(volunteers.values_list("status", flat=True)) == {"approved", "active"}
    assert Team.objects.filter(grid_path=community.path).count() == 7
    assert TeamMembership.objects.filter(team__grid_path=community.path).count() > 0
    # The demo logins act as what they are: the volunteer is a 双报到 volunteer, the partner
    # liaison speaks for the court's legal studio.
    assert Volunteer.objects.get(user__username="volunteer").work_unit == "区卫生健康委员会"
    assert PartnerLiaison.objects.get(user__username="partner").partner.name == "乔法官工作室"
    assert Partner.objects.filter(grid_path=community.path).count() == 5
    assert Need.objects.filter(grid_path__startswith=community.path).exists()
    assert SupplyItem.objects.filter(grid_path=community.path).count() == 5


def test_demo_has_the_action_day_the_bus_stop_topic_and_an_open_survey(demo, db):
    from linli.participation.deliberation.models import Opinion, Topic
    from linli.participation.models import Activity, SignUp
    from linli.participation.surveys.models import Survey

    community = unit("A社区")
    action_day = Activity.objects.get(grid_path=community.path, kind="action_day")
    assert action_day.occurrences.count() == 12
    assert SignUp.objects.filter(user__username="resident").count() == 1
    topic = Topic.objects.get(grid_path=community.path)
    assert (topic.title, topic.state) == ("小区附近增设公交站点", "open")
    assert Opinion.objects.filter(topic=topic, group="resident").count() == 1
    assert Survey.objects.filter(community=community, state="open").count() == 1
