"""A resident on a phone, in real Debian Chromium: opens the resilience survey from its
link, is told which item is missing, then answers every item once."""

import importlib

from django.apps import apps

from linli.accounts.roles import Role
from linli.participation.surveys import services
from linli.participation.surveys.models import Survey, SurveyResponse
from linli.testing.browser import log_in, needs_chromium

pytestmark = needs_chromium


def resilience_template() -> Survey:
    # A transactional test starts from emptied tables: seed the templates again the way
    # the data migration does.
    if not Survey.objects.filter(is_template=True).exists():
        importlib.import_module("linli.participation.migrations.0003_survey_templates").seed(
            apps, None
        )
    return Survey.objects.get(is_template=True, title__startswith="社区韧性调查")


def test_resident_answers_the_resilience_survey_on_a_phone(
    transactional_db,
    live_server,
    world,
    phone,  # noqa: F811
):
    secretary = world.users[Role.SECRETARY]
    survey = services.survey_copy_template(
        actor=secretary, template=resilience_template(), community=world.community
    )
    services.survey_open(actor=secretary, survey=survey)
    items = list(survey.items.all())
    base = live_server.url
    log_in(phone, base, Role.RESIDENT)

    phone.goto(f"{base}/activities/surveys/")
    phone.click(f"a[href='/activities/surveys/{survey.pk}/']")
    # Every item but the last, by tapping the label of "4".
    for item in items[:-1]:
        phone.click(f"input[name=item_{item.pk}][value='4']")
    phone.click("[data-testid=submit-survey]")
    phone.wait_for_selector(f"[data-testid=item_{items[-1].pk}-error]")
    assert SurveyResponse.objects.count() == 0
    # The chosen answers survived the round trip; only the missing one is needed.
    assert phone.is_checked(f"input[name=item_{items[0].pk}][value='4']")
    phone.click(f"input[name=item_{items[-1].pk}][value='2']")
    phone.click("[data-testid=submit-survey]")
    phone.wait_for_selector("[data-testid=already-answered]")
    phone.wait_for_load_state("networkidle")
    response = SurveyResponse.objects.get()
    assert response.respondent_id is None
    assert sorted(response.answers.values_list("value", flat=True)) == [2] + [4] * 20
