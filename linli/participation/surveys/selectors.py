"""Every scoped read about surveys.

- Staff with SURVEYS_MANAGE see and build the surveys of the communities in their paths.
- SURVEYS_RESULTS reads results: a street admin or secretary for the whole survey, a
  micro-grid lead for the survey of their community but only the units (and responses)
  inside their own micro-grid.
- A resident sees the open surveys of the community their household belongs to.
Templates are listed to staff for copying; nobody answers them.
Anything else is not found (404).
"""

from collections import defaultdict

from django.db.models import Q, QuerySet
from django.http import Http404

from linli import clock
from linli.accounts.grid_paths import is_within, path_ancestors, within_or_above
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.errors import get_visible_or_404
from linli.grids.models import GridLevel, GridUnit, Resident
from linli.grids.selectors import scope_for, user_can
from linli.participation.surveys import stats
from linli.participation.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyResponse,
    SurveyState,
    respondent_key,
)

MANAGE = Permission.SURVEYS_MANAGE
RESULTS = Permission.SURVEYS_RESULTS
ADULT_AGE = 18
# In an anonymous survey a unit with fewer responses than this shows neither its count nor
# its scores: one response in a building group of one adult would name its author.
MIN_ANONYMOUS_CELL = 3


def may_manage(user: User, grid_path: str | None = None) -> bool:
    """Whether the user builds surveys on `grid_path` (anywhere, without a path)."""
    return user_can(user=user, permission=MANAGE, grid_path=grid_path)


def may_read_results(user: User | None) -> bool:
    return scope_for(user).allows_anywhere(RESULTS)


def resident_of(user: User | None) -> Resident | None:
    if user is None or not user.is_authenticated:
        return None
    return Resident.objects.filter(account__user=user).first()


def surveys_managed(*, user: User) -> QuerySet[Survey]:
    paths = scope_for(user).paths_for(MANAGE)
    return Survey.objects.filter(is_template=False).within(paths).select_related("community")


def survey_get_managed(*, user: User, survey_id: int) -> Survey:
    return get_visible_or_404(surveys_managed(user=user), survey_id)


def templates() -> QuerySet[Survey]:
    return Survey.objects.filter(is_template=True).order_by("id")


def template_get(*, user: User, survey_id: int) -> Survey:
    if not may_manage(user):
        raise Http404
    return get_visible_or_404(templates(), survey_id)


def communities_managed(*, user: User) -> QuerySet[GridUnit]:
    paths = scope_for(user).paths_for(MANAGE)
    return GridUnit.objects.within(paths).filter(level=GridLevel.COMMUNITY).order_by("path")


def _results_paths(user: User | None, survey: Survey) -> list[str]:
    """The parts of the survey's community this user reads results for: all of it if a
    results path covers the community, else each of their paths inside it."""
    paths = scope_for(user).paths_for(RESULTS)
    if is_within(survey.grid_path, paths):
        return [survey.grid_path]
    return [path for path in paths if is_within(path, [survey.grid_path])]


def surveys_with_results(*, user: User) -> QuerySet[Survey]:
    # The community inside a results path, or a results path inside the community.
    return (
        Survey.objects.filter(is_template=False)
        .exclude(state=SurveyState.DRAFT)
        .filter(within_or_above(scope_for(user).paths_for(RESULTS)))
        .select_related("community")
    )


def survey_get_results(*, user: User, survey_id: int) -> Survey:
    return get_visible_or_404(surveys_with_results(user=user), survey_id)


def surveys_open_for(*, user: User) -> QuerySet[Survey]:
    resident = resident_of(user)
    if resident is None:
        return Survey.objects.none()
    ancestors = path_ancestors(resident.grid_path)
    now = clock.now()
    return (
        Survey.objects.filter(is_template=False, state=SurveyState.OPEN, grid_path__in=ancestors)
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))
        .select_related("community")
    )


def survey_get_for_respondent(*, user: User, survey_id: int) -> Survey:
    return get_visible_or_404(surveys_open_for(user=user), survey_id)


def may_respond(user: User, survey: Survey) -> bool:
    return surveys_open_for(user=user).filter(pk=survey.pk).exists()


def surveys_visible(*, user: User) -> QuerySet[Survey]:
    """What the API lists: surveys the user builds, reads results of, or may answer."""
    ids = set(surveys_managed(user=user).values_list("id", flat=True))
    ids.update(surveys_with_results(user=user).values_list("id", flat=True))
    ids.update(surveys_open_for(user=user).values_list("id", flat=True))
    return Survey.objects.filter(pk__in=ids).select_related("community")


def survey_get_visible(*, user: User, survey_id: int) -> Survey:
    return get_visible_or_404(surveys_visible(user=user), survey_id)


