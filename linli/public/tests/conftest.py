"""The public pages' tests: the world of linli/conftest.py on a pinned clock, and helpers that
carry cases through the real services."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseSource
from linli.cases.services import case_create, case_transition
from linli.public.services import public_pages_set

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Wednesday in the middle of a month, so that "this month" has days on both sides.
NOW = datetime(2025, 6, 18, 10, 0, tzinfo=SHANGHAI)
SITE = "https://linli.example.org"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def site(settings):
    settings.LINLI_SITE_URL = SITE
    return SITE


def turn_on(world, *, cases_board: bool = True, calendar: bool = True, community=None):
    return public_pages_set(
        actor=world.users[Role.SECRETARY],
        community=community or world.community,
        cases_board=cases_board,
        calendar=calendar,
    )


def category(code: str) -> CaseCategory:
    return CaseCategory.objects.get(code=code)


def file_case(
    world, *, code: str = "SAF-01", description: str = "楼道堆满纸箱", reporter=None, **extra
) -> Case:
    return case_create(
        reporter=reporter or world.users[Role.BUILDING_GROUP_LEADER],
        category=category(code),
        description=description,
        source=CaseSource.VISIT if reporter is None else CaseSource.RESIDENT_REPORT,
        building=world.building,
        **extra,
    )


def close_case(world, case: Case, clock, *, took: timedelta, rating: int | None = None) -> Case:
    """accept → dispatch → start → resolve → verify → close, `took` after filing; then the
    reporter's rating."""
    lead = world.users[Role.MICRO_GRID_LEAD]
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    case = case_transition(case=case, actor=lead, action="accept")
    case = case_transition(case=case, actor=lead, action="dispatch", owner_user=leader)
    case = case_transition(case=case, actor=leader, action="start")
    case = case_transition(case=case, actor=leader, action="resolve", note="已清理")
    case = case_transition(case=case, actor=lead, action="verify")
    clock.shift(took)
    case = case_transition(case=case, actor=lead, action="close")
    if rating is not None:
        case = case_transition(case=case, actor=case.reporter, action="rate", satisfaction=rating)
    return case
