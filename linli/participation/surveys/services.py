"""Every write about surveys: building an instrument (draft only), copying a template into
a community, opening and closing, and a resident's response. One named action, one
transaction each; a refusal raises ValidationError naming the field (an item's field is
`item_<id>`) and writes nothing.

Who may act: staff with SURVEYS_MANAGE on the survey's community build, open and close it.
A resident whose household lies in the survey's community answers an open survey once.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.errors import NotAllowed
from linli.grids.models import GridLevel, GridUnit
from linli.participation.surveys import selectors
from linli.participation.surveys.models import (
    LIKERT_MAX,
    LIKERT_MIN,
    Survey,
    SurveyAnswer,
    SurveyFactor,
    SurveyItem,
    SurveyResponse,
    SurveyState,
    respondent_key,
)

ALREADY_RESPONDED = "already_responded"


def _require_manage(actor: User, survey: Survey) -> None:
    if survey.is_template or not selectors.may_manage(actor, survey.grid_path):
        raise NotAllowed(_("You may not change this survey."))


def _require_draft(survey: Survey) -> None:
    # An open survey is frozen: answers already given must mean what they meant.
    if survey.state != SurveyState.DRAFT:
        raise ValidationError(
            _("Only a draft survey can be changed; this one is %(state)s.")
            % {"state": survey.get_state_display()},
            code="not_draft",
        )


def _text(value, field: str, message: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: message})
    if len(value) > max_length:
        raise ValidationError({field: _("At most %(count)d characters.") % {"count": max_length}})
    return value


# Building ---------------------------------------------------------------------------------


@transaction.atomic
def survey_create(
    *,
    actor: User,
    community: GridUnit,
    title: str,
    description: str = "",
    anonymous: bool = True,
    free_text_prompt: str = "",
    closes_at=None,
) -> Survey:
    if community.level != GridLevel.COMMUNITY:
        raise ValidationError({"community": _("A survey belongs to a community.")})
    if not selectors.may_manage(actor, community.path):
        raise NotAllowed(_("You may not add surveys to this community."))
    survey = Survey(
        community=community,
        grid_path=community.path,
        created_by=actor,
    )
    _apply_settings(
        survey,
        title=title,
        description=description,
        anonymous=anonymous,
        free_text_prompt=free_text_prompt,
        closes_at=closes_at,
    )
    survey.save()
    return survey


def _apply_settings(survey, *, title, description, anonymous, free_text_prompt, closes_at):
    survey.title = _text(title, "title", _("Give the survey a title."), 150)
    survey.description = _text(description, "description", "", 2000, required=False)
    survey.anonymous = bool(anonymous)
    survey.free_text_prompt = _text(free_text_prompt, "free_text_prompt", "", 300, False)
    if closes_at is not None and closes_at <= clock.now():
        raise ValidationError({"closes_at": _("The closing time must be in the future.")})
    survey.closes_at = closes_at


@transaction.atomic
def survey_update(
    *,
    actor: User,
    survey: Survey,
    title: str,
    description: str = "",
    anonymous: bool = True,
    free_text_prompt: str = "",
    closes_at=None,
) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    _require_manage(actor, survey)
    _require_draft(survey)
    _apply_settings(
        survey,
        title=title,
        description=description,
        anonymous=anonymous,
        free_text_prompt=free_text_prompt,
        closes_at=closes_at,
    )
    survey.save()
    return survey


@transaction.atomic
def survey_copy_template(*, actor: User, template: Survey, community: GridUnit) -> Survey:
    """A draft copy of a template (its factors and items) in the actor's community."""
    if not template.is_template:
        raise ValidationError({"template": _("Only a template can be copied.")})
    survey = survey_create(
        actor=actor,
        community=community,
        title=template.title,
        description=template.description,
        anonymous=template.anonymous,
        free_text_prompt=template.free_text_prompt,
    )
    factors = {}
    for factor in template.factors.all():
        factors[factor.pk] = SurveyFactor.objects.create(
            survey=survey, name=factor.name, position=factor.position
        )
    SurveyItem.objects.bulk_create(
        SurveyItem(
            survey=survey,
            factor=factors[item.factor_id],
            text=item.text,
            reverse_scored=item.reverse_scored,
            position=item.position,
        )
        for item in template.items.all()
    )
    return survey


@transaction.atomic
def factor_add(*, actor: User, survey: Survey, name: str) -> SurveyFactor:
    _require_manage(actor, survey)
    _require_draft(survey)
    name = _text(name, "name", _("Give the factor a name."), 100)
    if survey.factors.filter(name=name).exists():
        raise ValidationError({"name": _("This survey already has a factor of that name.")})
    position = survey.factors.count() + 1
    return SurveyFactor.objects.create(survey=survey, name=name, position=position)


@transaction.atomic
def factor_delete(*, actor: User, factor: SurveyFactor) -> None:
    _require_manage(actor, factor.survey)
    _require_draft(factor.survey)
    factor.delete()


