"""The "follow new cases here" button of a building group's or micro-grid's page (the
registry's grid page), posting to cases' area_follow view, which checks visibility again."""

from django import template

from linli.cases.services.notices import FOLLOWED_AREA_LEVELS
from linli.grids.models import GridUnit
from linli.notify.selectors import area_target, is_following

register = template.Library()


@register.inclusion_tag("cases/_area_follow.html", takes_context=True)
def area_follow_button(context, unit: GridUnit) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    shown = user is not None and user.is_authenticated and unit.level in FOLLOWED_AREA_LEVELS
    return {
        "shown": shown,
        "unit": unit,
        "following": shown and is_following(user=user, target=area_target(unit.path)),
        "csrf_token": context.get("csrf_token"),
    }
