"""Two staff acting on the same case at once: one wins, the other gets a conflict."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseEvent
from linli.cases.services import case_create, case_transition
from linli.conftest import build_world, run_together

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter"
    ),
]


def a_category() -> CaseCategory:
    # A transactional test empties every table, the seeded categories included.
    major, _ = CaseCategory.objects.get_or_create(
        code="SAF", defaults=dict(name_zh="安全隐患", name_en="Safety hazards")
    )
    minor, _ = CaseCategory.objects.get_or_create(
        code="SAF-01",
        defaults=dict(parent=major, name_zh="楼道堆物", name_en="Stairwell clutter", sla_hours=72),
    )
    return minor


@pytest.mark.django_db(transaction=True)
def test_two_staff_acting_with_the_same_version_one_gets_a_conflict():
    world = build_world()
    case = case_create(
        reporter=world.users[Role.RESIDENT],
        category=a_category(),
        description="楼道堆物",
        source="resident_report",
        building=world.building,
    )

    def act(role, action, note=""):
        return lambda: case_transition(
            case=case,
            actor=world.users[role],
            action=action,
            note=note,
            expected_version=case.version,
        )

    errors = run_together(
        act(Role.SECRETARY, "accept"), act(Role.MICRO_GRID_LEAD, "reject", "不予立案")
    )
    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError) and errors[0].code == "conflict"
    case.refresh_from_db()
    assert case.version == 2
    assert case.state in {"accepted", "rejected"}
    assert CaseEvent.objects.filter(case=case).exclude(action="create").count() == 1
    assert Case.objects.count() == 1
