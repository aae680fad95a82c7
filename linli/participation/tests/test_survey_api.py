"""`/api/v1/surveys`: list, detail, respond and results, with the permission matrix (a
denied call answers 401/404 and changes nothing)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.accounts.roles import Role
from linli.participation.surveys.models import SurveyResponse
from linli.participation.tests.survey_helpers import answers_for, make_survey
from linli.participation.tests.test_survey_pages import ROLES, user_for
from linli.testing.clients import client_for

URL = "/api/v1/surveys"
RESULTS = {Role.STREET_ADMIN, Role.SECRETARY, Role.MICRO_GRID_LEAD}
SEES = RESULTS | {Role.RESIDENT}


def _payload(survey, values):
    return {"answers": {str(k): v for k, v in answers_for(survey, values).items()}}


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(world, role):
    survey = make_survey(world)
    client = client_for(user_for(world, role))
    listed = client.get(URL)
    detail = client.get(f"{URL}/{survey.pk}")
    results = client.get(f"{URL}/{survey.pk}/results")
    respond = client.post(
        f"{URL}/{survey.pk}/responses", _payload(survey, [3] * 4), content_type="application/json"
    )
    got = (listed.status_code, detail.status_code, results.status_code, respond.status_code)
    if role == "anonymous":
        assert got == (401, 401, 401, 401)
    else:
        assert got == (
            200,
            200 if role in SEES else 404,
            200 if role in RESULTS else 404,
            201 if role == Role.RESIDENT else 404,
        )
        assert listed.json()["count"] == (1 if role in SEES else 0)
    assert SurveyResponse.objects.count() == (1 if role == Role.RESIDENT else 0)


def test_detail_lists_factors_items_and_the_scale(world):
    survey = make_survey(world, free_text_prompt="Ideas?")
    body = client_for(world.users[Role.RESIDENT]).get(f"{URL}/{survey.pk}").json()
    assert body["answered"] is False
    assert body["free_text_prompt"] == "Ideas?"
    assert [s["value"] for s in body["scale"]] == [1, 2, 3, 4, 5]
    assert body["scale"][0]["label"] == "Strongly disagree"
    assert [(f["name"], [i["reverse_scored"] for i in f["items"]]) for f in body["factors"]] == [
        ("Trust", [False, True]),
        ("Preparedness", [False, False]),
    ]


def test_a_second_response_answers_409(world):
    survey = make_survey(world)
    client = client_for(world.users[Role.RESIDENT])
    url = f"{URL}/{survey.pk}/responses"
    first = client.post(url, _payload(survey, [3] * 4), content_type="application/json")
    second = client.post(url, _payload(survey, [4] * 4), content_type="application/json")
    assert (first.status_code, second.status_code) == (201, 409)
    assert second.json() == {
        "message": "You have already answered this survey; one response per resident.",
        "field": None,
    }
    assert list(SurveyResponse.objects.get().answers.values_list("value", flat=True)) == [3] * 4


def test_a_missing_item_answers_400_naming_the_item(world):
    survey = make_survey(world)
    payload = _payload(survey, [3] * 4)
    last = survey.items.last()
    del payload["answers"][str(last.pk)]
    response = client_for(world.users[Role.RESIDENT]).post(
        f"{URL}/{survey.pk}/responses", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Answer “We keep supplies”: choose 1 to 5.",
        "field": f"item_{last.pk}",
    }
    assert SurveyResponse.objects.count() == 0


def test_results_carry_scores_per_unit(world):
    survey = make_survey(world, anonymous=False)
    client_for(world.users[Role.RESIDENT]).post(
        f"{URL}/{survey.pk}/responses",
        _payload(survey, [5, 1, 4, 2]),
        content_type="application/json",
    )
    body = client_for(world.users[Role.SECRETARY]).get(f"{URL}/{survey.pk}/results").json()
    assert body["responses"] == 1
    assert body["alpha"] == {"Trust": None, "Preparedness": None}
    units = {unit["path"]: unit for unit in body["units"]}
    assert units["/S/B/A/A1/A1-1/"] == {
        "path": "/S/B/A/A1/A1-1/",
        "name": "1号楼组",
        "level": "building_group",
        "responses": 1,
        "adults": 2,
        "response_rate": 0.5,
        "scores": {"Trust": 5.0, "Preparedness": 3.0},
        "suppressed": False,
    }
    assert units["/S/B/A/A2/"]["scores"] == {"Trust": None, "Preparedness": None}


def test_anonymous_results_hide_a_unit_with_one_response(world):
    survey = make_survey(world, anonymous=True)
    client_for(world.users[Role.RESIDENT]).post(
        f"{URL}/{survey.pk}/responses",
        _payload(survey, [5, 1, 4, 2]),
        content_type="application/json",
    )
    body = client_for(world.users[Role.SECRETARY]).get(f"{URL}/{survey.pk}/results").json()
    units = {unit["path"]: unit for unit in body["units"]}
    assert units["/S/B/A/A1/A1-1/"] == {
        "path": "/S/B/A/A1/A1-1/",
        "name": "1号楼组",
        "level": "building_group",
        "responses": None,
        "adults": 2,
        "response_rate": None,
        "scores": {"Trust": None, "Preparedness": None},
        "suppressed": True,
    }


def test_the_list_costs_the_same_queries_for_one_survey_or_five(world):
    client = client_for(world.users[Role.RESIDENT])
    survey = make_survey(world)
    client.post(
        f"{URL}/{survey.pk}/responses", _payload(survey, [3] * 4), content_type="application/json"
    )
    client.get(URL)  # warm the session
    with CaptureQueriesContext(connection) as one:
        first = client.get(URL).json()
    for _ in range(4):
        make_survey(world)
    with CaptureQueriesContext(connection) as five:
        body = client.get(URL).json()
    assert [item["answered"] for item in first["items"]] == [True]
    assert [item["answered"] for item in body["items"]] == [False] * 4 + [True]
    assert len(five) == len(one)
