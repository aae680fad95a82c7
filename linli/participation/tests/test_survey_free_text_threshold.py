"""Free-text answers obey the minimum-responses rule (issue 13, hole 22).

In an anonymous survey a unit with fewer than three responses shows neither its count nor
its scores (MIN_ANONYMOUS_CELL); free text says far more than a score, so a reader sees the
free-text answers only once at least three responses lie inside their results area. The
rule is the selector's, so the results page and the API (which carry free text) obey it.
"""

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.roles import Role
from linli.participation.surveys import selectors, services
from linli.participation.tests.survey_helpers import answers_for, make_survey, resident_logins

IDEAS = {"resident": "多装路灯", "neighbour": "楼道堆物要清理", "other_micro_grid": "加装电梯"}


@pytest.fixture
def logins(world):
    return resident_logins(world)


def respond(survey, logins, *keys) -> None:
    for key in keys:
        services.survey_respond(
            actor=logins[key],
            survey=survey,
            answers=answers_for(survey, [4, 2, 4, 4]),
            free_text=IDEAS[key],
        )


def results_page(world, role: str, survey) -> str:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(world.users[role])
    body = client.get(reverse("participation:survey_results", args=[survey.pk])).content.decode()
    return body.split("<main>", 1)[1].split("</main>", 1)[0]


def api_results(world, role: str, survey) -> dict:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(world.users[role])
    response = client.get(f"/api/v1/surveys/{survey.pk}/results")
    assert response.status_code == 200
    return response.json()


def test_two_free_texts_in_an_anonymous_survey_are_withheld(world, logins):
    survey = make_survey(world, anonymous=True, free_text_prompt="Ideas?")
    respond(survey, logins, "resident", "neighbour")
    data = selectors.survey_results(user=world.users[Role.SECRETARY], survey=survey)
    assert (data["responses"], data["free_texts"], data["free_texts_suppressed"]) == (
        2,
        [],
        True,
    )
    main = results_page(world, Role.SECRETARY, survey)
    assert [text for text in IDEAS.values() if text in main] == []
    assert "Free-text answers are shown once at least 3 people have responded." in main
    body = api_results(world, Role.SECRETARY, survey)
    assert (body["free_texts"], body["free_texts_suppressed"]) == ([], True)


def test_the_third_response_releases_the_free_texts(world, logins):
    survey = make_survey(world, anonymous=True, free_text_prompt="Ideas?")
    respond(survey, logins, "resident", "neighbour", "other_micro_grid")
    data = selectors.survey_results(user=world.users[Role.SECRETARY], survey=survey)
    assert data["free_texts_suppressed"] is False
    assert sorted(data["free_texts"]) == sorted(IDEAS.values())
    main = results_page(world, Role.SECRETARY, survey)
    assert [text for text in IDEAS.values() if text in main] == list(IDEAS.values())
    body = api_results(world, Role.SECRETARY, survey)
    assert (sorted(body["free_texts"]), body["free_texts_suppressed"]) == (
        sorted(IDEAS.values()),
        False,
    )


def test_the_threshold_counts_only_the_readers_own_area(world, logins):
    # Three responses in community A, but only two in the micro-grid lead's A1.
    survey = make_survey(world, anonymous=True, free_text_prompt="Ideas?")
    respond(survey, logins, "resident", "neighbour", "other_micro_grid")
    data = selectors.survey_results(user=world.users[Role.MICRO_GRID_LEAD], survey=survey)
    assert (data["responses"], data["free_texts"], data["free_texts_suppressed"]) == (
        2,
        [],
        True,
    )
    main = results_page(world, Role.MICRO_GRID_LEAD, survey)
    assert [text for text in IDEAS.values() if text in main] == []


def test_a_named_survey_shows_its_free_texts_like_its_other_numbers(world, logins):
    # The rule protects anonymity; a named survey's units show every count already.
    survey = make_survey(world, anonymous=False, free_text_prompt="Ideas?")
    respond(survey, logins, "resident")
    data = selectors.survey_results(user=world.users[Role.SECRETARY], survey=survey)
    assert (data["free_texts"], data["free_texts_suppressed"]) == (["多装路灯"], False)
