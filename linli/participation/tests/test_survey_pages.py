"""Survey pages: the permission matrix for every page and action, the answering page's
errors, and anonymity (no page names who answered)."""

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.services import role_assign
from linli.participation.surveys import services
from linli.participation.surveys.models import Survey, SurveyFactor, SurveyItem, SurveyResponse
from linli.participation.tests.survey_helpers import answers_for, make_survey, resident_logins
from linli.testing.clients import client_for

ROLES = [*Role.values, "anonymous", "other_secretary"]
MANAGERS = {Role.STREET_ADMIN, Role.SECRETARY}
RESULTS = {Role.STREET_ADMIN, Role.SECRETARY, Role.MICRO_GRID_LEAD}


def user_for(world, role: str):
    """The world's user of `role` (None for "anonymous"); "other_secretary" is the secretary
    of community C."""
    if role == "other_secretary":
        user = make_user("other-secretary")
        role_assign(
            user=user, role=Role.SECRETARY, grid_unit=world.other_community, post="party_secretary"
        )
        return user
    return world.users[role]


def _expected(role: str, allowed: set) -> int:
    if role == "anonymous":
        return 302  # to the sign-in page
    return 200 if role in allowed else 404


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(world, role):
    survey = make_survey(world)
    draft = make_survey(world, open_it=False)
    client = client_for(user_for(world, role))
    pages = {
        reverse("participation:surveys"): set(Role.values) | {"other_secretary"},
        reverse("participation:survey_new"): MANAGERS | {"other_secretary"},
        reverse("participation:survey_edit", args=[draft.pk]): MANAGERS,
        reverse("participation:survey_share", args=[survey.pk]): MANAGERS,
        reverse("participation:survey_results", args=[survey.pk]): RESULTS,
        reverse("participation:survey_answer", args=[survey.pk]): {Role.RESIDENT},
    }
    got = {url: client.get(url).status_code for url in pages}
    assert got == {url: _expected(role, allowed) for url, allowed in pages.items()}


@pytest.mark.parametrize("role", ROLES)
def test_action_matrix_and_denied_actions_change_nothing(world, role):
    draft = make_survey(world, open_it=False)
    survey = make_survey(world)
    template = Survey.objects.filter(is_template=True).order_by("id").first()
    factor = draft.factors.first()
    client = client_for(user_for(world, role))
    before = (
        Survey.objects.count(),
        SurveyFactor.objects.count(),
        SurveyItem.objects.count(),
        list(Survey.objects.order_by("id").values_list("state", flat=True)),
    )
    actions = [
        (reverse("participation:survey_factor_add", args=[draft.pk]), {"name": "New"}),
        (
            reverse("participation:survey_item_add", args=[draft.pk]),
            {"factor": factor.pk, "text": "A new item"},
        ),
        (reverse("participation:survey_open", args=[draft.pk]), {}),
        (reverse("participation:survey_close", args=[survey.pk]), {}),
        (
            reverse("participation:survey_copy", args=[template.pk]),
            {"community": world.community.pk},
        ),
    ]
    statuses = [client.post(url, data).status_code for url, data in actions]
    after = (
        Survey.objects.count(),
        SurveyFactor.objects.count(),
        SurveyItem.objects.count(),
        list(Survey.objects.order_by("id").values_list("state", flat=True)),
    )
    if role in MANAGERS:
        assert statuses == [302] * 5
        assert after[:3] == (before[0] + 1, before[1] + 1 + 5, before[2] + 1 + 21)
    elif role == "anonymous":
        assert statuses == [302] * 5
        assert after == before
    elif role == "other_secretary":
        # Another community's secretary: A's surveys are not found; the copy form only
        # offers their own community, so posting A's id is refused with a message.
        assert statuses == [404, 404, 404, 404, 302]
        assert after == before
    else:
        assert statuses == [404] * 5
        assert after == before


