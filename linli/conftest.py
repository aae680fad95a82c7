"""Shared fixtures: a small street with two communities and one user per role.

The tree (codes in brackets):

    street S [S] ── block B [B] ── community A [A] ── micro-grid A1 [A1] ── building group A1-1 [A1-1] ── 1号楼 (101, 102)
                                                 └── micro-grid A2 [A2] ── building group A2-1 [A2-1] ── 2号楼 (201)
                               └── community C [C] ── micro-grid C1 [C1] ── building group C1-1 [C1-1] ── 9号楼 (901)

Every row is made through the real services.
"""

import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connections

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.grids.models import Building, GridUnit, Household, Resident
from linli.grids.services import (
    building_create,
    grid_unit_create,
    household_create,
    resident_create,
    role_assign,
)
from linli.testing.browser import (  # noqa: F401 - fixtures for every test
    _browser_fails_on_csp_violations,
    browser,
    desktop,
    phone,
)
from linli.testing.builders import PASSWORD
from linli.testing.language import english  # noqa: F401 - a fixture for every test

# Green on any day: `LINLI_TEST_CLOCK` moves every test to another moment, to prove no test
# leans on today's date. Either an ISO moment ("2027-12-31T23:50:00+08:00"; without an offset
# it is read in Asia/Shanghai, the site's zone) or a shift from the real clock ("+365d",
# "-12h", "+1w2d"). The clock keeps running (tick=True), and a test that pins its own clock
# with time_machine.travel inside still wins: the innermost travel is the one in force.
TEST_CLOCK_VARIABLE = "LINLI_TEST_CLOCK"
_SHIFT_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_test_clock(value: str) -> datetime | timedelta:
    """The moment (aware) or the shift that `value` names; ValueError when it names neither."""
    value = value.strip()
    shift = re.fullmatch(r"([+-])((?:\d+[wdhms])+)", value)
    if shift:
        sign = -1 if shift.group(1) == "-" else 1
        parts = re.findall(r"(\d+)([wdhms])", shift.group(2))
        return sign * timedelta(**{_SHIFT_UNITS[unit]: int(number) for number, unit in parts})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{TEST_CLOCK_VARIABLE}={value!r}: expected an ISO moment such as "
            "2027-12-31T23:50:00+08:00 or a shift such as +365d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return moment


def _test_clock() -> datetime | timedelta | None:
    value = os.environ.get(TEST_CLOCK_VARIABLE, "").strip()
    return parse_test_clock(value) if value else None


def pytest_configure(config):
    # A mistyped clock fails the run at once rather than quietly testing today.
    try:
        _test_clock()
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_report_header(config):
    value = os.environ.get(TEST_CLOCK_VARIABLE, "").strip()
    return f"clock: {value} ({TEST_CLOCK_VARIABLE})" if value else "clock: real"


@pytest.fixture(autouse=True)
def _moved_clock():
    destination = _test_clock()
    if destination is None:
        yield
        return
    if isinstance(destination, timedelta):
        destination = datetime.now(ZoneInfo("UTC")) + destination
    with time_machine.travel(destination, tick=True):
        yield


# Valid GB 11643 ID numbers (checksums correct), used only by tests.
ID_NUMBERS = [
    "110101199003070038",
    "110101199003070054",
    "110101199003070070",
    "110101199003070097",
    "110101199003070118",
    "110101199003070134",
]


@dataclass
class World:
    street: GridUnit
    block: GridUnit
    community: GridUnit
    micro_grid: GridUnit
    other_micro_grid: GridUnit
    building_group: GridUnit
    other_building_group: GridUnit
    other_community: GridUnit
    building: Building
    household: Household
    neighbour_household: Household
    other_micro_grid_household: Household
    other_community_household: Household
    resident: Resident
    neighbour: Resident
    other_micro_grid_resident: Resident
    other_community_resident: Resident
    users: dict[str, User | None]


def make_user(username: str) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, display_name=username)