def has_responded(*, user: User, survey: Survey) -> bool:
    key = respondent_key(survey_id=survey.pk, user_id=user.pk)
    return SurveyResponse.objects.filter(survey=survey, respondent_key=key).exists()


def answered_ids(*, user: User, surveys) -> set[int]:
    """Which of `surveys` the user has answered, in one query (keys are per survey)."""
    keys = [respondent_key(survey_id=survey.pk, user_id=user.pk) for survey in surveys]
    return set(
        SurveyResponse.objects.filter(respondent_key__in=keys).values_list("survey_id", flat=True)
    )


def survey_structure(survey: Survey) -> list[dict]:
    """Factors with their items, in order (the page's and the API's shape)."""
    items_by_factor = defaultdict(list)
    for item in survey.items.all():
        items_by_factor[item.factor_id].append(item)
    return [
        {"factor": factor, "items": items_by_factor[factor.pk]} for factor in survey.factors.all()
    ]


def _units(paths: list[str]) -> list[GridUnit]:
    """The community (when wholly visible), micro-grids and building groups in `paths`."""
    levels = [GridLevel.COMMUNITY, GridLevel.MICRO_GRID, GridLevel.BUILDING_GROUP]
    return list(GridUnit.objects.within(paths).filter(level__in=levels).order_by("path"))


def survey_results(*, user: User, survey: Survey) -> dict:
    """Factor scores, response counts and rates per unit, and alpha per factor, over the
    responses inside the user's results paths. No respondent is named: only counts,
    means, alpha and unattributed free text leave this function, and an anonymous
    survey's small units and too few free texts are suppressed (MIN_ANONYMOUS_CELL)."""
    paths = _results_paths(user, survey)
    factors = list(survey.factors.all())
    items = {item.pk: item for item in survey.items.all()}
    responses = dict(
        SurveyResponse.objects.filter(survey=survey).within(paths).values_list("id", "grid_path")
    )
    # answers[response][item] = recoded value
    answers: dict[int, dict[int, int]] = defaultdict(dict)
    for response_id, item_id, value in SurveyAnswer.objects.filter(
        response_id__in=list(responses)
    ).values_list("response_id", "item_id", "value"):
        item = items[item_id]
        answers[response_id][item_id] = stats.recode(value, item.reverse_scored)
    factor_items = {
        factor.pk: [item_id for item_id, item in items.items() if item.factor_id == factor.pk]
        for factor in factors
    }

    def person_scores(response_id: int) -> dict[int, float | None]:
        given = answers.get(response_id, {})
        return {
            factor.pk: stats.factor_score([given[i] for i in factor_items[factor.pk] if i in given])
            for factor in factors
        }

    scores = {response_id: person_scores(response_id) for response_id in responses}
    adult_birth_year = clock.localdate().year - ADULT_AGE
    rows = []
    for unit in _units(paths):
        inside = [rid for rid, path in responses.items() if is_within(path, [unit.path])]
        adults = (
            Resident.objects.within([unit.path]).filter(birth_year__lte=adult_birth_year).count()
        )
        if survey.anonymous and 0 < len(inside) < MIN_ANONYMOUS_CELL:
            rows.append(
                {
                    "unit": unit,
                    "suppressed": True,
                    "responses": None,
                    "adults": adults,
                    "rate": None,
                    "scores": [None] * len(factors),
                }
            )
            continue
        rows.append(
            {
                "unit": unit,
                "suppressed": False,
                "responses": len(inside),
                "adults": adults,
                "rate": (len(inside) / adults) if adults else None,
                "scores": [
                    stats.mean_or_none(
                        [score for rid in inside if (score := scores[rid][f.pk]) is not None]
                    )
                    for f in factors
                ],
            }
        )
    alphas = []
    for factor in factors:
        ids = factor_items[factor.pk]
        matrix = [
            [answers[rid][i] for i in ids]
            for rid in responses
            if all(i in answers.get(rid, {}) for i in ids)
        ]
        alphas.append(stats.cronbach_alpha(matrix) if ids else None)
    # Free text says more than any score: in an anonymous survey it shows only once the
    # reader's area holds at least MIN_ANONYMOUS_CELL responses, like a unit's numbers.
    free_texts_suppressed = survey.anonymous and len(responses) < MIN_ANONYMOUS_CELL
    free_texts = []
    if not free_texts_suppressed:
        free_texts = list(
            SurveyResponse.objects.filter(pk__in=list(responses))
            .exclude(free_text="")
            .order_by("?" if survey.anonymous else "id")
            .values_list("free_text", flat=True)
        )
    return {
        "factors": factors,
        "rows": rows,
        "alphas": alphas,
        "responses": len(responses),
        "free_texts": free_texts,
        "free_texts_suppressed": free_texts_suppressed,
    }
