from django.utils.functional import SimpleLazyObject

from linli.accounts.roles import Permission
from linli.grids.selectors import scope_for
from linli.web.selectors import posts_of_user


def navigation(request):
    """What the shell's menu offers this user: derived from their scope, never hand-coded."""
    user = getattr(request, "user", None)
    scope = scope_for(user)
    return {
        "nav": {
            "registry": scope.allows_anywhere(Permission.VIEW_REGISTRY),
            "visits": scope.allows_anywhere(Permission.RECORD_VISIT),
            "import": scope.allows_anywhere(Permission.IMPORT_REGISTRY),
            "export": scope.allows_anywhere(Permission.EXPORT_REGISTRY),
            "audit": scope.allows_anywhere(Permission.VIEW_AUDIT),
            "own_household": bool(scope.own_household_ids),
            # The posts are only read when a page shows the top bar.
            "posts": SimpleLazyObject(lambda: posts_of_user(user=user) if user else []),
        }
    }
