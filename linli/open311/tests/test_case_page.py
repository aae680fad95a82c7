"""The case page shows who filed through Open311, masked, to staff only."""

from django.urls import reverse

from linli.accounts.roles import Role
from linli.cases.models import Case
from linli.open311.tests.test_keys import file_with
from linli.testing.clients import client_for


def test_the_case_page_shows_the_open311_submitter_masked_to_staff(world, issued):
    file_with(issued.secret, first_name="Li", phone="13812345678")
    case = Case.objects.get()
    url = reverse("cases:detail", args=[case.pk])
    staff_page = client_for(world.users[Role.MICRO_GRID_LEAD]).get(url).content.decode()
    assert "138****5678" in staff_page and "13812345678" not in staff_page


def test_a_case_filed_otherwise_shows_no_submitter_card(world):
    from linli.cases.models import CaseCategory
    from linli.cases.services import case_create

    case = case_create(
        reporter=world.users[Role.RESIDENT],
        category=CaseCategory.objects.get(code="SAF-01"),
        description="楼道堆物",
        source="resident_report",
        building=world.building,
    )
    page = client_for(world.users[Role.MICRO_GRID_LEAD]).get(
        reverse("cases:detail", args=[case.pk])
    )
    assert page.status_code == 200
    assert "Open311" not in page.content.decode()