def test_staff_build_a_survey_in_the_web_ui(world):
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        reverse("participation:survey_new"),
        {"title": "楼道安全", "community": world.community.pk, "anonymous": "on"},
    )
    survey = Survey.objects.get(title="楼道安全")
    assert response.url == reverse("participation:survey_edit", args=[survey.pk])
    client.post(reverse("participation:survey_factor_add", args=[survey.pk]), {"name": "Safety"})
    factor = survey.factors.get()
    client.post(
        reverse("participation:survey_item_add", args=[survey.pk]),
        {"factor": factor.pk, "text": "Our stairwell is clear", "reverse_scored": "on"},
    )
    client.post(reverse("participation:survey_open", args=[survey.pk]))
    survey.refresh_from_db()
    assert survey.state == "open"
    assert list(survey.items.values_list("text", "reverse_scored")) == [
        ("Our stairwell is clear", True)
    ]
    page = client.get(reverse("participation:survey_share", args=[survey.pk])).content.decode()
    assert "<svg" in page
    assert f"/activities/surveys/{survey.pk}/" in page


def test_the_answering_page_names_each_missing_item_and_keeps_the_chosen_values(world):
    survey = make_survey(world)
    client = client_for(world.users[Role.RESIDENT])
    items = list(survey.items.all())
    response = client.post(
        reverse("participation:survey_answer", args=[survey.pk]),
        {f"item_{items[0].pk}": "4", f"item_{items[1].pk}": "2"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Answer “I know the shelter”: choose 1 to 5." in page
    assert "Answer “We keep supplies”: choose 1 to 5." in page
    assert "Answer “Neighbours can be trusted”" not in page
    assert f'name="item_{items[0].pk}" value="4" required checked' in page
    assert SurveyResponse.objects.count() == 0


def test_a_resident_answers_on_the_page_once(world):
    survey = make_survey(world)
    client = client_for(world.users[Role.RESIDENT])
    data = {f"item_{item.pk}": "3" for item in survey.items.all()}
    url = reverse("participation:survey_answer", args=[survey.pk])
    assert client.post(url, data).status_code == 302
    page = client.get(url).content.decode()
    assert 'data-testid="already-answered"' in page
    assert client.post(url, data).status_code == 200
    assert SurveyResponse.objects.count() == 1


def test_a_resident_finds_open_surveys_on_the_list(world):
    survey = make_survey(world)
    make_survey(world, open_it=False)
    page = (
        client_for(world.users[Role.RESIDENT])
        .get(reverse("participation:surveys"))
        .content.decode()
    )
    assert page.count(reverse("participation:survey_answer", args=[survey.pk])) == 1
    assert "New survey" not in page


def test_staff_cannot_see_who_answered_an_anonymous_survey(world):
    logins = resident_logins(world)
    survey = make_survey(world, anonymous=True, free_text_prompt="Ideas?")
    for key in ("resident", "neighbour"):
        services.survey_respond(
            actor=logins[key],
            survey=survey,
            answers=answers_for(survey, [4, 2, 4, 4]),
            free_text="多装路灯",
        )
    names = ["张桂英", "李建国", "login-neighbour", "101", "102"]
    for role in (Role.STREET_ADMIN, Role.SECRETARY, Role.MICRO_GRID_LEAD):
        client = client_for(user_for(world, role))
        for url in (
            reverse("participation:survey_results", args=[survey.pk]),
            reverse("participation:surveys"),
        ):
            body = client.get(url).content.decode()
            # The navigation shows the signed-in user's own name; only the rest counts.
            main = body.split("<main>", 1)[1].split("</main>", 1)[0]
            assert [name for name in names if name in main] == []
        api = client.get(f"/api/v1/surveys/{survey.pk}/results").content.decode()
        assert [name for name in names if name in api] == []
    # Free text shows once three people answered (hole 22; test_survey_free_text_threshold).
    services.survey_respond(
        actor=logins["other_micro_grid"],
        survey=survey,
        answers=answers_for(survey, [4, 2, 4, 4]),
        free_text="多装路灯",
    )
    main = (
        client_for(world.users[Role.SECRETARY])
        .get(reverse("participation:survey_results", args=[survey.pk]))
        .content.decode()
    )
    assert "多装路灯" in main
