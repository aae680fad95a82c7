"""Survey pages.

Residents: the open surveys of their community and the answering page (one item per row,
five radio buttons; a missing answer is named). Staff with SURVEYS_MANAGE: their surveys,
the templates to copy, the builder (draft only), opening and closing, and the distribution
page with the link and its QR code. SURVEYS_RESULTS: the results page (a micro-grid lead
sees only the units of their micro-grid). Views stay thin: reads through
surveys.selectors (out of scope answers 404), writes through surveys.services.
"""

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.forms import form_add_errors
from linli.participation.surveys import selectors, services
from linli.participation.surveys.models import LIKERT_LABELS, SurveyFactor, SurveyItem


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def _require_staff(user) -> None:
    if not selectors.may_manage(user):
        raise Http404


# Lists ------------------------------------------------------------------------------------


@login_required
def survey_list(request):
    user = request.user
    staff = selectors.may_manage(user)
    open_surveys = list(selectors.surveys_open_for(user=user))
    answered = selectors.answered_ids(user=user, surveys=open_surveys)
    context = {
        "open_surveys": [(survey, survey.pk in answered) for survey in open_surveys],
        "staff": staff,
        "managed": selectors.surveys_managed(user=user)[:100] if staff else [],
        "templates": selectors.templates() if staff else [],
        "communities": selectors.communities_managed(user=user) if staff else [],
        "with_results": (
            selectors.surveys_with_results(user=user)[:100]
            if selectors.may_read_results(user) and not staff
            else []
        ),
    }
    return render(request, "participation/surveys/list.html", context)


# Building ---------------------------------------------------------------------------------


class SurveyForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=150)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    anonymous = forms.BooleanField(
        label=gettext_lazy("Anonymous: staff never see who answered"), required=False
    )
    free_text_prompt = forms.CharField(
        label=gettext_lazy("Free-text question (optional)"), required=False, max_length=300
    )
    closes_at = forms.DateTimeField(
        label=gettext_lazy("Closes at (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class NewSurveyForm(SurveyForm):
    community = forms.ModelChoiceField(label=gettext_lazy("Community"), queryset=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = selectors.communities_managed(user=user)


@login_required
def survey_new(request):
    _require_staff(request.user)
    form = NewSurveyForm(request.POST or None, user=request.user, initial={"anonymous": True})
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.survey_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            return redirect("participation:survey_edit", survey.pk)
    return render(request, "participation/surveys/new.html", {"form": form})


@login_required
@require_POST
def template_copy(request, template_id: int):
    template = selectors.template_get(user=request.user, survey_id=template_id)
    community = (
        selectors.communities_managed(user=request.user)
        .filter(pk=request.POST.get("community") or None)
        .first()
    )
    if community is None:
        messages.error(request, _("Choose a community to copy the template into."))
        return redirect("participation:surveys")
    try:
        survey = services.survey_copy_template(
            actor=request.user, template=template, community=community
        )
    except ValidationError as error:
        messages.error(request, _message(error))
        return redirect("participation:surveys")
    messages.success(request, _("Template copied. Review it, then open it for answers."))
    return redirect("participation:survey_edit", survey.pk)


@login_required
def survey_edit(request, survey_id: int):
    _require_staff(request.user)
    survey = selectors.survey_get_managed(user=request.user, survey_id=survey_id)
    form = SurveyForm(
        request.POST or None,
        initial={
            "title": survey.title,
            "description": survey.description,
            "anonymous": survey.anonymous,
            "free_text_prompt": survey.free_text_prompt,
            "closes_at": survey.closes_at,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_update(actor=request.user, survey=survey, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Survey saved."))
            return redirect("participation:survey_edit", survey.pk)
    context = {
        "survey": survey,
        "form": form,
        "structure": selectors.survey_structure(survey),
        "factors": survey.factors.all(),
    }
    return render(request, "participation/surveys/edit.html", context)


def _staff_action(request, survey_id: int, action, success: str):
    _require_staff(request.user)
    survey = selectors.survey_get_managed(user=request.user, survey_id=survey_id)
    try:
        action(survey)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, success)
    return redirect("participation:survey_edit", survey.pk)


@login_required
@require_POST
def factor_add(request, survey_id: int):
    return _staff_action(
        request,
        survey_id,
        lambda survey: services.factor_add(
            actor=request.user, survey=survey, name=request.POST.get("name", "")
        ),
        _("Factor added."),
    )


@login_required
@require_POST
def item_add(request, survey_id: int):
    def add(survey):
        factor = SurveyFactor.objects.filter(
            survey=survey, pk=request.POST.get("factor") or None
        ).first()
        services.item_add(
            actor=request.user,
            survey=survey,
            factor=factor,
            text=request.POST.get("text", ""),
            reverse_scored=request.POST.get("reverse_scored") == "on",
        )

    return _staff_action(request, survey_id, add, _("Item added."))


@login_required
@require_POST
def item_delete(request, survey_id: int, item_id: int):
    def delete(survey):
        item = SurveyItem.objects.filter(survey=survey, pk=item_id).first()
        if item is None:
            raise Http404
        services.item_delete(actor=request.user, item=item)

    return _staff_action(request, survey_id, delete, _("Item removed."))


@login_required
@require_POST
def factor_delete(request, survey_id: int, factor_id: int):
    def delete(survey):
        factor = SurveyFactor.objects.filter(survey=survey, pk=factor_id).first()
        if factor is None:
            raise Http404
        services.factor_delete(actor=request.user, factor=factor)

    return _staff_action(request, survey_id, delete, _("Factor removed."))


@login_required
@require_POST
def survey_open(request, survey_id: int):
    return _staff_action(
        request,
        survey_id,
        lambda survey: services.survey_open(actor=request.user, survey=survey),
        _("The survey is open for answers."),
    )


@login_required
@require_POST
def survey_close(request, survey_id: int):
    return _staff_action(
        request,
        survey_id,
        lambda survey: services.survey_close(actor=request.user, survey=survey),
        _("The survey is closed."),
    )


@login_required
def survey_share(request, survey_id: int):
    _require_staff(request.user)
    survey = selectors.survey_get_managed(user=request.user, survey_id=survey_id)
    url = request.build_absolute_uri(reverse("participation:survey_answer", args=[survey.pk]))
    qr_svg = segno.make(url, error="m").svg_inline(scale=6, dark="#111", light="#fff")
    return render(
        request,
        "participation/surveys/share.html",
        {"survey": survey, "url": url, "qr_svg": qr_svg},
    )


# Answering --------------------------------------------------------------------------------


@login_required
def survey_answer(request, survey_id: int):
    survey = selectors.survey_get_for_respondent(user=request.user, survey_id=survey_id)
    answered = selectors.has_responded(user=request.user, survey=survey)
    errors: dict[str, list[str]] = {}
    chosen: dict[int, str] = {}
    if request.method == "POST" and not answered:
        answers = {}
        for item in survey.items.all():
            value = request.POST.get(f"item_{item.pk}", "")
            answers[item.pk] = value
            chosen[item.pk] = value
        try:
            services.survey_respond(
                actor=request.user,
                survey=survey,
                answers=answers,
                free_text=request.POST.get("free_text", ""),
            )
        except ValidationError as error:
            errors = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        else:
            messages.success(request, _("Thank you: your answers are saved."))
            return redirect("participation:survey_answer", survey.pk)
    structure = [
        {
            "factor": part["factor"],
            "items": [
                {
                    "item": item,
                    "chosen": chosen.get(item.pk, ""),
                    "errors": errors.get(f"item_{item.pk}", []),
                }
                for item in part["items"]
            ],
        }
        for part in selectors.survey_structure(survey)
    ]
    other_errors = [m for key, ms in errors.items() if not key.startswith("item_") for m in ms]
    context = {
        "survey": survey,
        "answered": answered,
        "structure": structure,
        "scale": [(str(value), label) for value, label in LIKERT_LABELS],
        "has_errors": bool(errors),
        "other_errors": other_errors,
        "free_text": request.POST.get("free_text", ""),
    }
    return render(
        request, "participation/surveys/answer.html", context, status=400 if errors else 200
    )


# Results ----------------------------------------------------------------------------------


@login_required
def survey_results(request, survey_id: int):
    if not selectors.may_read_results(request.user):
        raise Http404
    survey = selectors.survey_get_results(user=request.user, survey_id=survey_id)
    data = selectors.survey_results(user=request.user, survey=survey)
    names = [factor.name for factor in data["factors"]]
    chart = {
        "factors": names,
        "units": [
            {
                "name": row["unit"].name,
                "scores": [None if s is None else round(s, 2) for s in row["scores"]],
            }
            for row in data["rows"]
        ],
    }
    context = {
        "survey": survey,
        "data": data,
        "factor_alphas": list(zip(data["factors"], data["alphas"], strict=True)),
        "chart": chart,
        "may_manage": selectors.may_manage(request.user, survey.grid_path),
    }
    return render(request, "participation/surveys/results.html", context)
