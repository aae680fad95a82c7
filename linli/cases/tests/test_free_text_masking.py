"""Notes typed by staff on a case (handling steps, the handler) can name a person and their
number: a reporter who holds no post covering the case (a volunteer, a partner unit's
liaison, a resident) reads them with the numbers masked, staff covering it as typed; the
reporter's own words (the description, their own notes) stay as they typed them."""

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseSource
from linli.cases.services import case_create, case_transition
from linli.conftest import ID_NUMBERS
from linli.grids.services import resident_create
from linli.testing.clients import client_for

OWN = "楼道堆满纸箱，我的电话 13912345678"
TYPED = "张帆联系沈阿姨 13812345678，身份证 110101199003070038"
MASKED = "张帆联系沈阿姨 138****5678，身份证 110101********0038"
HANDLER_TYPED = "物业王师傅 13812345678"
HANDLER_MASKED = "物业王师傅 138****5678"
WARNING = (
    "Partners and volunteers will see this text: do not write names, phone numbers or ID "
    "numbers into it."
)
REPORTERS = [Role.PARTNER_LIAISON, Role.VOLUNTEER, Role.RESIDENT]


@pytest.fixture
def world(world):
    """The volunteer and the partner unit's liaison also live in A社区 (1号楼 102): like any
    resident, they report problems of their community."""
    for name, role, id_number in (
        ("孙志愿", Role.VOLUNTEER, ID_NUMBERS[4]),
        ("周联络", Role.PARTNER_LIAISON, ID_NUMBERS[5]),
    ):
        resident_create(
            household=world.neighbour_household,
            name=name,
            sex="female",
            birth_year=1980,
            id_number=id_number,
            user=world.users[role],
        )
    return world


def handled_case(world, category, reporter_role) -> Case:
    """Filed by `reporter_role`, accepted and dispatched by the secretary with notes that
    name a neighbour and her numbers."""
    secretary = world.users[Role.SECRETARY]
    case = case_create(
        reporter=world.users[reporter_role],
        category=category,
        building=world.building,
        description=OWN,
        source=CaseSource.RESIDENT_REPORT,
    )
    case = case_transition(case=case, actor=secretary, action="accept", note=TYPED)
    return case_transition(
        case=case, actor=secretary, action="dispatch", note=TYPED, handler_text=HANDLER_TYPED
    )


def api_texts(world, role, case) -> tuple:
    body = client_for(world.users[role]).get(f"/api/v1/cases/{case.pk}").json()
    notes = [event["note"] for event in body["events"] if event["action"] in ("accept", "dispatch")]
    return body["description"], body["handler"], notes


@pytest.mark.parametrize("reporter", REPORTERS)
def test_the_api_masks_staff_notes_for_a_reporter_without_a_post_on_the_case(
    world, category, reporter
):
    case = handled_case(world, category, reporter)

    assert api_texts(world, reporter, case) == (OWN, HANDLER_MASKED, [MASKED, MASKED])


@pytest.mark.parametrize("staff", [Role.SECRETARY, Role.BUILDING_GROUP_LEADER, Role.STREET_ADMIN])
def test_the_api_shows_staff_covering_the_case_its_notes_as_typed(world, category, staff):
    case = handled_case(world, category, Role.PARTNER_LIAISON)

    assert api_texts(world, staff, case) == (OWN, HANDLER_TYPED, [TYPED, TYPED])


@pytest.mark.parametrize(
    "role, shown, hidden",
    [
        (Role.SECRETARY, TYPED, MASKED),
        (Role.PARTNER_LIAISON, MASKED, "13812345678"),
        (Role.VOLUNTEER, MASKED, "13812345678"),
    ],
)
def test_the_case_page_masks_staff_notes_for_the_reporter(world, category, role, shown, hidden):
    reporter = Role.PARTNER_LIAISON if role == Role.SECRETARY else role
    case = handled_case(world, category, reporter)

    page = (
        client_for(world.users[role]).get(reverse("cases:detail", args=[case.pk])).content.decode()
    )

    assert page.count(f"<br>{shown}</li>") == 2
    assert hidden not in page
    assert f'<p data-testid="description">{OWN}</p>' in page


def test_the_case_page_masks_the_handler_for_the_reporter(world, category):
    case = handled_case(world, category, Role.PARTNER_LIAISON)

    reporter = client_for(world.users[Role.PARTNER_LIAISON]).get(
        reverse("cases:detail", args=[case.pk])
    )
    staff = client_for(world.users[Role.SECRETARY]).get(reverse("cases:detail", args=[case.pk]))

    assert f'<dd data-testid="handler">{HANDLER_MASKED}</dd>' in reporter.content.decode()
    assert f'<dd data-testid="handler">{HANDLER_TYPED}</dd>' in staff.content.decode()


def test_the_reporter_reads_their_own_note_as_typed(world, category):
    case = handled_case(world, category, Role.PARTNER_LIAISON)
    secretary = world.users[Role.SECRETARY]
    case = case_transition(case=case, actor=secretary, action="start")
    case = case_transition(case=case, actor=secretary, action="resolve", note="已清理")
    case_transition(case=case, actor=world.users[Role.PARTNER_LIAISON], action="reopen", note=OWN)

    body = client_for(world.users[Role.PARTNER_LIAISON]).get(f"/api/v1/cases/{case.pk}").json()

    assert [event["note"] for event in body["events"] if event["action"] == "reopen"] == [OWN]


def test_staff_action_forms_warn_that_the_reporter_reads_their_notes(world, category):
    case = handled_case(world, category, Role.PARTNER_LIAISON)

    staff = client_for(world.users[Role.SECRETARY]).get(reverse("cases:detail", args=[case.pk]))
    reporter = client_for(world.users[Role.PARTNER_LIAISON]).get(
        reverse("cases:detail", args=[case.pk])
    )

    assert (
        f'<p class="muted small" id="note-warning-reassign" data-testid="free-text-warning">'
        f"{WARNING}</p>"
    ) in staff.content.decode()
    assert WARNING not in reporter.content.decode()
