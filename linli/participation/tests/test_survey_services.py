"""Building, opening and answering surveys through the real services."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from linli.accounts.roles import Role
from linli.participation.surveys import services
from linli.participation.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyItem,
    SurveyResponse,
    SurveyState,
)
from linli.participation.tests.survey_helpers import answers_for, make_survey, resident_logins


@pytest.fixture
def logins(world):
    return resident_logins(world)


def test_the_data_migration_seeds_the_two_templates(db):
    templates = Survey.objects.filter(is_template=True).order_by("id")
    assert [t.title for t in templates] == [
        "社区韧性调查 / Community resilience survey",
        "社区服务满意度调查 / Community service satisfaction survey",
    ]
    resilience = templates[0]
    assert [f.name for f in resilience.factors.all()] == [
        "领导力 / Leadership",
        "集体效能 / Collective efficacy",
        "应急准备 / Preparedness",
        "地方依恋 / Place attachment",
        "社会信任 / Social trust",
    ]
    assert [f.items.count() for f in resilience.factors.all()] == [4, 5, 4, 4, 4]
    assert [f.items.filter(reverse_scored=True).count() for f in resilience.factors.all()] == [
        1,
        1,
        1,
        1,
        1,
    ]
    assert templates[1].items.count() == 9


def test_copying_a_template_makes_a_draft_in_the_community(world):
    template = Survey.objects.get(title__startswith="社区韧性调查")
    survey = services.survey_copy_template(
        actor=world.users[Role.SECRETARY], template=template, community=world.community
    )
    assert (survey.is_template, survey.state, survey.grid_path) == (False, "draft", "/S/B/A/")
    assert survey.items.count() == 21
    assert survey.items.filter(reverse_scored=True).count() == 5
    assert list(survey.items.values_list("text", flat=True)) == list(
        template.items.values_list("text", flat=True)
    )


def test_a_micro_grid_lead_may_not_build_surveys(world):
    with pytest.raises(ValidationError) as caught:
        services.survey_create(
            actor=world.users[Role.MICRO_GRID_LEAD], community=world.community, title="x"
        )
    assert caught.value.code == "permission_denied"
    assert Survey.objects.filter(is_template=False).count() == 0


def test_a_secretary_may_not_build_in_another_community(world):
    with pytest.raises(ValidationError):
        services.survey_create(
            actor=world.users[Role.SECRETARY], community=world.other_community, title="x"
        )
    assert Survey.objects.filter(is_template=False).count() == 0


def test_a_survey_without_a_title_is_refused_naming_the_field(world):
    with pytest.raises(ValidationError) as caught:
        services.survey_create(
            actor=world.users[Role.SECRETARY], community=world.community, title="  "
        )
    assert caught.value.message_dict == {"title": ["Give the survey a title."]}
    assert Survey.objects.filter(is_template=False).count() == 0


def test_an_item_needs_a_factor_of_the_same_survey(world):
    survey = make_survey(world, open_it=False)
    other = make_survey(world, open_it=False)
    with pytest.raises(ValidationError) as caught:
        services.item_add(
            actor=world.users[Role.SECRETARY],
            survey=survey,
            factor=other.factors.first(),
            text="x",
        )
    assert caught.value.message_dict == {"factor": ["Choose one of this survey's factors."]}
    assert survey.items.count() == 4


def test_an_empty_survey_cannot_be_opened(world):
    survey = make_survey(world, open_it=False, factors={})
    with pytest.raises(ValidationError) as caught:
        services.survey_open(actor=world.users[Role.SECRETARY], survey=survey)
    assert caught.value.message_dict == {
        "items": ["Add at least one item before opening the survey."]
    }
    survey.refresh_from_db()
    assert survey.state == SurveyState.DRAFT


def test_an_open_survey_is_frozen(world):
    survey = make_survey(world)
    actor = world.users[Role.SECRETARY]
    with pytest.raises(ValidationError) as caught:
        services.item_add(actor=actor, survey=survey, factor=survey.factors.first(), text="new")
    assert caught.value.messages == ["Only a draft survey can be changed; this one is Open."]
    with pytest.raises(ValidationError):
        services.item_delete(actor=actor, item=survey.items.first())
    with pytest.raises(ValidationError):
        services.survey_update(actor=actor, survey=survey, title="renamed")
    survey.refresh_from_db()
    assert (survey.title, survey.items.count()) == ("韧性调查", 4)


def test_a_resident_answers_once_and_the_answers_are_stored(world, logins):
    survey = make_survey(world, anonymous=False)
    response = services.survey_respond(
        actor=logins["resident"], survey=survey, answers=answers_for(survey, [5, 1, 4, 3])
    )
    assert response.respondent == logins["resident"]
    assert response.grid_path == "/S/B/A/A1/A1-1/"
    assert sorted(response.answers.values_list("value", flat=True)) == [1, 3, 4, 5]


def test_a_second_response_is_refused_clearly(world, logins):
    survey = make_survey(world)
    answers = answers_for(survey, [5, 1, 4, 3])
    services.survey_respond(actor=logins["resident"], survey=survey, answers=answers)
    with pytest.raises(ValidationError) as caught:
        services.survey_respond(actor=logins["resident"], survey=survey, answers=answers)
    assert caught.value.code == services.ALREADY_RESPONDED
    assert caught.value.messages == [
        "You have already answered this survey; one response per resident."
    ]
    assert SurveyResponse.objects.count() == 1
    assert SurveyAnswer.objects.count() == 4


def test_a_missing_answer_names_the_item_and_writes_nothing(world, logins):
    survey = make_survey(world)
    items = list(survey.items.all())
    answers = {items[0].pk: 4, items[1].pk: 2}
    with pytest.raises(ValidationError) as caught:
        services.survey_respond(actor=logins["resident"], survey=survey, answers=answers)
    assert caught.value.message_dict == {
        f"item_{items[2].pk}": ["Answer “I know the shelter”: choose 1 to 5."],
        f"item_{items[3].pk}": ["Answer “We keep supplies”: choose 1 to 5."],
    }
    assert SurveyResponse.objects.count() == 0


@pytest.mark.parametrize("bad", [0, 6, "x", "3.5"])
def test_an_answer_off_the_scale_names_the_item_and_writes_nothing(world, logins, bad):
    survey = make_survey(world)
    answers = answers_for(survey, [4, 4, 4, 4])
    first = survey.items.first()
    answers[first.pk] = bad
    with pytest.raises(ValidationError) as caught:
        services.survey_respond(actor=logins["resident"], survey=survey, answers=answers)
    assert caught.value.message_dict == {
        f"item_{first.pk}": ["“Neighbours can be trusted” takes a whole number from 1 to 5."]
    }
    assert SurveyResponse.objects.count() == 0


def test_an_answer_to_an_unknown_item_is_refused(world, logins):
    survey = make_survey(world)
    other = make_survey(world)
    answers = answers_for(survey, [4, 4, 4, 4])
    answers[other.items.first().pk] = 3
    with pytest.raises(ValidationError) as caught:
        services.survey_respond(actor=logins["resident"], survey=survey, answers=answers)
    assert caught.value.message_dict == {
        "answers": ["An answer names an item this survey does not have."]
    }
    assert SurveyResponse.objects.count() == 0


def test_a_resident_of_another_community_may_not_answer(world, logins):
    survey = make_survey(world)
    with pytest.raises(ValidationError) as caught:
        services.survey_respond(
            actor=logins["other_community"], survey=survey, answers=answers_for(survey, [3] * 4)
        )
    assert caught.value.code == "permission_denied"
    assert SurveyResponse.objects.count() == 0


def test_staff_without_a_household_may_not_answer(world):
    survey = make_survey(world)
    with pytest.raises(ValidationError):
        services.survey_respond(
            actor=world.users[Role.SECRETARY], survey=survey, answers=answers_for(survey, [3] * 4)
        )
    assert SurveyResponse.objects.count() == 0


def test_a_draft_or_closed_survey_takes_no_answers(world, logins):
    draft = make_survey(world, open_it=False)
    with pytest.raises(ValidationError):
        services.survey_respond(
            actor=logins["resident"], survey=draft, answers=answers_for(draft, [3] * 4)
        )
    closed = services.survey_close(actor=world.users[Role.SECRETARY], survey=make_survey(world))
    assert closed.state == SurveyState.CLOSED
    with pytest.raises(ValidationError):
        services.survey_respond(
            actor=logins["resident"], survey=closed, answers=answers_for(closed, [3] * 4)
        )
    assert SurveyResponse.objects.count() == 0


def test_an_anonymous_response_stores_no_respondent_only_a_keyed_hash(world, logins, settings):
    survey = make_survey(world, anonymous=True)
    response = services.survey_respond(
        actor=logins["resident"], survey=survey, answers=answers_for(survey, [3] * 4)
    )
    response.refresh_from_db()
    assert response.respondent_id is None
    assert response.respondent_key == services.respondent_key(
        survey_id=survey.pk, user_id=logins["resident"].pk
    )
    assert len(response.respondent_key) == 64
    # Keyed: without the site's secret the hash cannot be recomputed from a user id.
    settings.SECRET_KEY = "another-secret-" + "x" * 40
    assert response.respondent_key != services.respondent_key(
        survey_id=survey.pk, user_id=logins["resident"].pk
    )


def test_the_free_text_is_kept_only_when_the_survey_asks_for_it(world, logins):
    asks = make_survey(world, free_text_prompt="Any ideas?")
    silent = make_survey(world)
    kept = services.survey_respond(
        actor=logins["resident"],
        survey=asks,
        answers=answers_for(asks, [3] * 4),
        free_text=" 多装路灯 ",
    )
    dropped = services.survey_respond(
        actor=logins["resident"],
        survey=silent,
        answers=answers_for(silent, [3] * 4),
        free_text="ignored",
    )
    assert (kept.free_text, dropped.free_text) == ("多装路灯", "")


def test_deleting_a_factor_in_a_draft_removes_its_items(world):
    survey = make_survey(world, open_it=False)
    services.factor_delete(
        actor=world.users[Role.SECRETARY], factor=survey.factors.get(name="Trust")
    )
    assert list(SurveyItem.objects.filter(survey=survey).values_list("text", flat=True)) == [
        "I know the shelter",
        "We keep supplies",
    ]


def test_a_survey_past_its_closing_time_takes_no_answers(world, logins):
    survey = make_survey(world)
    past = timezone.now() - timedelta(minutes=1)
    Survey.objects.filter(pk=survey.pk).update(opens_at=past - timedelta(days=1), closes_at=past)
    with pytest.raises(ValidationError) as caught:
        services.survey_respond(
            actor=logins["resident"], survey=survey, answers=answers_for(survey, [3] * 4)
        )
    assert caught.value.messages == ["This survey is not open for answers."]
    assert SurveyResponse.objects.count() == 0


def test_a_stale_open_survey_object_cannot_be_answered_after_closing(world, logins):
    survey = make_survey(world)
    services.survey_close(actor=world.users[Role.SECRETARY], survey=survey)
    assert survey.state == SurveyState.OPEN  # the caller's copy is stale
    with pytest.raises(ValidationError) as caught:
        services.survey_respond(
            actor=logins["resident"], survey=survey, answers=answers_for(survey, [3] * 4)
        )
    assert caught.value.messages == ["This survey is not open for answers."]
    assert SurveyResponse.objects.count() == 0
