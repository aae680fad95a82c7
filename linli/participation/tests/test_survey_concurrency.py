"""Two submissions of one resident at the same instant: one response row, one refusal."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from linli.accounts.roles import Role
from linli.conftest import build_world, run_together
from linli.participation.surveys import services
from linli.participation.surveys.models import SurveyAnswer, SurveyResponse
from linli.participation.tests.survey_helpers import answers_for, make_survey

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent writes are a PostgreSQL matter"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_store_one_response():
    world = build_world()
    survey = make_survey(world)
    resident = world.users[Role.RESIDENT]
    answers = answers_for(survey, [4, 2, 4, 4])

    def submit():
        services.survey_respond(actor=resident, survey=survey, answers=answers)

    errors = run_together(submit, submit)
    assert [type(error) for error in errors] == [ValidationError]
    assert errors[0].code == services.ALREADY_RESPONDED
    assert SurveyResponse.objects.filter(survey=survey).count() == 1
    assert SurveyAnswer.objects.count() == 4
