"""The category and time-limit editor: the shared two-level tree of case classes.

Street administrators edit it (cases.services.category_*); a secretary, who holds the same
permission on one community, sees it read-only, since a change reaches every community.
Anyone else gets 404, as for any page outside their posts. A secretary who reaches an edit
address gets 403: they know the page, they may not use it.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.cases import selectors, services
from linli.cases.models import CaseCategory
from linli.forms import form_add_errors


def _require_viewer(user) -> None:
    if not services.may_view_category_editor(user):
        raise Http404


def _require_editor(user) -> None:
    _require_viewer(user)
    if not services.may_edit_categories(user):
        raise PermissionDenied


def sla_days(hours: int | None) -> str:
    """A limit of a day or more also reads in days: 72 → "3", 36 → "1.5"."""
    if not hours or hours < 24:
        return ""
    return str(hours // 24) if hours % 24 == 0 else f"{hours / 24:.1f}"


@login_required
def category_list(request):
    _require_viewer(request.user)
    tree = selectors.category_tree_with_counts(user=request.user)
    for _major, minors in tree:
        for minor in minors:
            minor.sla_days = sla_days(minor.sla_hours)
    return render(
        request,
        "cases/category_list.html",
        {
            "tree": tree,
            "can_edit": services.may_edit_categories(request.user),
        },
    )


class CategoryForm(forms.Form):
    """The editable fields; the service validates them (codes, limits, names)."""

    name_zh = forms.CharField(label=gettext_lazy("Chinese name"), required=False)
    name_en = forms.CharField(label=gettext_lazy("English name"), required=False)
    sla_hours = forms.IntegerField(label=gettext_lazy("Time limit (hours)"), required=False)
    acceptance_condition = forms.CharField(required=False)
    closing_condition = forms.CharField(required=False)
    usual_handler = forms.CharField(required=False)
    is_public = forms.BooleanField(required=False)
    # Offered on an inactive class only; an active one is deactivated by its own button.
    is_active = forms.BooleanField(required=False)


class CategoryNewForm(CategoryForm):
    parent = forms.ModelChoiceField(queryset=CaseCategory.objects.none(), required=False)
    code = forms.CharField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["is_active"]
        self.fields["parent"].queryset = CaseCategory.objects.filter(
            parent__isnull=True, is_active=True
        )


@login_required
def category_new(request):
    _require_editor(request.user)
    initial = {"is_public": True}
    parent_id = request.GET.get("parent", "")
    if parent_id.isdigit():
        initial["parent"] = int(parent_id)
    form = CategoryNewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            category = services.category_create(
                actor=request.user,
                parent=data["parent"],
                code=data["code"],
                name_zh=data["name_zh"],
                name_en=data["name_en"],
                sla_hours=data["sla_hours"],
                acceptance_condition=data["acceptance_condition"],
                closing_condition=data["closing_condition"],
                usual_handler=data["usual_handler"],
                is_public=data["is_public"],
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Category %(code)s created.") % {"code": category.code})
            return redirect("cases:categories")
    return render(
        request,
        "cases/category_form.html",
        {"form": form, "category": None, "majors": form.fields["parent"].queryset},
    )


@login_required
def category_edit(request, category_id: int):
    _require_editor(request.user)
    category = get_object_or_404(CaseCategory.objects.select_related("parent"), pk=category_id)
    form = CategoryForm(request.POST or None, initial={"is_active": category.is_active})
    if category.is_major:
        del form.fields["sla_hours"]
    if category.is_active:
        del form.fields["is_active"]
    fields = list(form.fields)
    form.initial.update({name: getattr(category, name) for name in fields})
    if request.method == "POST" and form.is_valid():
        try:
            services.category_update(
                actor=request.user,
                category=category,
                **{name: form.cleaned_data[name] for name in fields},
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Category %(code)s saved.") % {"code": category.code})
            return redirect("cases:categories")
    return render(request, "cases/category_form.html", {"form": form, "category": category})


@login_required
@require_POST
def category_deactivate(request, category_id: int):
    _require_editor(request.user)
    category = get_object_or_404(CaseCategory, pk=category_id)
    try:
        services.category_deactivate(actor=request.user, category=category)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Category %(code)s deactivated: it is no longer offered for new cases.")
            % {"code": category.code},
        )
    return redirect("cases:categories")