@transaction.atomic
def item_add(
    *, actor: User, survey: Survey, factor: SurveyFactor | None, text: str, reverse_scored=False
) -> SurveyItem:
    _require_manage(actor, survey)
    _require_draft(survey)
    if factor is None or factor.survey_id != survey.pk:
        raise ValidationError({"factor": _("Choose one of this survey's factors.")})
    text = _text(text, "text", _("Write the item's statement."), 300)
    position = survey.items.count() + 1
    return SurveyItem.objects.create(
        survey=survey,
        factor=factor,
        text=text,
        reverse_scored=bool(reverse_scored),
        position=position,
    )


@transaction.atomic
def item_delete(*, actor: User, item: SurveyItem) -> None:
    _require_manage(actor, item.survey)
    _require_draft(item.survey)
    item.delete()


@transaction.atomic
def survey_open(*, actor: User, survey: Survey) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    _require_manage(actor, survey)
    _require_draft(survey)
    if not survey.items.exists():
        raise ValidationError({"items": _("Add at least one item before opening the survey.")})
    now = clock.now()
    if survey.closes_at is not None and survey.closes_at <= now:
        raise ValidationError({"closes_at": _("The closing time must be in the future.")})
    survey.state = SurveyState.OPEN
    survey.opens_at = now
    survey.save(update_fields=["state", "opens_at"])
    return survey


@transaction.atomic
def survey_close(*, actor: User, survey: Survey) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    _require_manage(actor, survey)
    if survey.state != SurveyState.OPEN:
        raise ValidationError(_("Only an open survey can be closed."), code="not_open")
    survey.state = SurveyState.CLOSED
    now = clock.now()
    if survey.closes_at is None or survey.closes_at > now:
        survey.closes_at = max(now, survey.opens_at) if survey.opens_at else now
    survey.save(update_fields=["state", "closes_at"])
    return survey


# Responding -------------------------------------------------------------------------------


def _likert(value, item: SurveyItem) -> int:
    field = f"item_{item.pk}"
    if value is None or value == "":
        raise ValidationError({field: _("Answer “%(item)s”: choose 1 to 5.") % {"item": item.text}})
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not LIKERT_MIN <= number <= LIKERT_MAX:
        raise ValidationError(
            {field: _("“%(item)s” takes a whole number from 1 to 5.") % {"item": item.text}}
        )
    return number


@transaction.atomic
def survey_respond(
    *,
    actor: User,
    survey: Survey,
    answers: Mapping[int, object] | Mapping[str, object],
    free_text: str = "",
) -> SurveyResponse:
    """`answers` maps item id (a number, or its text from JSON) → 1..5; every item must be
    answered."""
    # The state as stored now, not as the caller loaded it (it may have closed since).
    survey = Survey.objects.get(pk=survey.pk)
    now = clock.now()
    if survey.state != SurveyState.OPEN or (survey.closes_at and survey.closes_at <= now):
        raise ValidationError(_("This survey is not open for answers."), code="not_open")
    resident = selectors.resident_of(actor)
    if resident is None or not selectors.may_respond(actor, survey):
        raise NotAllowed(_("This survey is not for your household."))
    items = list(survey.items.all())
    known = {item.pk for item in items}
    try:
        names_unknown = any(int(key) not in known for key in answers)
    except (TypeError, ValueError):
        names_unknown = True
    if names_unknown:
        raise ValidationError({"answers": _("An answer names an item this survey does not have.")})
    values = {int(key): value for key, value in answers.items()}
    # Every faulty item is named at once, so a phone user fixes them in one pass.
    checked, errors = {}, {}
    for item in items:
        try:
            checked[item.pk] = _likert(values.get(item.pk), item)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    free_text = (free_text or "").strip()
    if not survey.free_text_prompt:
        free_text = ""
    if len(free_text) > 2000:
        raise ValidationError({"free_text": _("At most %(count)d characters.") % {"count": 2000}})
    key = respondent_key(survey_id=survey.pk, user_id=actor.pk)
    if SurveyResponse.objects.filter(survey=survey, respondent_key=key).exists():
        raise _already()
    try:
        # A savepoint: a concurrent twin that wins the unique constraint leaves this
        # transaction usable, and the caller gets the same clear refusal.
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                survey=survey,
                respondent=None if survey.anonymous else actor,
                respondent_key=key,
                grid_path=resident.grid_path,
                free_text=free_text,
            )
    except IntegrityError:
        raise _already() from None
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(response=response, item_id=item_id, value=value)
        for item_id, value in checked.items()
    )
    return response


def _already() -> ValidationError:
    # Answered 409 by its code (linli.errors.CONFLICT_CODES); kept a plain ValidationError,
    # the type callers (and the concurrency test) have always received.
    return ValidationError(
        _("You have already answered this survey; one response per resident."),
        code=ALREADY_RESPONDED,
    )
