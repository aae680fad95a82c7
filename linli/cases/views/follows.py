"""Following a case, and following an area (a building group or micro-grid) for its new
public cases: one POST each, for whoever may see the case or the area (404 otherwise, as for
a case that does not exist). Messages then come from linli.cases.services.notices."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.cases import selectors
from linli.cases.services.notices import FOLLOWED_AREA_LEVELS, case_target
from linli.grids import selectors as grid_selectors
from linli.notify.selectors import area_target
from linli.notify.services import follow, unfollow


def _toggle(request, target: str) -> bool:
    """Follow, or stop following when the form says `follow=0`; True when now following."""
    if request.POST.get("follow") == "0":
        unfollow(user=request.user, target=target)
        return False
    follow(user=request.user, target=target)
    return True


@login_required
@require_POST
def case_follow(request, case_id: int):
    case = selectors.case_get(user=request.user, case_id=case_id)
    if _toggle(request, case_target(case.pk)):
        messages.success(request, _("You follow this case: you will hear when its state changes."))
    else:
        messages.success(request, _("You no longer follow this case."))
    return redirect("cases:detail", case.pk)


@login_required
@require_POST
def area_follow(request, grid_unit_id: int):
    unit = grid_selectors.grid_unit_get(user=request.user, grid_unit_id=grid_unit_id)
    if unit.level not in FOLLOWED_AREA_LEVELS:
        raise Http404
    if _toggle(request, area_target(unit.path)):
        messages.success(
            request,
            _("You follow %(area)s: you will hear of new public cases filed there.")
            % {"area": unit.name},
        )
    else:
        messages.success(
            request, _("You no longer follow new cases in %(area)s.") % {"area": unit.name}
        )
    return redirect("grids:grid_detail", unit.pk)
