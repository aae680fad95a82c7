from functools import cache

from linli.accounts.roles import Permission
from linli.emergency.models import Grade
from linli.emergency.selectors import live_activations_for
from linli.grids.selectors import scope_for


def _banner(user) -> list[dict]:
    return [
        {**activation, "grade_label": Grade(activation["grade"]).label}
        for activation in live_activations_for(user=user)
    ]


def emergency(request):
    """The emergency banner and menu: every page shows the live emergencies that concern
    the person. Read from the cache (see selectors.live_activations), so no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"live_emergencies": list, "emergency_nav": {}}
    scope = scope_for(user)
    return {
        "live_emergencies": cache(lambda: _banner(user)),
        "emergency_nav": {
            "staff": scope.allows_anywhere(Permission.EMERGENCY_HELP),
            "plans": scope.allows_anywhere(Permission.EMERGENCY_PLANS),
        },
    }
