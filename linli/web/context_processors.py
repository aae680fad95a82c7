from django.utils.functional import SimpleLazyObject

from linli.accounts.roles import Permission, Role
from linli.grids.selectors import posts_of_user, scope_for


def navigation(request):
    """What the shell's menu offers this user: derived from their scope, never hand-coded."""
    user = getattr(request, "user", None)
    scope = scope_for(user)
    return {
        "nav": {
            "registry": scope.allows_anywhere(Permission.VIEW_REGISTRY),
            "visits": scope.allows_anywhere(Permission.RECORD_VISIT),
            "sensitive": scope.allows_anywhere(Permission.VIEW_SENSITIVE),
            "import": scope.allows_anywhere(Permission.IMPORT_REGISTRY),
            "export": scope.allows_anywhere(Permission.EXPORT_REGISTRY),
            "audit": scope.allows_anywhere(Permission.VIEW_AUDIT),
            # Logins, posts and resets in the platform (linli.logins): whoever assigns posts.
            "logins": scope.allows_anywhere(Permission.MANAGE_ROLES),
            "own_household": bool(scope.own_household_ids),
            "lists": bool(scope.roles & {"partner_liaison", "volunteer"})
            or scope.allows_anywhere(Permission.VIEW_REGISTRY)
            or bool(scope.own_household_ids),
            "supplies": scope.allows_anywhere(Permission.SUPPLIES_MANAGE)
            or scope.allows_anywhere(Permission.PARTNERS_VIEW),
            "volunteers": scope.allows_anywhere(Permission.VOLUNTEERS_VIEW),
            "activities_manage": scope.allows_anywhere(Permission.ACTIVITIES_MANAGE),
            # The scheduled jobs page (linli.ops): street administrators and superusers.
            "jobs": scope.unrestricted or Role.STREET_ADMIN in scope.roles,
            # The posts are only read when a page shows the top bar.
            "posts": SimpleLazyObject(lambda: posts_of_user(user=user) if user else []),
        }
    }
