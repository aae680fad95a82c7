from linli.accounts.roles import Permission
from linli.grids.selectors import scope_for


def navigation(request):
    """What the shell's menu offers this user: derived from their scope, never hand-coded."""
    user = getattr(request, "user", None)
    scope = scope_for(user)
    return {
        "nav": {
            "registry": scope.allows_anywhere(Permission.VIEW_REGISTRY),
            "visits": scope.allows_anywhere(Permission.RECORD_VISIT),
            "import": scope.allows_anywhere(Permission.IMPORT_REGISTRY),
            "audit": scope.allows_anywhere(Permission.VIEW_AUDIT),
            "own_household": bool(scope.own_household_ids),
        }
    }
