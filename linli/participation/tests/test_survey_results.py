"""Results: factor scores per grid unit with reverse-scored items recoded, response rates,
alpha per factor, and the micro-grid lead's view of their own subtree only."""

from datetime import date

import pytest

from linli.accounts.roles import Role
from linli.conftest import ID_NUMBERS
from linli.grids.services import resident_create
from linli.participation.surveys import selectors, services
from linli.participation.tests.survey_helpers import answers_for, make_survey, resident_logins


def _answer(world, *, anonymous):
    logins = resident_logins(world)
    # One more adult in household 101 who does not answer, and a child in 201 who is not
    # counted among the adults.
    resident_create(
        household=world.household,
        name="张明",
        sex="male",
        birth_year=1975,
        id_number=ID_NUMBERS[4],
    )
    resident_create(
        household=world.other_micro_grid_household,
        name="王小宝",
        sex="male",
        birth_year=date.today().year - 6,
        id_number=ID_NUMBERS[5],
    )
    survey = make_survey(world, anonymous=anonymous)
    # Items: Trust (plain, reverse), Preparedness (plain, plain).
    for key, values in (
        ("resident", [5, 1, 4, 2]),  # Trust 5, 6−1=5 → 5.0; Prep 3.0
        ("neighbour", [4, 3, 2, 2]),  # Trust 4, 3 → 3.5; Prep 2.0
        ("other_micro_grid", [2, 4, 5, 5]),  # Trust 2, 2 → 2.0; Prep 5.0
    ):
        services.survey_respond(
            actor=logins[key], survey=survey, answers=answers_for(survey, values)
        )
    return survey


@pytest.fixture
def answered(world):
    # Named (not anonymous), so that every unit shows its numbers.
    return _answer(world, anonymous=False)


def _rows(data):
    return {
        row["unit"].code: (row["responses"], row["adults"], row["rate"], row["scores"])
        for row in data["rows"]
    }


def test_factor_scores_per_unit_recode_reverse_items(world, answered):
    data = selectors.survey_results(user=world.users[Role.SECRETARY], survey=answered)
    assert [f.name for f in data["factors"]] == ["Trust", "Preparedness"]
    assert _rows(data) == {
        "A": (3, 4, 3 / 4, [3.5, pytest.approx(10 / 3)]),
        "A1": (2, 3, 2 / 3, [4.25, 2.5]),
        "A1-1": (2, 3, 2 / 3, [4.25, 2.5]),
        "A2": (1, 1, 1.0, [2.0, 5.0]),
        "A2-1": (1, 1, 1.0, [2.0, 5.0]),
    }
    assert data["responses"] == 3


def test_alpha_per_factor_uses_recoded_answers(world, answered):
    # Trust recoded rows (5,5),(4,3),(2,2): item variances 7/3, 7/3; totals 10,7,4 → 9;
    # α = 2·(1 − (14/3)/9) = 26/27. Preparedness rows (4,2),(2,2),(5,5): 7/3 and 3;
    # totals 6,4,10 → 28/3; α = 2·(1 − (16/3)/(28/3)) = 6/7.
    data = selectors.survey_results(user=world.users[Role.STREET_ADMIN], survey=answered)
    assert data["alphas"] == [pytest.approx(26 / 27), pytest.approx(6 / 7)]


def test_a_micro_grid_lead_sees_only_their_micro_grid(world, answered):
    lead = world.users[Role.MICRO_GRID_LEAD]
    survey = selectors.survey_get_results(user=lead, survey_id=answered.pk)
    data = selectors.survey_results(user=lead, survey=survey)
    assert _rows(data) == {
        "A1": (2, 3, 2 / 3, [4.25, 2.5]),
        "A1-1": (2, 3, 2 / 3, [4.25, 2.5]),
    }
    # Trust over their two responses: (5,5),(4,3) → item variances 1/2, 2; totals 10,7 → 9/2.
    assert data["alphas"][0] == pytest.approx(8 / 9)
    assert data["responses"] == 2


@pytest.mark.parametrize(
    "role", [Role.BUILDING_GROUP_LEADER, Role.VOLUNTEER, Role.PARTNER_LIAISON, Role.RESIDENT]
)
def test_other_roles_read_no_results(world, answered, role):
    assert not selectors.surveys_with_results(user=world.users[role]).exists()


def test_a_draft_has_no_results_to_read(world):
    survey = make_survey(world, open_it=False)
    assert (
        not selectors.surveys_with_results(user=world.users[Role.SECRETARY])
        .filter(pk=survey.pk)
        .exists()
    )


def test_an_anonymous_survey_hides_units_with_fewer_than_three_responses(world):
    survey = _answer(world, anonymous=True)
    data = selectors.survey_results(user=world.users[Role.SECRETARY], survey=survey)
    assert _rows(data) == {
        "A": (3, 4, 3 / 4, [3.5, pytest.approx(10 / 3)]),
        "A1": (None, 3, None, [None, None]),
        "A1-1": (None, 3, None, [None, None]),
        "A2": (None, 1, None, [None, None]),
        "A2-1": (None, 1, None, [None, None]),
    }
    assert [row["suppressed"] for row in data["rows"]] == [False, True, True, True, True]
    # Alpha pools the responses and names no unit: it stays.
    assert data["alphas"] == [pytest.approx(26 / 27), pytest.approx(6 / 7)]
