"""`/api/v1/surveys`: resident surveys for apps.

Mounted by linli/api.py with `api.add_router("/surveys", router)`. Conventions follow
activities.api: `{"items", "count"}` pages, errors `{"message", "field"}`, 404 for
anything outside the caller's scope, 403 for a refused action, 409 for a second response
(linli/api.py maps every refusal by its code).
Results carry counts, means, rates and alpha only; no response is ever tied to a person.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from linli.api_shared import (
    ERRORS,
    WRITE_ERRORS,
    Id,
    PageIn,
    column_text,
    paginate,
    visible_or_404,
)
from linli.participation.surveys import selectors, services
from linli.participation.surveys.models import LIKERT_LABELS, Survey, SurveyResponse

router = Router(tags=["surveys"])


class SurveyOut(Schema):
    id: int
    title: str
    community: str
    state: str
    anonymous: bool
    closes_at: datetime | None
    answered: bool = Field(description="Whether the caller has answered it")


class SurveyPage(Schema):
    items: list[SurveyOut]
    count: int


class SurveyItemOut(Schema):
    id: int
    text: str
    reverse_scored: bool


class FactorOut(Schema):
    id: int
    name: str
    items: list[SurveyItemOut]


class SurveyDetailOut(SurveyOut):
    description: str
    free_text_prompt: str
    scale: list[dict[str, Any]] = Field(description="The five points and their labels")
    factors: list[FactorOut]


class RespondIn(Schema):
    answers: dict[str, int] = Field(description="Item id → 1..5, every item")
    free_text: column_text(SurveyResponse, "free_text") = ""


class RespondOut(Schema):
    survey_id: int
    submitted_at: datetime


class SurveyUnitOut(Schema):
    path: str
    name: str
    level: str
    responses: int | None = Field(description="null: too few to show (anonymous survey)")
    adults: int
    response_rate: float | None
    scores: dict[str, float | None]
    suppressed: bool = Field(description="Fewer than 3 responses in an anonymous survey")


class ResultsOut(Schema):
    survey_id: int
    responses: int
    alpha: dict[str, float | None]
    units: list[SurveyUnitOut]
    free_texts: list[str] = Field(
        description="Unattributed; empty while an anonymous survey has fewer than 3 responses "
        "in your area"
    )
    free_texts_suppressed: bool


def _survey(survey: Survey, user, answered: bool | None = None) -> dict:
    if answered is None:
        answered = selectors.has_responded(user=user, survey=survey)
    return {
        "id": survey.pk,
        "title": survey.title,
        "community": survey.community.name if survey.community else "",
        "state": survey.state,
        "anonymous": survey.anonymous,
        "closes_at": survey.closes_at,
        "answered": answered,
    }


@router.get("", response={200: SurveyPage, **ERRORS}, summary="Surveys I answer or run")
def survey_list(request: HttpRequest, page: Query[PageIn]):
    rows, count = paginate(selectors.surveys_visible(user=request.auth).order_by("-id"), page)
    answered = selectors.answered_ids(user=request.auth, surveys=rows)
    return {
        "items": [_survey(survey, request.auth, survey.pk in answered) for survey in rows],
        "count": count,
    }


@router.get("/{int:survey_id}", response={200: SurveyDetailOut, **ERRORS})
def survey_detail(request: HttpRequest, survey_id: Id):
    survey = visible_or_404(
        selectors.survey_get_visible, "survey_id", user=request.auth, survey_id=survey_id
    )
    return {
        **_survey(survey, request.auth),
        "description": survey.description,
        "free_text_prompt": survey.free_text_prompt,
        "scale": [{"value": value, "label": str(label)} for value, label in LIKERT_LABELS],
        "factors": [
            {
                "id": part["factor"].pk,
                "name": part["factor"].name,
                "items": [
                    {"id": i.pk, "text": i.text, "reverse_scored": i.reverse_scored}
                    for i in part["items"]
                ],
            }
            for part in selectors.survey_structure(survey)
        ],
    }


@router.post("/{int:survey_id}/responses", response={201: RespondOut, **WRITE_ERRORS})
def respond(request: HttpRequest, survey_id: Id, payload: RespondIn):
    survey = visible_or_404(
        selectors.survey_get_for_respondent, "survey_id", user=request.auth, survey_id=survey_id
    )
    response = services.survey_respond(
        actor=request.auth, survey=survey, answers=payload.answers, free_text=payload.free_text
    )
    return Status(201, {"survey_id": survey.pk, "submitted_at": response.submitted_at})


@router.get("/{int:survey_id}/results", response={200: ResultsOut, **ERRORS}, summary="Staff")
def results(request: HttpRequest, survey_id: Id):
    survey = visible_or_404(
        selectors.survey_get_results, "survey_id", user=request.auth, survey_id=survey_id
    )
    data = selectors.survey_results(user=request.auth, survey=survey)
    names = [factor.name for factor in data["factors"]]
    return {
        "survey_id": survey.pk,
        "responses": data["responses"],
        "alpha": dict(zip(names, data["alphas"], strict=True)),
        "units": [
            {
                "path": row["unit"].path,
                "name": row["unit"].name,
                "level": row["unit"].level,
                "responses": row["responses"],
                "suppressed": row["suppressed"],
                "adults": row["adults"],
                "response_rate": row["rate"],
                "scores": dict(zip(names, row["scores"], strict=True)),
            }
            for row in data["rows"]
        ],
        "free_texts": data["free_texts"],
        "free_texts_suppressed": data["free_texts_suppressed"],
    }
