from functools import cache

from linli.accounts.roles import Permission
from linli.emergency.selectors import active_activations_for
from linli.grids.selectors import scope_for


def emergency(request):
    """The emergency banner and menu: every page shows the live emergencies that concern
    the person (their staff scope, their tasks, their household). A cached callable, so
    pages that do not show the shell run no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"live_emergencies": list, "emergency_nav": {}}
    scope = scope_for(user)
    return {
        "live_emergencies": cache(lambda: active_activations_for(user=user)),
        "emergency_nav": {
            "staff": scope.allows_anywhere(Permission.EMERGENCY_HELP),
            "plans": scope.allows_anywhere(Permission.EMERGENCY_PLANS),
        },
    }