def build_world() -> World:
    street = grid_unit_create(level="street", code="S", name="G街道", parent=None)
    block = grid_unit_create(level="block", code="B", name="第一街区", parent=street)
    community = grid_unit_create(level="community", code="A", name="A社区", parent=block)
    micro_grid = grid_unit_create(
        level="micro_grid", code="A1", name="第一微网格", parent=community
    )
    other_micro_grid = grid_unit_create(
        level="micro_grid", code="A2", name="第二微网格", parent=community
    )
    building_group = grid_unit_create(
        level="building_group", code="A1-1", name="1号楼组", parent=micro_grid
    )
    other_building_group = grid_unit_create(
        level="building_group", code="A2-1", name="2号楼组", parent=other_micro_grid
    )
    other_community = grid_unit_create(level="community", code="C", name="C社区", parent=block)
    other_community_micro = grid_unit_create(
        level="micro_grid", code="C1", name="C第一微网格", parent=other_community
    )
    other_community_group = grid_unit_create(
        level="building_group", code="C1-1", name="9号楼组", parent=other_community_micro
    )

    building = building_create(grid_unit=building_group, name="1号楼")
    household = household_create(building=building, room="101")
    neighbour_household = household_create(building=building, room="102")
    other_building = building_create(grid_unit=other_building_group, name="2号楼")
    other_micro_grid_household = household_create(building=other_building, room="201")
    far_building = building_create(grid_unit=other_community_group, name="9号楼")
    other_community_household = household_create(building=far_building, room="901")

    users: dict[str, User | None] = {"anonymous": None}
    for role in Role.values:
        users[role] = make_user(role)
    role_assign(
        user=users[Role.STREET_ADMIN], role=Role.STREET_ADMIN, grid_unit=street, post="street_admin"
    )
    role_assign(
        user=users[Role.SECRETARY], role=Role.SECRETARY, grid_unit=community, post="party_secretary"
    )
    role_assign(
        user=users[Role.MICRO_GRID_LEAD],
        role=Role.MICRO_GRID_LEAD,
        grid_unit=micro_grid,
        post="branch_secretary",
    )
    role_assign(
        user=users[Role.BUILDING_GROUP_LEADER],
        role=Role.BUILDING_GROUP_LEADER,
        grid_unit=building_group,
        post="building_group_head",
    )
    role_assign(
        user=users[Role.VOLUNTEER], role=Role.VOLUNTEER, grid_unit=community, post="volunteer"
    )
    role_assign(
        user=users[Role.PARTNER_LIAISON],
        role=Role.PARTNER_LIAISON,
        grid_unit=community,
        post="partner_liaison",
    )
    role_assign(
        user=users[Role.RESIDENT], role=Role.RESIDENT, grid_unit=building_group, post="resident"
    )

    resident = resident_create(
        household=household,
        name="张桂英",
        sex="female",
        birth_year=1946,
        phone="13812341234",
        id_number=ID_NUMBERS[0],
        vulnerability_tags=["elderly_alone"],
        user=users[Role.RESIDENT],
    )
    neighbour = resident_create(
        household=neighbour_household,
        name="李建国",
        sex="male",
        birth_year=1958,
        phone="13912345678",
        id_number=ID_NUMBERS[1],
        party_membership="retired",
    )
    other_micro_grid_resident = resident_create(
        household=other_micro_grid_household,
        name="王芳",
        sex="female",
        birth_year=1985,
        phone="13700001111",
        id_number=ID_NUMBERS[2],
        residency_type="migrant",
        vulnerability_tags=["pregnant"],
    )
    other_community_resident = resident_create(
        household=other_community_household,
        name="赵强",
        sex="male",
        birth_year=1970,
        phone="13600002222",
        id_number=ID_NUMBERS[3],
    )
    return World(
        street=street,
        block=block,
        community=community,
        micro_grid=micro_grid,
        other_micro_grid=other_micro_grid,
        building_group=building_group,
        other_building_group=other_building_group,
        other_community=other_community,
        building=building,
        household=household,
        neighbour_household=neighbour_household,
        other_micro_grid_household=other_micro_grid_household,
        other_community_household=other_community_household,
        resident=resident,
        neighbour=neighbour,
        other_micro_grid_resident=other_micro_grid_resident,
        other_community_resident=other_community_resident,
        users=users,
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture(autouse=True)
def _seeded_case_categories(request):
    """The case categories come from a data migration, and a transactional test (the
    browser tests) flushes every table when it ends: put them back for the next one."""
    if "transactional_db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    from linli.cases.models import CaseCategory

    if not CaseCategory.objects.exists():
        import_module("linli.cases.migrations.0002_seed_categories").seed(apps, None)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    # Outside tests the cache is a folder every process on the machine shares (var/cache).
    # Tests get one of their own per run and per xdist worker (each worker has its own
    # tmp_path_factory), so parallel workers and a running demo never see or clear each
    # other's entries. The file cache also when LINLI_REDIS_URL is set: `cache.clear()`
    # before each test must never empty a shared Redis.
    from django.test.utils import override_settings

    location = tmp_path_factory.mktemp("cache")
    backend = {"BACKEND": "linli.ops.cache.FailSoftFileBasedCache", "LOCATION": str(location)}
    with override_settings(CACHES={"default": backend}):
        yield


@pytest.fixture(autouse=True)
def _no_live_emergency():
    # Each test starts with an empty database, so with no live emergency; the cache that
    # spares every page a query for the banner must not carry one over from another test.
    from django.core.cache import cache

    from linli.emergency.selectors import LIVE_KEY

    cache.clear()
    cache.set(LIVE_KEY, [], None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness protects real passwords; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _staff_two_factor_off(settings):
    # Production asks staff for a code after the password (LINLI_STAFF_TWO_FACTOR); tests log
    # staff in with force_login. linli/accounts/tests/test_two_factor.py turns it on.
    settings.LINLI_STAFF_TWO_FACTOR = False


@pytest.fixture(autouse=True)
def _privacy_notice_off(settings):
    # Production sends everyone to the privacy notice until they accept it
    # (LINLI_PRIVACY_NOTICE_REQUIRED); tests log in with force_login and go straight to the
    # page under test. linli/privacy/tests/test_notice.py turns it on.
    settings.LINLI_PRIVACY_NOTICE_REQUIRED = False


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The hashed-manifest storage needs `collectstatic` first; tests serve from the apps.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True, scope="session")
def _celery_tasks_inline():
    # Outside tests `.delay()` goes to `linli worker` (files under var/broker, or Redis); tests
    # run tasks inline, inside the test's transaction. A test that needs a real worker turns
    # this off for itself (linli/notify/tests/test_broker_outage.py).
    from linli.celery import app

    app.conf.task_always_eager = True


def run_together(*actions) -> list[BaseException]:
    """Run each action in its own thread, released at the same instant (concurrency tests
    on PostgreSQL); each thread closes its own connection. Returns the errors raised."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def worker(action):
        try:
            barrier.wait()
            action()
        except BaseException as error:  # noqa: BLE001 - reported to the calling test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
