"""Resident surveys: an instrument (Likert items grouped into factors), its responses and
answers.

A Survey belongs to a community (its `grid_path` is the community's path) or is a
template (no community) that staff copy into theirs. Items are rated 1–5; a
reverse-scored item is recoded 6 − x before any score or alpha is computed.

Anonymity: every response stores `respondent_key`, a keyed hash (HMAC-SHA256 with the
site's SECRET_KEY) of the survey and the user, so that the unique constraint refuses a
second response. For an anonymous survey the `respondent` column stays empty; the key is
never shown, and it cannot be turned back into a user without the secret key and a
search over all users. The response also stores the respondent's household grid path at
the time of answering, so results can be grouped by building group and micro-grid.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.fields import GridPathField
from linli.grids.models import WithinPathQuerySet, path_index

LIKERT_MIN = 1
LIKERT_MAX = 5
# The labels of the five points, shown on every item.
LIKERT_LABELS = (
    (1, _("Strongly disagree")),
    (2, _("Disagree")),
    (3, _("Neutral")),
    (4, _("Agree")),
    (5, _("Strongly agree")),
)


class SurveyState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Survey(models.Model):
    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    community = models.ForeignKey(
        "grids.GridUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    # The community's path; empty for a template, which no scope reaches.
    grid_path = GridPathField(editable=False, blank=True)
    is_template = models.BooleanField(_("template"), default=False)
    anonymous = models.BooleanField(_("anonymous"), default=True)
    free_text_prompt = models.CharField(_("free-text question"), max_length=300, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=SurveyState.choices, default=SurveyState.DRAFT
    )
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        indexes = [path_index("survey")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=SurveyState.values), name="survey_state_valid"
            ),
            # A template has no community; every other survey has one.
            models.CheckConstraint(
                condition=(
                    models.Q(is_template=True, community__isnull=True)
                    | models.Q(is_template=False, community__isnull=False)
                ),
                name="survey_template_xor_community",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(opens_at__isnull=True)
                    | models.Q(closes_at__isnull=True)
                    | models.Q(closes_at__gt=models.F("opens_at"))
                ),
                name="survey_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_draft(self) -> bool:
        return self.state == SurveyState.DRAFT

    @property
    def is_open(self) -> bool:
        return self.state == SurveyState.OPEN


class SurveyFactor(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="factors")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["survey_id", "position", "id"]
        verbose_name = _("factor")
        verbose_name_plural = _("factors")
        constraints = [
            models.UniqueConstraint(fields=["survey", "name"], name="surveyfactor_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class SurveyItem(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="items")
    factor = models.ForeignKey(SurveyFactor, on_delete=models.CASCADE, related_name="items")
    text = models.CharField(_("text"), max_length=300)
    reverse_scored = models.BooleanField(_("reverse-scored"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["survey_id", "position", "id"]
        verbose_name = _("item")
        verbose_name_plural = _("items")

    def __str__(self) -> str:
        return self.text


class SurveyResponse(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    # Empty for an anonymous survey (see the module docstring).
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    respondent_key = models.CharField(max_length=64, editable=False)
    # The respondent's household path when they answered: results group by it.
    grid_path = GridPathField(editable=False)
    free_text = models.TextField(_("free text"), max_length=2000, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [path_index("surveyresp")]
        constraints = [
            # One response per resident: the database refuses the second, also when two
            # arrive at the same instant.
            models.UniqueConstraint(
                fields=["survey", "respondent_key"], name="surveyresponse_one_per_resident"
            ),
        ]

    def __str__(self) -> str:
        # Never the respondent: an anonymous survey's response names nobody.
        return f"{self.survey_id}#{self.pk}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(SurveyItem, on_delete=models.CASCADE, related_name="answers")
    value = models.PositiveSmallIntegerField(_("value"))

    class Meta:
        ordering = ["response_id", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="surveyanswer_unique_item"),
            models.CheckConstraint(
                condition=models.Q(value__gte=LIKERT_MIN) & models.Q(value__lte=LIKERT_MAX),
                name="surveyanswer_value_likert",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}={self.value}"


def respondent_key(*, survey_id: int, user_id: int) -> str:
    """A keyed hash of the survey and the user: enforces one response without storing who
    answered an anonymous survey (see the module docstring)."""
    message = f"survey-response:{survey_id}:{user_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
