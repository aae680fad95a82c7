"""One step from a visit finding to a case (寻访 → 立案): the building-group leader picks a
category, the finding becomes the description, and the case is filed at the visited
household's building through `cases.services.case_from_visit`."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.roles import Permission
from linli.cases import services
from linli.cases.models import CaseCategory
from linli.forms import form_add_errors
from linli.grids import selectors as grid_selectors
from linli.grids.selectors import scope_for


class VisitCaseForm(forms.Form):
    category = forms.ModelChoiceField(
        queryset=CaseCategory.objects.none(), label=gettext_lazy("Category")
    )
    description = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 4}), label=gettext_lazy("Description")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = CaseCategory.objects.filter(
            parent__isnull=False, is_active=True
        ).select_related("parent")
        self.fields["category"].label_from_instance = lambda c: f"{c.parent.name} · {c.name}"


@login_required
def case_from_visit(request, visit_id: int):
    user = request.user
    visit = grid_selectors.visit_get(user=user, visit_id=visit_id)
    # Whoever may record visits here turns one into a case; a resident reads their own
    # household's visits but files problems through the ordinary form.
    if not scope_for(user).allows(Permission.RECORD_VISIT, visit.grid_path):
        raise Http404
    existing = list(visit.cases.order_by("id"))
    form = VisitCaseForm(request.POST or None, initial={"description": visit.finding})
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_from_visit(
                actor=user,
                visit=visit,
                category=form.cleaned_data["category"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(
                request, _("Case %(reference)s filed. Thank you.") % {"reference": case.reference}
            )
            return redirect("cases:detail", case.pk)
    return render(
        request,
        "cases/case_from_visit.html",
        {"visit": visit, "form": form, "existing": existing},
    )
